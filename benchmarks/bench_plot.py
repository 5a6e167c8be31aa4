"""How long ``actcheck plot`` takes beyond matplotlib's own import.

Contenders, side by side in one process (matplotlib, numpy and the Agg backend are
imported first, so their import time counts for neither):

* bare: a plain matplotlib script that saves one 801-point line plot as PNG;
* actcheck: the full default grid (every catalog function, function + derivative,
  numerical markers, kinks, insets, formulas), built and saved as PNG.

Both at the default 150 dpi. "first" is the first call in the process (font and
mathtext caches cold); "warm" is the median of the repeats after it.

    python benchmarks/bench_plot.py [--repeats 5] [--cli [--bytecode]]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401 (import cost)
from matplotlib.figure import Figure

DPI = 150


def bare(path: str) -> None:
    x = np.linspace(-4, 4, 801)
    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    ax.plot(x, np.maximum(x, 0))
    fig.savefig(path, dpi=DPI)


def actcheck_grid(path: str, timings: dict[str, list[float]]) -> None:
    from actcheck import get, names
    from actcheck.plotting import activation_figure, save_figure

    t0 = time.perf_counter()
    fig = activation_figure([get(n) for n in names()])
    t1 = time.perf_counter()
    save_figure(fig, path, dpi=DPI)
    t2 = time.perf_counter()
    timings["build"].append(t1 - t0)
    timings["save"].append(t2 - t1)


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cli", action="store_true", help="also time whole processes")
    parser.add_argument(
        "--bytecode",
        action="store_true",
        help="with --cli: children may cache compiled bytecode (in a temporary folder, after "
        "one warm-up run), as an installed package has it, even where "
        "PYTHONDONTWRITEBYTECODE is set",
    )
    args = parser.parse_args()
    split: dict[str, list[float]] = {"build": [], "save": []}
    with tempfile.TemporaryDirectory() as tmp:
        p_bare, p_grid = os.path.join(tmp, "bare.png"), os.path.join(tmp, "grid.png")
        t_import = _time(lambda: __import__("actcheck.plotting"))
        first_bare = _time(lambda: bare(p_bare))
        first_grid = _time(lambda: actcheck_grid(p_grid, split))
        warm_bare, warm_grid = [], []
        for _ in range(args.repeats):  # interleaved, so machine noise hits both alike
            warm_bare.append(_time(lambda: bare(p_bare)))
            warm_grid.append(_time(lambda: actcheck_grid(p_grid, split)))
        size = os.path.getsize(p_grid)
    wb, wg = statistics.median(warm_bare), statistics.median(warm_grid)
    print(f"matplotlib {matplotlib.__version__}, numpy {np.__version__}, {DPI} dpi PNG, "
          f"{args.repeats} repeats")  # fmt: skip
    print(f"import actcheck.plotting (beyond matplotlib): {t_import * 1000:.0f} ms")
    print(f"{'contender':<34}{'first (s)':>10}{'warm (s)':>10}{'ratio':>8}")
    print(f"{'bare matplotlib, one line plot':<34}{first_bare:>10.3f}{wb:>10.3f}{1:>8.1f}")
    print(f"{'actcheck default grid (18 panels)':<34}{first_grid:>10.3f}{wg:>10.3f}"
          f"{wg / wb:>8.1f}")  # fmt: skip
    build, save = (statistics.median(split[k][1:]) for k in ("build", "save"))
    print(f"  of which build {build:.3f} s, save {save:.3f} s; file {size / 1024:.0f} KiB")
    if args.cli:
        cli_times(args.repeats, args.bytecode)


BARE_SCRIPT = (
    "import numpy as np; from matplotlib.figure import Figure; x = np.linspace(-4, 4, 801);"
    "fig = Figure(figsize=(6, 4)); fig.add_subplot().plot(x, np.maximum(x, 0));"
    "fig.savefig('bare.png', dpi=150)"
)


def cli_times(repeats: int, bytecode: bool = False) -> None:
    """Whole processes, imports included: `actcheck plot` vs a bare matplotlib script.

    Interleaved runs; medians of wall time and of CPU time (user + system of the
    child), the second less disturbed when other work shares the machine.
    ``bytecode``: the children cache compiled modules in a temporary folder (after a
    warm-up run of each), as an installed package has them; without it, a set
    PYTHONDONTWRITEBYTECODE makes every run compile actcheck's sources.
    """
    import os
    import resource
    import subprocess
    import sys

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        return r.ru_utime + r.ru_stime

    runs = {
        "python: bare matplotlib script": [sys.executable, "-c", BARE_SCRIPT],
        "actcheck plot (default grid)": [sys.executable, "-m", "actcheck", "plot"],
    }
    wall: dict[str, list[float]] = {name: [] for name in runs}
    used: dict[str, list[float]] = {name: [] for name in runs}
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        if bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
            for cmd in runs.values():
                subprocess.run(cmd, cwd=tmp, env=env, check=True, capture_output=True)
        # the tree `python -m actcheck` runs there (PYTHONPATH first, else the installed one)
        where = "import actcheck, os; print(os.path.dirname(actcheck.__file__))"
        tree = subprocess.run([sys.executable, "-c", where], cwd=tmp, env=env, check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
        for _ in range(repeats):
            for name, cmd in runs.items():
                c, t = cpu(), time.perf_counter()
                subprocess.run(cmd, cwd=tmp, env=env, check=True, capture_output=True)
                wall[name].append(time.perf_counter() - t)
                used[name].append(cpu() - c)
    cached = "bytecode cached" if bytecode else "bytecode as the environment says"
    print(f"\nwhole process, imports included (median of {repeats}, interleaved, {cached}); "
          f"actcheck: {tree}")  # fmt: skip
    print(f"{'contender':<34}{'wall (s)':>10}{'ratio':>8}{'CPU (s)':>10}{'ratio':>8}")
    bare = "python: bare matplotlib script"
    bw, bc = statistics.median(wall[bare]), statistics.median(used[bare])
    for name in runs:
        w, c = statistics.median(wall[name]), statistics.median(used[name])
        print(f"{name:<34}{w:>10.3f}{w / bw:>8.2f}{c:>10.3f}{c / bc:>8.2f}")
    ratio = statistics.median(wall["actcheck plot (default grid)"]) / bw
    verdict = "met" if ratio <= 2.5 else "MISSED"
    print(f"target (issue 12): wall ratio <= 2.5 (aim 2.0): {ratio:.2f}, {verdict}")


if __name__ == "__main__":
    main()
