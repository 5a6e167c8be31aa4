"""Output destinations: links written through, devices and FIFOs written directly, '-' is stdout."""

from __future__ import annotations

import errno
import os
import stat
import threading

import pytest

from actcheck.files import check_writable, destination, write_atomically


def _write(text: str):
    def write(tmp: str) -> None:
        with open(tmp, "w") as f:
            f.write(text)

    return write


def _mknod(path, major: int, minor: int) -> None:
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
    except PermissionError:
        pytest.skip("making device nodes needs root")


def test_symlink_is_written_through_to_its_target(tmp_path):
    (tmp_path / "real.json").write_text("old")
    (tmp_path / "link.json").symlink_to("real.json")
    written = write_atomically(tmp_path / "link.json", _write("new"))
    assert (tmp_path / "link.json").is_symlink()
    assert (tmp_path / "real.json").read_text() == "new"
    assert written == (tmp_path / "real.json").resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_dangling_symlink_creates_its_target(tmp_path):
    (tmp_path / "link.json").symlink_to("sub.json")
    write_atomically(tmp_path / "link.json", _write("x"))
    assert (tmp_path / "link.json").is_symlink()
    assert (tmp_path / "sub.json").read_text() == "x"


def test_link_into_another_folder_writes_there(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "out.png").symlink_to(tmp_path / "b" / "fig.png")
    write_atomically(tmp_path / "a" / "out.png", _write("png"))
    assert (tmp_path / "b" / "fig.png").read_text() == "png"
    assert os.listdir(tmp_path / "b") == ["fig.png"]


def test_null_device_is_written_not_replaced(tmp_path):
    null = tmp_path / "null"
    _mknod(null, 1, 3)
    write_atomically(null, _write("discarded"))
    assert stat.S_ISCHR(os.stat(null).st_mode)
    assert os.listdir(tmp_path) == ["null"]


def test_full_device_reports_disk_full(tmp_path):
    full = tmp_path / "full"
    _mknod(full, 1, 7)
    with pytest.raises(OSError) as err:
        write_atomically(full, _write("x" * 100))
    assert err.value.errno == errno.ENOSPC
    assert stat.S_ISCHR(os.stat(full).st_mode)


def test_fifo_is_written_directly(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_atomically(fifo, _write("through the pipe"))
    reader.join(10)
    assert got == [b"through the pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_dash_is_stdout(capfdbinary):
    assert destination("-").kind == "stdout"
    check_writable("-")
    write_atomically("-", _write("to stdout\n"))
    assert capfdbinary.readouterr().out == b"to stdout\n"


def test_dev_stdout_is_a_stream_not_a_file():
    assert destination("/dev/stdout").kind == "stream"
    assert destination("/proc/self/fd/1").kind == "stream"


def test_link_to_dev_stdout_is_a_stream(tmp_path):
    (tmp_path / "out").symlink_to("/dev/stdout")
    assert destination(tmp_path / "out").kind == "stream"


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")

    def broken(tmp: str) -> None:
        with open(tmp, "w") as f:
            f.write("half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_atomically(target, broken)
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.json"]


def test_directory_and_missing_folder_are_refused(tmp_path):
    with pytest.raises(IsADirectoryError):
        check_writable(tmp_path)
    with pytest.raises(FileNotFoundError):
        check_writable(tmp_path / "nope" / "out.json")
