"""The reliability battery: actcheck under hostile code, odd files, closed pipes, signals,
odd environments and huge inputs (issue 11). Each case runs ``python -m actcheck`` in a
subprocess, as a user or a CI job would, and checks the exit code, the output and what
is left on disk. No case asserts a time."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def actcheck(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120):
    """``python -m actcheck ARGS`` in ``cwd``: the CompletedProcess (bytes)."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "actcheck", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def python_c(script: str, cwd: Path, timeout: float = 120):
    """``python -c SCRIPT`` in ``cwd`` with this checkout importable: the CompletedProcess."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, timeout=timeout
    )


def user_file(folder: Path, name: str, body: str) -> str:
    (folder / name).write_text(textwrap.dedent(body))
    return name


RELU = """
    import numpy as np

    class Relu:
        def forward(self, x):
            self.x = x
            return np.maximum(x, 0)

        def backward(self, dout):
            return dout * (self.x > 0)
    """


def no_traceback(p: subprocess.CompletedProcess) -> None:
    assert b"Traceback" not in p.stderr + (p.stdout or b""), p.stderr.decode()


# ---------------------------------------------------------------------------
# 4. The user's code cannot fake a pass or break actcheck
# ---------------------------------------------------------------------------


def test_os_exit_zero_in_forward_is_a_failure(tmp_path):
    body = RELU.replace("self.x = x", "import os; os._exit(0)")
    p = actcheck("gradcheck", "--impl", user_file(tmp_path, "m.py", body) + ":Relu", cwd=tmp_path)
    assert p.returncode == 1
    assert b"your code ended the process (os._exit(0)) during forward" in p.stdout
    no_traceback(p)


def test_os_exit_zero_at_import_is_a_failure(tmp_path):
    body = "import os\nos._exit(0)\n" + textwrap.dedent(RELU)
    p = actcheck("gradcheck", "--impl", user_file(tmp_path, "m.py", body) + ":Relu", cwd=tmp_path)
    assert p.returncode == 1
    assert b"os._exit(0)) while loading it" in p.stdout


def test_an_endless_loop_is_stopped_by_the_timeout(tmp_path):
    body = RELU.replace("self.x = x", "while True: pass")
    spec = user_file(tmp_path, "m.py", body) + ":Relu"
    p = actcheck("gradcheck", "--impl", spec, "--timeout", "1", "--json", cwd=tmp_path)
    assert p.returncode == 1
    data = json.loads(p.stdout)
    assert data["passed"] is False
    assert "did not finish within 1 s" in data["checks"][0]["details"]


def test_a_crash_is_reported_as_the_users(tmp_path):
    body = RELU.replace("self.x = x", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    p = actcheck("gradcheck", "--impl", user_file(tmp_path, "m.py", body) + ":Relu", cwd=tmp_path)
    assert p.returncode == 1
    assert b"killed by SIGSEGV during forward" in p.stdout


def test_writes_to_fd_1_cannot_corrupt_json(tmp_path):
    body = "import os\nos.write(1, b'{garbage')\n" + textwrap.dedent(RELU).replace(
        "self.x = x", "self.x = x; print('in forward')"
    )
    spec = user_file(tmp_path, "m.py", body) + ":Relu"
    p = actcheck("gradcheck", "--impl", spec, "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)  # strict: nothing else on stdout
    assert "{garbage" in data["printed"] and "in forward" in data["printed"]
    human = actcheck("gradcheck", "--impl", spec, cwd=tmp_path)
    assert b"your code printed" in human.stdout and b"{garbage" in human.stdout


@pytest.mark.parametrize("exc", ["GeneratorExit", "KeyboardInterrupt", "SystemExit(0)"])
def test_base_exceptions_are_the_users(tmp_path, exc):
    body = RELU.replace("self.x = x", f"raise {exc}")
    p = actcheck("gradcheck", "--impl", user_file(tmp_path, "m.py", body) + ":Relu", cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    no_traceback(p)


def test_a_keyboard_interrupt_the_code_raises_after_some_checks_is_a_failure(tmp_path):
    """Only the parent's Ctrl-C makes a partial report: the code's own KeyboardInterrupt,
    even after some checks passed, fails the check (it cannot fake a pass)."""
    body = HANGS.replace('open("hanging", "w").close()', "raise KeyboardInterrupt")
    spec = user_file(tmp_path, "m.py", "STUBBORN = False\n" + textwrap.dedent(body)) + ":Relu"
    p = actcheck("gradcheck", "--impl", spec, "--json", cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    data = json.loads(p.stdout)
    assert data["passed"] is False and data["interrupted"] is False
    assert "your code raised KeyboardInterrupt during backward" in data["checks"][-1]["details"]


def test_chdir_at_import_is_harmless(tmp_path):
    (tmp_path / "sub").mkdir()
    body = "import os\nos.chdir(os.path.dirname(__file__))\nos.chdir('/')\n" + textwrap.dedent(RELU)
    spec = user_file(tmp_path / "sub", "m.py", body)
    p = actcheck("gradcheck", "--impl", f"sub/{spec}:Relu", cwd=tmp_path)
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()


# A file that patches numpy at import so that every error looks like zero (nnfs.init()
# replaces np.dot in the same way): in-process this fakes a pass; the CLI must not be fooled.
FAKER = """
    import numpy as np

    _abs, _max = np.abs, np.max
    np.abs = np.absolute = np.fabs = lambda x, *a, **k: _abs(x, *a, **k) * 0.0
    np.max = np.amax = lambda *a, **k: 0.0 * _max(*a, **k)
    np.isclose = lambda *a, **k: True
    np.allclose = lambda *a, **k: True
    np.seterr(all="raise")

    class Relu:
        def forward(self, x):
            self.x = x
            return np.maximum(x, 0)

        def backward(self, dout):
            assert np.isclose(1, 2)  # the user's code still sees its own patches
            return dout * (self.x > 0) * 2.0
    """


def test_numpy_patched_at_import_cannot_change_actchecks_numerics(tmp_path):
    spec = user_file(tmp_path, "faker.py", FAKER) + ":Relu"
    p = actcheck("gradcheck", "--impl", spec, "--json", cwd=tmp_path)
    assert p.returncode == 1, p.stderr
    failed = [c["name"] for c in json.loads(p.stdout)["checks"] if c["status"] == "fail"]
    # the factor of 2 fails the derivative rows (the main one, and the tails' since issue 10)
    assert "dx vs numerical derivative" in failed
    assert all(name.startswith("dx ") for name in failed), failed


def test_impl_printing_beside_a_pass_keeps_exit_0_and_the_json_clean(tmp_path):
    body = textwrap.dedent(RELU).replace("self.x = x", "self.x = x; print('x', x.shape)")
    spec = user_file(tmp_path, "m.py", body) + ":Relu"
    p = actcheck("gradcheck", "--impl", spec, "--json", cwd=tmp_path)
    assert p.returncode == 0
    assert json.loads(p.stdout)["passed"] is True


@pytest.mark.parametrize("shape", ["100000,100000", ",".join(["1"] * 67)])
def test_impl_shapes_too_big_are_refused(tmp_path, shape):
    spec = user_file(tmp_path, "m.py", RELU) + ":Relu"
    p = actcheck("gradcheck", "--impl", spec, "--shape", shape, cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.count(b"\n") == 1, p.stderr
    assert b"at most" in p.stderr


# ---------------------------------------------------------------------------
# 1. '-' and odd destinations in every option that names a file
# ---------------------------------------------------------------------------

XOR = ["train-xor", "relu", "--seeds", "3", "--epochs", "20", "-q"]


@pytest.mark.parametrize(
    ("args", "magic"),
    [
        (["plot", "relu", "-o", "-"], b"\x89PNG"),
        (["plot", "relu", "-o", "/dev/stdout"], b"\x89PNG"),
        (["gradcheck", "relu", "--points", "100", "--plot", "-"], b"\x89PNG"),
        ([*XOR, "-o", "-"], b"\x89PNG"),
        ([*XOR, "-o", "x.png", "--decision-boundary", "-"], b"\x89PNG"),
        ([*XOR, "-o", "x.png", "--histories", "-"], b"PK\x03\x04"),
        ([*XOR, "-o", "x.png", "--csv", "-"], b"activation,seed,"),
    ],
)
def test_dash_writes_to_stdout_and_nothing_else_goes_there(tmp_path, args, magic):
    p = actcheck(*args, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(magic), p.stdout[:40]
    assert b"Wrote" not in p.stdout and b"wrote" not in p.stdout
    assert not (tmp_path / "-").exists()


def test_two_outputs_on_stdout_are_refused(tmp_path):
    for args in ([*XOR, "-o", "-", "--json"], [*XOR, "-o", "-", "--csv", "-"]):
        p = actcheck(*args, cwd=tmp_path)
        assert p.returncode == 2 and b"both write to stdout" in p.stderr
    assert os.listdir(tmp_path) == []


def test_csv_through_a_symlink_and_to_devices(tmp_path):
    (tmp_path / "real.csv").write_text("old")
    (tmp_path / "link.csv").symlink_to("real.csv")
    p = actcheck(*XOR, "-o", "/dev/null", "--csv", "link.csv", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "link.csv").is_symlink()
    assert (tmp_path / "real.csv").read_text().startswith("activation,seed,")
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_a_full_device_is_reported_as_disk_full(tmp_path):
    full = tmp_path / "full"
    try:
        os.mknod(full, 0o666 | 0o020000, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("making device nodes needs root")
    p = actcheck(*XOR, "-o", "x.png", "--csv", str(full), cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip().endswith(b"no space left on device"), p.stderr
    assert b"Errno" not in p.stderr and b"cannot write CSV file" in p.stderr
    assert stat.S_ISCHR(os.stat(full).st_mode)  # the node is still a device


# ---------------------------------------------------------------------------
# 2, 3. A closed stdout keeps the code earned; files are written first
# ---------------------------------------------------------------------------


def actcheck_closed_stdout(
    *args: str, cwd: Path, stderr_too: bool = False
) -> subprocess.CompletedProcess:
    """``actcheck ARGS | true`` (or ``2>&1 | true``): a pipe whose reader has already gone."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run(
            [sys.executable, "-m", "actcheck", *args],
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=write,
            stderr=write if stderr_too else subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["gradcheck", "relu", "--points", "200"], 0),
        (["gradcheck", "relu", "--points", "200", "--json"], 0),
        (["list"], 0),
        (["gradcheck", "--help"], 0),
        (["gradcheck", "--impl", "wrong.py:Relu"], 1),
        (["gradcheck", "relu:bogus=1"], 2),
    ],
)
def test_closed_stdout_ends_quietly_with_the_code_earned(tmp_path, args, code):
    user_file(tmp_path, "wrong.py", RELU.replace("(self.x > 0)", "(self.x > 0) * 2.0"))
    p = actcheck_closed_stdout(*args, cwd=tmp_path)
    assert p.returncode == code, p.stderr
    no_traceback(p)
    assert b"Exception ignored" not in p.stderr


