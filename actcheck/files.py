"""Output files written atomically: a temporary file beside the target, then a rename.

A crash, an exception or Ctrl-C while writing leaves either the old file or
none, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise OSError now, before any work, when ``path`` could not be written."""
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{os.fspath(path)!r} is a directory")
    folder = target.absolute().parent
    if not folder.is_dir():
        raise FileNotFoundError(f"directory {os.fspath(folder)!r} does not exist")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise PermissionError(f"cannot write {os.fspath(path)!r}: permission denied")


def write_atomically(path: str | os.PathLike[str], write: Callable[[str], None]) -> Path:
    """Call ``write(tmp)`` on a temporary path in ``path``'s folder, then rename it to ``path``.

    Whatever ``write`` raises propagates, and the temporary file is removed.
    """
    target = Path(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".part", dir=target.absolute().parent
    )
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
    return target


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
