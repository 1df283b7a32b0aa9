"""`simulate chart` on a results folder: this code against a reference commit, timed side by side.

Charting used to take 17.6 s for one results folder (both languages, PNG, SVG and PDF) on the
project's 2-core machine. This benchmark exports the reference commit's ``simulation`` package
(``git archive``) into a temporary folder and runs ``simulate chart`` from it and from this
working tree, alternately, in fresh processes, writing the same charts (both languages, every
format) to temporary folders. It prints each wall time and the ratio of the medians. Timings on
a shared machine are noisy: the ratio of interleaved runs is what to read, not one time.

    python benchmarks/chart_speed.py RESULTS [--reference daaca07] [--rounds 3]

RESULTS is a run's results folder (e.g. `simulate scenarios/baseline.toml --out results/base`).
The default reference, daaca07, is main before the charts were made faster (issue 14).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "daaca07"
RUN = "import sys; from simulation.cli import main; sys.argv = ['simulate', *sys.argv[1:]]; main()"


def export(rev: str, into: Path) -> Path:
    """The reference commit's `simulation` package, unpacked into ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "simulation"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def timed(code_root: Path, results: Path, out: Path) -> float:
    env = {"PYTHONPATH": str(code_root), "PATH": "/usr/bin:/bin", "HOME": str(Path.home()),
           "MPLCONFIGDIR": str(out.parent / "mpl")}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUN, "chart", str(results), "--out", str(out), "--quiet"],
                          env=env, capture_output=True, text=True, cwd=str(out.parent))
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"simulate chart failed ({code_root}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--reference", default=REFERENCE, help="commit to compare with [%(default)s]")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        reference = export(args.reference, tmp / "reference")
        (tmp / "mpl").mkdir()
        timed(reference, args.results.resolve(), tmp / "warm-ref")  # font caches, page cache
        timed(ROOT, args.results.resolve(), tmp / "warm-new")
        times: dict[str, list[float]] = {"reference": [], "this tree": []}
        for i in range(args.rounds):
            times["reference"].append(timed(reference, args.results.resolve(), tmp / f"ref-{i}"))
            times["this tree"].append(timed(ROOT, args.results.resolve(), tmp / f"new-{i}"))
            print(f"round {i + 1}: reference {times['reference'][-1]:.1f} s, this tree {times['this tree'][-1]:.1f} s",
                  flush=True)
        files = {k: sum(1 for p in (tmp / f"{k}-0").rglob("*") if p.suffix in (".png", ".svg", ".pdf"))
                 for k in ("ref", "new")}
        ref, new = statistics.median(times["reference"]), statistics.median(times["this tree"])
        print(f"reference {args.reference}: median {ref:.1f} s ({files['ref']} files); "
              f"this tree: median {new:.1f} s ({files['new']} files); {ref / new:.2f}x faster")


if __name__ == "__main__":
    main()
