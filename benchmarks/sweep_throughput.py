"""Benchmark sweep throughput on 1 and 2 local workers, and the parallel efficiency.

Run from the repository root (with the project's virtualenv)::

    python benchmarks/sweep_throughput.py                  # 320 baseline runs per measurement (~3.5 min)
    python benchmarks/sweep_throughput.py --runs 80 --quick
    python benchmarks/sweep_throughput.py --json out.json  # also write the measurements

What is measured: the whole sweep path of ``simulate sweep`` (design, chunks sent to the backend,
``ClusterModel(spec, rng=seed, firm_agents=False).run()`` and the outcome row in the worker, the
rows streamed to Parquet parts, the manifest), through :func:`simulation.experiments.sweep.run_sweep`
with :class:`~simulation.experiments.sweep.LocalBackend`: ``--workers 1`` runs in this process,
``--workers 2`` in two spawned worker processes. The sweep is a grid over the talent budget with
``--runs`` runs of the baseline scenario (its full 2020-2025 horizon and firm population).

* **end to end**: runs / wall time of ``run_sweep``, including starting the worker processes
  (each imports the model: a few seconds on a busy machine).
* **steady state**: the runs finished after every worker has finished its first chunk, divided by
  the time from then to the end: the rate a long sweep runs at.
* **parallel efficiency** = throughput(2 workers) / (2 x throughput(1 worker)). Target: >= 85 %.
* **CPU cost**: CPU seconds per run of this process and its workers. Its ratio between 1 and 2
  workers is the sweep machinery's own overhead; unlike wall time it hardly depends on what else
  the machine is running.

Each configuration is measured ``--repeats`` times, alternating 1 and 2 workers so that a change in
the machine's load hits both; the median is reported. The machine's load matters: the header and
footer give the load average, and "other CPU" is the share of the machine's CPU time used by
processes other than this benchmark while it ran (on a shared 2-core machine, anything above a
few % lowers the 2-worker numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulation.experiments.experiment_file import load_experiment  # noqa: E402
from simulation.experiments.sweep import LocalBackend, SweepPlan, run_sweep  # noqa: E402

TARGET = 0.85


class TimedBackend(LocalBackend):
    """A LocalBackend that notes when each chunk finishes."""

    def run(self, chunks):
        self.finished: list[tuple[float, int]] = []
        for chunk, rows in super().run(chunks):
            self.finished.append((time.perf_counter(), len(rows)))
            yield chunk, rows


def experiment(tmp: Path, runs: int, quick: bool) -> Path:
    points = max(1, runs // 4)
    levels = ", ".join(f"{10.0 + i * 0.5:.1f}" for i in range(points))
    extra = '"simulation.below_scale_ratio" = 0.1\n"simulation.end_year" = 2022\n' if quick else ""
    path = tmp / "throughput.toml"
    path.write_text(
        f'scenario = "{(ROOT / "scenarios" / "baseline.toml").as_posix()}"\n'
        f'replicates = 4\noutcomes = ["cagr", "hit", "city_cagr", "fiscal_cost"]\n'
        f'[design]\nmethod = "grid"\n[set]\n{extra}'
        f'[parameters]\n"levers.talent.budget_cap" = {{ levels = [{levels}] }}\n'
    )
    return path


def measure(plan: SweepPlan, workers: int, folder: Path) -> dict:
    import psutil

    backend = TimedBackend(workers)
    me = psutil.Process()
    cpu0, mine0 = psutil.cpu_times(), _tree_cpu(me)
    start = time.perf_counter()
    summary = run_sweep(plan, folder, backend, progress=False, overwrite=True)
    end = time.perf_counter()
    cpu1, mine1 = psutil.cpu_times(), _tree_cpu(me)
    assert summary.complete and summary.failed == 0, summary
    busy = _busy(cpu1) - _busy(cpu0)
    total = sum(cpu1) - sum(cpu0)
    other = max(0.0, busy - (mine1 - mine0)) / total if total > 0 else float("nan")
    # steady state: from the moment every worker has finished one chunk
    times = backend.finished
    warm_index = min(workers, len(times)) - 1
    t_warm = times[warm_index][0]
    after = sum(n for _, n in times[warm_index + 1 :])
    steady = after / (end - t_warm) if end > t_warm and after else float("nan")
    return {
        "workers": workers,
        "runs": summary.ran,
        "cpu_seconds": mine1 - mine0,
        "runs_per_cpu_second": summary.ran / (mine1 - mine0),
        "wall_seconds": end - start,
        "startup_seconds": t_warm - start,
        "end_to_end_runs_per_second": summary.ran / (end - start),
        "steady_runs_per_second": steady,
        "other_cpu_share": other,
    }


def _busy(t) -> float:
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def _tree_cpu(proc) -> float:
    import psutil

    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            c = p.cpu_times()
            total += c.user + c.system + c.children_user + c.children_system
        except psutil.Error:
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=320, help="runs per measurement (a multiple of 4)")
    parser.add_argument("--repeats", type=int, default=2, help="measurements per worker count")
    parser.add_argument("--quick", action="store_true", help="short, small runs (0.1 below-scale ratio, to 2022)")
    parser.add_argument("--json", type=Path, help="write the measurements here")
    args = parser.parse_args()

    print(f"Sweep throughput benchmark: {args.runs} runs per measurement, {args.repeats} repeats, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (1 min) before")  # fmt: skip
    results: dict[int, list[dict]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        tmp = Path(tmp)
        plan = SweepPlan.from_experiment(load_experiment(experiment(tmp, args.runs, args.quick)))
        # warm this process (imports, first-run caches) so the 1-worker numbers are not penalised
        run_sweep(SweepPlan.from_experiment(load_experiment(experiment(tmp, 4, args.quick))), tmp / "warm",
                  LocalBackend(1), progress=False)  # fmt: skip
        for r in range(args.repeats):
            for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
                m = measure(plan, workers, tmp / f"w{workers}-{r}")
                results[workers].append(m)
                print(f"  {workers} worker{'s' if workers > 1 else ' '}: {m['runs']} runs in {m['wall_seconds']:6.1f} s "
                      f"(start-up {m['startup_seconds']:4.1f} s): end to end {m['end_to_end_runs_per_second']:5.2f} "
                      f"runs/s, steady {m['steady_runs_per_second']:5.2f} runs/s; other processes used "
                      f"{m['other_cpu_share']:.0%} of the CPU", flush=True)  # fmt: skip

    def med(w: int, key: str) -> float:
        return statistics.median(m[key] for m in results[w])

    summary = {}
    print()
    for key, label in (("steady_runs_per_second", "steady state"), ("end_to_end_runs_per_second", "end to end")):
        one, two = med(1, key), med(2, key)
        eff = two / (2 * one)
        summary[key] = {"1": one, "2": two, "efficiency": eff}
        ok = "ok" if eff >= TARGET else "MISS"
        print(f"{label:>12}: 1 worker {one:5.2f} runs/s, 2 workers {two:5.2f} runs/s, "
              f"parallel efficiency {eff:.0%}  (target >= {TARGET:.0%}: {ok})")  # fmt: skip
    cpu1, cpu2 = med(1, "runs_per_cpu_second"), med(2, "runs_per_cpu_second")
    summary["runs_per_cpu_second"] = {"1": cpu1, "2": cpu2, "ratio": cpu2 / cpu1}
    print(f"  CPU cost: {1 / cpu1:.3f} CPU-s per run with 1 worker, {1 / cpu2:.3f} with 2 (ratio {cpu2 / cpu1:.0%}: "
          "the sweep's own overhead, whatever else the machine runs)")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.2f} (1 min) after; median share of the CPU used by other processes: "
          f"{statistics.median(m['other_cpu_share'] for w in results for m in results[w]):.0%}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"runs": args.runs, "measurements": results, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
