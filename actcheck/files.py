"""Output files: never half-written, never a node or a link replaced by a plain file.

Where an output goes decides how it is written:

* ``-``: standard output (the bytes are made in a temporary file first, so a
  failed run writes nothing);
* a regular file, or a new name: atomically, a temporary file in the target's
  own folder then a rename over it. A symlink is followed first, so the link
  stays and its target receives the file. A crash, an exception, Ctrl-C or
  SIGTERM while writing leaves the old file or none, and no temporary file;
* a character device, a FIFO or a socket (``/dev/null``, ``/dev/stdout``, a
  named pipe): written directly, since renaming over it would replace the node.
  A short write (``/dev/full``: disk full) is an error like any other.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STDOUT = "-"


@dataclass(frozen=True)
class Destination:
    """Where an output path really leads: ``kind`` is "stdout", "file" or "stream"."""

    kind: str
    path: Path  # the file to replace for "file"; the node to open for "stream"


def destination(path: str | os.PathLike[str]) -> Destination:
    """Resolve ``path`` (``-``, a file, a symlink, a device, a FIFO) to where bytes go."""
    text = os.fspath(path)
    if text == STDOUT:
        return Destination("stdout", Path(text))
    try:
        mode = os.stat(text).st_mode  # follows links
    except FileNotFoundError:
        mode = None
    except OSError as err:
        raise OSError(err.errno, err.strerror, text) from None
    real = Path(os.path.realpath(text))
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "it is a directory", text)
    special = mode is not None and not stat.S_ISREG(mode)
    if special or _names_a_descriptor(text):
        return Destination("stream", Path(text))
    return Destination("file", real)


def _names_a_descriptor(text: str) -> bool:
    """Whether ``text`` leads through /dev or /proc (``/dev/stdout``, ``/proc/self/fd/1``).

    Such a name stands for an open descriptor: replacing the regular file it
    resolves to would cut that file away from whoever holds it open.
    """
    current = os.path.abspath(text)
    for _ in range(40):  # the kernel's own limit on links followed
        if Path(current).parts[1:2] in (("dev",), ("proc",)):
            return True
        if not os.path.islink(current):
            return False
        current = os.path.join(os.path.dirname(current), os.readlink(current))
        current = os.path.abspath(current)
    return False


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise OSError now, before any work, when ``path`` could not be written."""
    dest = destination(path)
    if dest.kind == "stdout":
        return
    if dest.kind == "stream":
        if not os.access(dest.path, os.W_OK):
            raise PermissionError(errno.EACCES, "permission denied", os.fspath(path))
        return
    folder = dest.path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"directory {os.fspath(folder)!r} does not exist")
    if not os.access(folder, os.W_OK) or (dest.path.exists() and not os.access(dest.path, os.W_OK)):
        raise PermissionError(errno.EACCES, "permission denied", os.fspath(path))


def write_atomically(path: str | os.PathLike[str], write: Callable[[str], None]) -> Path:
    """Call ``write(tmp)`` on a temporary path, then put its bytes where ``path`` leads.

    Whatever ``write`` or the copy raises propagates, and the temporary file is
    removed. Returns the path written (the link's target for a symlink).
    """
    dest = destination(path)
    if dest.kind == "file":
        _replace(dest.path, write)
        return dest.path
    with tempfile.TemporaryDirectory(prefix="actcheck-") as folder:
        tmp = os.path.join(folder, "output")
        write(tmp)
        if dest.kind == "stdout":
            _copy_to_stdout(tmp)
        else:
            with open(tmp, "rb") as src, open(dest.path, "wb") as out:
                shutil.copyfileobj(src, out)
    return dest.path


def _replace(target: Path, write: Callable[[str], None]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp creates the file 0600; give it the mode a plain open() would have
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _copy_to_stdout(tmp: str) -> None:
    sys.stdout.flush()
    out = getattr(sys.stdout, "buffer", None)
    with open(tmp, "rb") as src:
        if out is None:  # a text-only stdout (a notebook, a test runner's capture)
            sys.stdout.write(src.read().decode("utf-8", "replace"))
        else:
            shutil.copyfileobj(src, out)
    sys.stdout.flush()


def write_npz(path: str | os.PathLike[str], arrays: dict[str, Any]) -> None:
    """``arrays`` as an uncompressed NumPy ``.npz`` archive whose bytes depend only on the data.

    ``numpy.savez`` stamps each member with the current time; this writes the same
    format (``numpy.load`` reads it) with a fixed time, so equal runs give equal files.
    """
    import zipfile

    import numpy as np

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
