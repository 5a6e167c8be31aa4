"""Run ``actcheck gradcheck --impl`` over examples/conventions/MANIFEST.toml as a user would.

Each entry is one command line (no glue file); its exit code is compared with the
verdict the MANIFEST expects (pass 0, fail 1, error 2, note 0 or 1). Prints one line
per entry and a table per convention: checked without glue, as expected, caught.

    python benchmarks/bench_conventions.py [--only PREFIX] [--markdown]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = {"pass": {0}, "fail": {1}, "error": {2}, "note": {0, 1}}
NAMES = {
    1: "constructors with arguments",
    2: "several inputs (cs231n pairs)",
    3: "labels and flags",
    4: "loss layers and functions",
    5: "other method names",
    6: "stored outputs (nnfs)",
    7: "randomness",
    8: "whole models",
    9: "files inside a package",
    10: "issue 10's wrong verdicts",
    11: "tutorial forms (update in backward, switch, scalar engines, deeplearning.ai functions)",
}


def run(entry: dict) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "actcheck", "gradcheck", "--impl", entry["impl"]]
    proc = subprocess.run(
        cmd + entry.get("options", []), cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    last = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or [""])[-1]
    return proc.returncode, last


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="run the entries whose id starts with this")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    opts = ap.parse_args()
    manifest = tomllib.loads((ROOT / "examples/conventions/MANIFEST.toml").read_text())
    stats: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in manifest["example"]:
        if not e["id"].startswith(opts.only):
            continue
        rc, last = run(e)
        ok = rc in EXPECTED[e["verdict"]]
        print(f"{'ok ' if ok else 'BAD'} {e['id']:45s} want {e['verdict']:5s} rc={rc}  {last[:90]}")
        for c in e["conventions"]:
            st = stats[c]
            st["entries"] += 1
            st["checked"] += rc in (0, 1) or e["verdict"] == "error"
            st["as expected"] += ok
            st["buggy"] += e["verdict"] == "fail"
            st["caught"] += e["verdict"] == "fail" and rc == 1
    cols = ["entries", "checked", "as expected", "buggy", "caught"]
    if opts.markdown:
        print("\n| # | convention | " + " | ".join(cols) + " |")
        print("|---|---|" + "---|" * len(cols))
    for c in sorted(stats):
        vals = [str(stats[c][k]) for k in cols]
        if opts.markdown:
            print(f"| {c} | {NAMES[c]} | " + " | ".join(vals) + " |")
        else:
            print(
                f"{c:2d} {NAMES[c]:32s} "
                + "  ".join(f"{k} {v}" for k, v in zip(cols, vals, strict=True))
            )


if __name__ == "__main__":
    main()
