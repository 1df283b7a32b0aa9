"""`simulate chart` on a results folder: this code against a reference commit, timed side by side.

Charting used to take 17.6 s for one results folder (both languages, PNG, SVG and PDF) on the
project's 2-core machine. This benchmark exports the reference commit's ``simulation`` package
(``git archive``) into a temporary folder and runs ``simulate chart`` from it and from this
working tree, alternately, in fresh processes, writing the same charts (both languages, every
format) to temporary folders. It prints each wall time and CPU time (the process and its
workers), the load average, and the ratios of the medians. Timings on a shared machine are
noisy: the ratio of interleaved runs is what to read, not one time; the CPU ratio says how
much of the gain is less work rather than more cores.

    python benchmarks/chart_speed.py RESULTS [--reference daaca07] [--rounds 3]

RESULTS is a run's results folder (e.g. `simulate scenarios/baseline.toml --out results/base`).
The default reference, daaca07, is main before the charts were made faster (issue 14).
"""

from __future__ import annotations

import argparse
import os
import resource
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


def timed(code_root: Path, results: Path, out: Path) -> tuple[float, float]:
    """Wall time and CPU time (the process and its workers) of one `simulate chart`, in seconds."""
    env = {"PYTHONPATH": str(code_root), "PATH": "/usr/bin:/bin", "HOME": str(Path.home()),
           "MPLCONFIGDIR": str(out.parent / "mpl")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUN, "chart", str(results), "--out", str(out), "--quiet"],
                          env=env, capture_output=True, text=True, cwd=str(out.parent))
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"simulate chart failed ({code_root}):\n{done.stdout}\n{done.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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
        times: dict[str, list[tuple[float, float]]] = {"reference": [], "this tree": []}
        for i in range(args.rounds):
            times["reference"].append(timed(reference, args.results.resolve(), tmp / f"ref-{i}"))
            times["this tree"].append(timed(ROOT, args.results.resolve(), tmp / f"new-{i}"))
            (rw, rc), (nw, nc) = times["reference"][-1], times["this tree"][-1]
            print(f"round {i + 1}: reference {rw:.1f} s ({rc:.1f} CPU-s), this tree {nw:.1f} s ({nc:.1f} CPU-s); "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)
        files = {k: sum(1 for p in (tmp / f"{k}-0").rglob("*") if p.suffix in (".png", ".svg", ".pdf"))
                 for k in ("ref", "new")}
        ref = statistics.median(t[0] for t in times["reference"])
        new = statistics.median(t[0] for t in times["this tree"])
        ref_cpu = statistics.median(t[1] for t in times["reference"])
        new_cpu = statistics.median(t[1] for t in times["this tree"])
        print(f"reference {args.reference}: median {ref:.1f} s, {ref_cpu:.1f} CPU-s ({files['ref']} files); "
              f"this tree: median {new:.1f} s, {new_cpu:.1f} CPU-s ({files['new']} files); "
              f"{ref / new:.2f}x faster ({ref_cpu / new_cpu:.2f}x less CPU)")


if __name__ == "__main__":
    main()