@pytest.mark.parametrize(
    "args", [["list", "nosuch"], ["gradcheck", "--points", "0"], ["bogus"], ["plot", "--dpi", "x"]]
)
def test_a_usage_error_on_a_closed_stderr_still_exits_2(tmp_path, args):
    """``actcheck ... 2>&1 | true``: the message cannot be shown, the exit code still says why."""
    p = actcheck_closed_stdout(*args, cwd=tmp_path, stderr_too=True)
    assert p.returncode == 2
    assert os.listdir(tmp_path) == []


def test_train_xor_writes_its_files_before_stdout_closes(tmp_path):
    p = actcheck_closed_stdout(*XOR, "--csv", "r.csv", "--json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert sorted(os.listdir(tmp_path)) == ["r.csv", "xor-loss.png"]


# ---------------------------------------------------------------------------
# 9. Ctrl-C and SIGTERM: exit 130, what was computed is written, nothing half-written
# ---------------------------------------------------------------------------


def _wait_for_numpy(pid: int) -> None:
    """Until the process has loaded numpy: its command runs, the signal handlers are set."""
    for _ in range(600):
        try:
            if "numpy" in Path(f"/proc/{pid}/maps").read_text():
                return
        except OSError:
            return
        time.sleep(0.05)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
@pytest.mark.parametrize(
    ("sig", "closed"), [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)]
)
def test_a_signal_during_training_writes_what_was_computed(tmp_path, sig, closed):
    """``train-xor ... | tee log`` and Ctrl-C: the terminal signals both, tee dies first."""
    args = ["train-xor", "relu", "--seeds", "4", "--epochs", "1000000", "--json", "--csv", "r.csv"]
    read, write = os.pipe()
    if closed:
        os.close(read)
    child = subprocess.Popen(
        [sys.executable, "-m", "actcheck", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=write,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    os.close(write)
    _wait_for_numpy(child.pid)
    time.sleep(1.0)  # some epochs
    child.send_signal(sig)
    out = b""
    if not closed:
        with os.fdopen(read, "rb") as fh:
            out = fh.read()
    err = child.communicate(timeout=120)[1]
    assert child.returncode == 130, err
    no_traceback(subprocess.CompletedProcess(args, 130, out, err))
    if not closed:
        assert b"Interrupted" in err
        assert json.loads(out)["results"][0]["interrupted"] is True
    assert sorted(os.listdir(tmp_path)) == ["r.csv", "xor-loss.png"]  # and no .part file


def test_sigterm_while_writing_leaves_no_part_file(tmp_path):
    script = textwrap.dedent(
        """
        import os, signal, sys
        from actcheck.cli import prepare_process
        from actcheck.files import write_atomically

        prepare_process()

        def write(tmp):
            with open(tmp, "w") as fh:
                fh.write("half")
            os.kill(os.getpid(), signal.SIGTERM)
            fh.write("never")

        try:
            write_atomically("out.csv", write)
        except KeyboardInterrupt:
            sys.exit(130)
        """
    )
    p = python_c(script, tmp_path, timeout=60)
    assert p.returncode == 130, p.stderr
    assert os.listdir(tmp_path) == []


def test_ctrl_c_during_the_setup_of_many_seeds_stops_before_training():
    import numpy as np

    from actcheck import xor

    with pytest.raises(KeyboardInterrupt):
        xor._init_weights(np.arange(100_000), 4, "he", np.dtype("float64"), stop=[True])


def test_gradcheck_ctrl_c_reports_what_was_checked(tmp_path, monkeypatch):
    import importlib

    from click.testing import CliRunner

    from actcheck.cli import cli

    engine = importlib.import_module("actcheck.catalogcheck")

    real = engine.gradcheck

    def interrupted(act, **kwargs):
        if act.name == "elu":
            raise KeyboardInterrupt
        return real(act, **kwargs)

    monkeypatch.setattr(engine, "gradcheck", interrupted)
    monkeypatch.chdir(tmp_path)
    args = ["gradcheck", "relu", "tanh", "elu", "--points", "100", "--json", "--plot", "g.svg"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 130, res.output
    assert "Interrupted: 2 of 3 activations checked" in res.stderr
    assert [r["activation"] for r in json.loads(res.stdout)["results"]] == ["relu", "tanh"]
    assert os.listdir(tmp_path) == ["g.svg"]


def test_gradcheck_ctrl_c_midway_reports_the_points_checked(tmp_path, monkeypatch):
    """Ctrl-C while an activation's blocks are being checked: those blocks are reported,
    marked interrupted, with how far they got."""
    import importlib

    from click.testing import CliRunner

    from actcheck.cli import cli

    engine = importlib.import_module("actcheck.catalogcheck")
    real = engine.gradcheck
    monkeypatch.setattr(engine, "BLOCK_POINTS", 1_000)

    def interrupted(act, **kwargs):
        if act.name == "elu":
            calls = []

            def stop(done, total):
                calls.append(done)
                if len(calls) == 4:
                    raise KeyboardInterrupt

            kwargs["progress"] = stop
        return real(act, **kwargs)

    monkeypatch.setattr(engine, "gradcheck", interrupted)
    monkeypatch.chdir(tmp_path)
    base = ["gradcheck", "relu", "elu", "tanh", "--points", "10000"]
    res = CliRunner().invoke(cli, [*base, "--json", "--plot", "g.png"])
    assert res.exit_code == 130, res.output
    assert "Interrupted: 1 of 3 activations checked, elu partly (4,202 of" in res.stderr
    assert "of 10,564 points, up to x = -1.2)" in res.stderr
    results = json.loads(res.stdout)["results"]
    assert [(r["activation"], r["interrupted"]) for r in results] == [
        ("relu", False),
        ("elu", True),
    ]
    assert results[1]["checked_up_to"] == pytest.approx(-1.2)
    assert results[1]["points_planned"] == 10_564
    assert os.listdir(tmp_path) == ["g.png"]
    table = CliRunner().invoke(cli, base, terminal_width=120)
    assert table.exit_code == 130 and "interrupted" in table.stdout
    assert table.stdout.count("pass") == 4 and "(interrupted)" in table.stdout


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
def test_ctrl_c_in_a_long_gradcheck_writes_the_points_checked(tmp_path):
    """A 300-million-point check (seconds) and Ctrl-C after a second: exit 130, and the
    JSON holds the points checked so far."""
    args = ["gradcheck", "relu", "--points", "300000000", "--no-params", "--json"]
    child = subprocess.Popen(
        [sys.executable, "-m", "actcheck", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    _wait_for_numpy(child.pid)
    time.sleep(1.0)  # some blocks
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    no_traceback(subprocess.CompletedProcess(args, 130, out, err))
    assert b"Interrupted: 0 of 1 activations checked, relu partly (" in err
    (r,) = json.loads(out)["results"]
    assert r["interrupted"] is True and 0 < r["points"] < r["points_planned"] == 300_000_564
    assert -6 < r["checked_up_to"] < 6 and r["passed"] is True


# RELU whose 4th backward (after the first checks) loops forever; STUBBORN swallows Ctrl-C
HANGS = RELU.replace(
    "        def backward(self, dout):\n",
    """        calls = 0

        def backward(self, dout):
            Relu.calls += 1
            if Relu.calls == 4:
                import time

                open("hanging", "w").close()
                while True:
                    try:
                        time.sleep(0.01)
                    except BaseException:
                        if not STUBBORN:
                            raise
""",
)


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="the child is asked to stop by SIGUSR1")
@pytest.mark.parametrize("stubborn", [False, True])
def test_ctrl_c_while_impl_code_hangs_reports_the_checks_done(tmp_path, stubborn):
    """Ctrl-C during --impl: the child is asked to stop and writes the rows done so far,
    the last one saying where the user's code was; code that swallows the interrupt is
    killed after ``isolate.STOP_GRACE`` seconds, and then nothing is written."""
    spec = user_file(tmp_path, "hangs.py", f"STUBBORN = {stubborn}\n" + textwrap.dedent(HANGS))
    spec += ":Relu"
    child = subprocess.Popen(
        [sys.executable, "-m", "actcheck", "gradcheck", "--impl", spec, "--json"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    for _ in range(1200):
        if (tmp_path / "hanging").exists():
            break
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    no_traceback(subprocess.CompletedProcess([], 130, out, err))
    if stubborn:
        assert err.strip() == b"Interrupted." and out == b""
        return
    assert b"Interrupted: reporting the 5 checks done before it" in err
    data = json.loads(out)
    assert data["interrupted"] is True and data["passed"] is True
    last = data["checks"][-1]
    assert last["name"] == "interrupted" and last["where"].startswith("backward at hangs.py:")


# ---------------------------------------------------------------------------
# 5. MPLBACKEND is not actcheck's business (except for --show)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["bogus", "module://matplotlib_inline.backend_inline"])
def test_matplotlib_backend_variable_is_ignored(tmp_path, backend):
    env = {"MPLBACKEND": backend}
    p = actcheck("plot", "relu", "-o", "p.svg", cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stderr
    p = actcheck(*XOR, "--json", "--decision-boundary", "b.png", cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["results"][0]["activation"] == "relu"
    assert sorted(os.listdir(tmp_path)) == ["b.png", "p.svg", "xor-loss.png"]


def test_show_with_an_unusable_backend_is_bad_input(tmp_path):
    env = {"MPLBACKEND": "bogus", "DISPLAY": ":0"}
    p = actcheck("plot", "relu", "-o", "p.png", "--show", cwd=tmp_path, env=env)
    assert p.returncode == 2 and b"MPLBACKEND=bogus cannot be used" in p.stderr, p.stderr
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------
# 6. ASCII-only and narrow terminals
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        XOR,
        ["list"],
        ["plot", "relu", "-o", "p.png"],
        ["gradcheck", "relu", "elu", "--points", "100"],
        ["gradcheck", "--impl", "m.py:Relu"],
    ],
)
def test_ascii_only_stdout(tmp_path, args):
    user_file(tmp_path, "m.py", RELU)
    p = actcheck(*args, cwd=tmp_path, env={"PYTHONIOENCODING": "ascii"})
    assert p.returncode == 0, p.stderr
    p.stdout.decode("ascii")  # nothing but ASCII
    no_traceback(p)


@pytest.mark.parametrize("columns", ["0", "20"])
def test_narrow_terminals_keep_every_column(tmp_path, columns):
    p = actcheck("list", "relu", cwd=tmp_path, env={"COLUMNS": columns})
    assert p.returncode == 0, p.stderr
    text = " ".join(p.stdout.decode().split())
    for header in ("activation", "parameters", "kinks", "formula"):
        assert header in text


# ---------------------------------------------------------------------------
# 7. Sizes that cannot fit are refused up front, with the estimate and the limit
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["train-xor", "relu", "--seeds", "20000", "--epochs", "1000000"],
        ["train-xor", "relu", "--hidden", "1000000000"],
        ["train-xor", "relu", "--epochs", "99999999999999999999"],
        [
            "plot",
            "elu",
            "--sweep",
            "alpha=" + ",".join(f"{0.1 + i / 10:g}" for i in range(200)),
            "--samples",
            "1000000",
        ],
    ],
)
def test_sizes_that_cannot_fit_are_refused(tmp_path, args):
    p = actcheck(*args, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert p.stderr.count(b"\n") == 1 and b"GB of memory, over the limit of" in p.stderr
    assert b"MEMORY_LIMIT" in p.stderr
    assert os.listdir(tmp_path) == []


def test_gradcheck_points_stream_in_flat_memory_up_to_the_limit(tmp_path):
    from actcheck import defaults
    from actcheck.catalogcheck import STREAM_POINTS, memory_estimate

    # beyond STREAM_POINTS a check streams blocks: half a billion points fit like four million
    assert memory_estimate(500_000_000) == memory_estimate(STREAM_POINTS) <= defaults.MEMORY_LIMIT
    p = actcheck("gradcheck", "relu", "--points", str(10 * defaults.MAX_POINTS), cwd=tmp_path)
    assert p.returncode == 2 and p.stderr.count(b"\n") == 1, p.stderr
    assert os.listdir(tmp_path) == []


def test_the_memory_limit_lives_in_defaults(monkeypatch):
    from actcheck import defaults, xor
    from actcheck.catalogcheck import check_size
    from actcheck.errors import InputError

    check_size(1_000_000)
    monkeypatch.setattr(defaults, "MEMORY_LIMIT", 1000)
    with pytest.raises(InputError, match="over the limit of 1e-06 GB"):
        check_size(1_000_000)
    with pytest.raises(InputError):
        xor.check_size(xor.DEFAULT, 100)


# ---------------------------------------------------------------------------
# 10. Same arguments, same bytes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["plot", "relu", "elu", "-o", "out.svg"],
        ["plot", "relu", "-o", "out.pdf"],
        ["plot", "relu", "-o", "out.png"],
        [*XOR, "-o", "loss.pdf", "--decision-boundary", "out.svg"],
    ],
)
def test_same_arguments_same_bytes(tmp_path, args):
    runs = []
    for k in range(2):
        folder = tmp_path / str(k)
        folder.mkdir()
        p = actcheck(*args, cwd=folder)
        assert p.returncode == 0, p.stderr
        runs.append({f: (folder / f).read_bytes() for f in sorted(os.listdir(folder))})
    assert runs[0] == runs[1]


# ---------------------------------------------------------------------------
# Messages: numpy and matplotlib warnings never reach the terminal raw
# ---------------------------------------------------------------------------


def test_no_raw_warnings(tmp_path):
    args = [*XOR, "--lr", "1e10", "--decision-boundary", "b.png"]
    p = actcheck(*args, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert b"Warning" not in p.stderr


def _processes_in(folder: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "cwd") == str(folder):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs /proc")
def test_ctrl_c_while_the_users_code_hangs_stops_both_processes(tmp_path):
    body = RELU.replace("self.x = x", "open('started', 'w').close()\n            while True: pass")
    spec = user_file(tmp_path, "m.py", body) + ":Relu"
    child = subprocess.Popen(
        [sys.executable, "-m", "actcheck", "gradcheck", "--impl", spec],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    for _ in range(1200):  # until the user's code runs
        if (tmp_path / "started").exists() or child.poll() is not None:
            break
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert b"Interrupted" in err and b"Traceback" not in err
    assert _processes_in(tmp_path) == []  # no orphan left spinning


def test_help_states_the_exit_codes():
    from click.testing import CliRunner

    from actcheck.cli import cli

    text = CliRunner().invoke(cli, ["--help"]).output
    for line in ("0    everything", "1    a check failed", "2    bad input", "130  interrupted"):
        assert line in text


def test_output_printed_before_a_crash_is_quoted(tmp_path):
    body = RELU.replace("self.x = x", "print('about to go'); import os; os._exit(3)")
    spec = user_file(tmp_path, "m.py", body) + ":Relu"
    p = actcheck("gradcheck", "--impl", spec, "--json", cwd=tmp_path)
    assert p.returncode == 1
    data = json.loads(p.stdout)
    (process,) = data["checks"]
    assert process["details"] == "your code ended the process with exit status 3 during forward"
    assert data["printed"].strip() == "about to go"


def test_a_fifo_output_is_written_directly(tmp_path):
    import threading

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    p = actcheck(*XOR, "-o", "x.png", "--csv", str(fifo), cwd=tmp_path)
    reader.join(60)
    assert p.returncode == 0, p.stderr
    assert got and got[0].startswith(b"activation,seed,")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in kB: Linux")
def test_impl_memory_per_element_is_within_the_estimate(tmp_path):
    """The refusal up front (``isolate.check_size``) rests on bytes per element of x: the
    check's peak grows by less than that from one shape to a bigger one."""
    from actcheck import isolate

    peaks = []
    for rows in (100, 400):
        script = (
            "import resource, subprocess, sys; subprocess.run([sys.executable, '-m', "
            f"'actcheck', 'gradcheck', '--impl', {str(ROOT / 'examples/sigmoid.py')!r} + "
            f"':Sigmoid', '--shape', '{rows},1000'], check=True, capture_output=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        p = python_c(script, tmp_path)
        assert p.returncode == 0, p.stderr
        peaks.append(int(p.stdout) * 1024)
    per_element = (peaks[1] - peaks[0]) / (300 * 1000)
    assert 0.5 * isolate._BYTES_PER_ELEMENT < per_element <= isolate._BYTES_PER_ELEMENT


def test_a_long_impl_check_shows_what_is_running(tmp_path, monkeypatch, terminal):
    """On a terminal, once the check has lasted PROGRESS_AFTER (here at once), a transient
    line says what the child is doing: the user's code by name, or actcheck comparing."""
    from click.testing import CliRunner

    from actcheck.cli import cli

    slow_once = "self.x = x\n            if not hasattr(Relu, 'slept'):\n"
    slow_once += "                import time; time.sleep(0.5); Relu.slept = True"
    spec = user_file(tmp_path, "slow.py", RELU.replace("self.x = x", slow_once)) + ":Relu"
    screen = terminal(0.0)
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["gradcheck", "--impl", spec])
    assert res.exit_code == 0, res.output
    assert f"checking {spec}: your forward is running (" in screen.getvalue()
