"""Benchmark the cluster model: every performance target beside its figure, measured in one run.

Run from the repository root (with the project's virtualenv)::

    python benchmarks/benchmark_model.py                 # everything (~10 min on 2 idle cores)
    python benchmarks/benchmark_model.py --quick         # fewer repeats, no 1 M-firm runs, smaller sweep
    python benchmarks/benchmark_model.py --json out.json # also write every measurement as JSON
    python benchmarks/benchmark_model.py --readme        # also write the README's performance section
    python benchmarks/benchmark_model.py --from-json out.json --readme   # the README from earlier measurements
    python benchmarks/benchmark_model.py --no-full-run --no-sweep --no-reference   # sections 1-2 only

It prints five sections, each number beside its target (``ok`` / ``MISS``), then a table of the
targets with the machine's load:

1. **One baseline replicate** (``scenarios/baseline.toml``, ~36 k firms, 20 quarterly steps), in
   this process after one untimed warm-up replicate of each variant: wall and CPU time of the
   constructor ``ClusterModel(spec, rng=seed, firm_agents=..., kernels=...)`` (*init*) and of
   ``.run()`` (*step*), in three variants run with the same seeds in rotating order: batch runs
   with the compiled kernels (what ``simulate`` runs), batch runs with the NumPy reference rules
   (``kernels="numpy"``), and a Mesa ``Firm`` agent kept for every firm; their ratios are taken
   per seed. Target: init + step <= 60 ms (batch, compiled kernels).
2. **Throughput and memory**: firm-steps per second = (alive firms summed over the steps) / step
   time, stepping phase only, at about 10 k, 100 k and 1 M firms in the start year
   (``benchmarks/firm_populations.py``). Every run is a fresh subprocess pinned to one CPU with
   numeric libraries limited to one thread, after a small untimed warm-up model; "per CPU-s"
   divides by the child's CPU time (robust to other processes sharing the core). Peak memory is
   ``ru_maxrss`` of the child (interpreter and imports included). Firm agents on are run at 1 M
   only if the estimate from the 100 k runs fits in 80 % of the available memory. Targets:
   >= 20 M firm-steps per CPU-second at 1 M firms, <= 1 GB.
3. **Engine against the per-agent Mesa reference** (``benchmarks/compare_engines.py``) at 12 k and
   50 k firms: both from the same initial state, stepping in lockstep, CPU time; the reference
   timed over its first steps (a CPU-time budget). The fair ratio leaves out the reference's
   copying of its agents into the engine's table; the ratio with it is shown too. Target:
   >= 100x at 12 k firms and above.
4. **Full baseline run**: ``simulate scenarios/baseline.toml --quiet --workers 2 --out <tmpdir>``
   end to end as a subprocess: the scenario's 400 replicates *and* its counterfactual's
   (``business_as_usual.toml``, run by default), summarised and written, as users run it; where
   the scenario asks for data.csv, also without it (``--set outputs.formats=["parquet"]``). A
   projection (replicates x CPU time of one replicate / 2 workers) is shown beside it. Target:
   <= 20 s on 2 cores.
5. **Sweep parallel efficiency** (``benchmarks/sweep_throughput.py``): the same sweep of baseline
   runs on 1 and on 2 local workers, alternating; efficiency = throughput(2) / (2 x throughput(1))
   in the steady state (after every worker finished its first chunk) and end to end. Target:
   >= 90 % on an idle machine.

Timings on a shared 2-core machine are noisy: compare medians and the ratios measured within
one run, not single numbers across runs. To help judge a run:

- the header says how busy the CPUs were before the benchmark started, and times a fixed
  NumPy kernel that does not involve the model (compare it between runs to tell a slower
  model from a slower machine; on a virtual machine, neighbours' load is invisible here);
- after each section, the share of the machine's CPU time other processes used meanwhile;
- ``wall/CPU``: step wall time over the process's CPU time in the same interval, ~1.0 when
  the benchmark had its core to itself, larger when other processes took it;
- section 4's "CPU time": user + system time of the run and all its worker processes (on an
  idle machine, wall time ~ CPU time / 2 + start-up and writing the results).

``--readme`` replaces the text between the README's performance markers with the targets table of
this run (``readme_section``), so the README's numbers are always measured ones.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "baseline.toml"

TARGET_REPLICATE_S = 0.06
TARGET_FIRM_STEPS_PER_S = 20e6
TARGET_PEAK_RSS_MB = 1024.0
TARGET_FULL_RUN_S = 20.0
TARGET_REFERENCE_RATIO = 100.0
TARGET_SWEEP_EFFICIENCY = 0.9
WORKERS = 2
#: start-year firms at which the engine is compared with the per-agent reference (>= 12 k: the target's range)
REFERENCE_SIZES = {"full": (12_000, 50_000), "quick": (12_000,)}
REFERENCE_BUDGET_S = {"full": 20.0, "quick": 6.0}  # CPU seconds of reference stepping per size
SWEEP_RUNS = {"full": (48, 2), "quick": (16, 1)}  # runs per measurement, repeats per worker count
README = REPO / "README.md"
MARKERS = ("<!-- performance:start (written by benchmarks/benchmark_model.py --readme) -->",
           "<!-- performance:end -->")

#: size label -> initial firms wanted
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
#: (replicate repeats, repeats per size) in full and quick mode
REPEATS = {"full": (5, {"10k": 5, "100k": 3, "1M": 2}), "quick": (3, {"10k": 3, "100k": 2})}
FULL_RUN_REPEATS = {"full": 1, "quick": 1}
RESULT_MARK = "@@benchmark-result "
ONE_THREAD = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")}


# --- measuring one replicate ------------------------------------------------------------------


def load_spec(firms: int | None = None):
    """The baseline, or the baseline with about ``firms`` firms in the start year (firm_populations.py)."""
    from simulation.scenario import load_scenario

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from firm_populations import spec_for

    return load_scenario(SCENARIO).spec if firms is None else spec_for(firms, SCENARIO)


def time_replicate(spec, seed: int, firm_agents: bool, kernels: str | None = None) -> dict[str, Any]:
    """Time the constructor and ``.run()`` of one replicate separately; count firm-steps."""
    from simulation.model.model import ClusterModel
    from simulation.model.results import CITY_METRICS

    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    model = ClusterModel(spec, rng=seed, firm_agents=firm_agents, **({} if kernels is None else {"kernels": kernels}))
    c1, t1 = time.process_time(), time.perf_counter()
    result = model.run()
    c2, t2 = time.process_time(), time.perf_counter()
    alive = result.city[:, list(CITY_METRICS).index("firms")]  # alive after step 0..n (0 = start)
    return {
        "seed": seed,
        "firm_agents": firm_agents,
        "kernels": getattr(getattr(model, "rules", None), "name", "numpy"),  # (models before the kernels: NumPy)
        "init_s": t1 - t0,
        "step_s": t2 - t1,
        "total_s": t2 - t0,
        "init_cpu_s": c1 - c0,
        "step_cpu_s": c2 - c1,
        "steps": model.n_steps,
        "firms_start": int(alive[0]),
        "firms_end": int(alive[-1]),
        "table_rows": int(model.firms.n),
        "total_cpu_s": c2 - c0,
        "firm_steps": float(alive[:-1].sum()),  # alive at the start of each step
        "firm_steps_per_s": float(alive[:-1].sum()) / (t2 - t1),
        "firm_steps_per_cpu_s": float(alive[:-1].sum()) / max(c2 - c1, 1e-9),
    }


def current_rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child_main(config: dict[str, Any]) -> None:
    """One measurement in a fresh process: pinned to one CPU, warm-up, one timed replicate."""
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})
    from simulation.model.model import ClusterModel

    warm = load_spec(2_000)
    ClusterModel(warm, rng=config["seed"] + 10**6, firm_agents=False).run()
    spec = load_spec(config["firms"])
    del warm
    gc.collect()
    rss_ready = current_rss_mb()
    out = time_replicate(spec, config["seed"], config["firm_agents"])
    out.update(target_firms=config["firms"], rss_before_model_mb=rss_ready, peak_rss_mb=peak_rss_mb(), cpu=cpus[-1])
    print(RESULT_MARK + json.dumps(out), flush=True)


def run_child(firms: int, seed: int, firm_agents: bool) -> dict[str, Any]:
    config = {"firms": firms, "seed": seed, "firm_agents": firm_agents}
    env = {**os.environ, **ONE_THREAD}
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_child", json.dumps(config)],
                          capture_output=True, text=True, env=env, cwd=REPO)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {**config, "error": f"exit code {proc.returncode}: {tail}"}


# --- the sections ------------------------------------------------------------------------------


def bench_replicate(repeats: int) -> dict[str, Any]:
    spec = load_spec()
    root = spec.simulation.seed
    t0 = time.perf_counter()
    load_spec()
    load_s = time.perf_counter() - t0
    variants = {"agents_off": (False, "numba"), "agents_on": (True, "numba"), "numpy_rules": (False, "numpy")}
    for agents, kernels in variants.values():  # warm-up: data pack caches, compiled kernels, first-call costs
        time_replicate(spec, root - 1, agents, kernels)
    runs: dict[str, list[dict]] = {key: [] for key in variants}
    for i in range(repeats):  # the same seed for every variant, in rotating order
        keys = list(variants)[i % 3:] + list(variants)[: i % 3]
        for key in keys:
            runs[key].append(time_replicate(spec, root + i, *variants[key]))
    out: dict[str, Any] = {"scenario_load_s": load_s, "repeats": repeats, "runs": runs}
    for key, rs in runs.items():
        out[key] = {k: statistics.median(r[k] for r in rs)
                    for k in ("init_s", "step_s", "total_s", "total_cpu_s", "step_cpu_s", "firms_start",
                              "firm_steps_per_s", "firm_steps_per_cpu_s")}
    out["agents_off"]["total_cpu_s"] = statistics.median(r["init_cpu_s"] + r["step_cpu_s"] for r in runs["agents_off"])
    for name, other in (("ratio_on_off", "agents_on"), ("ratio_numpy_numba", "numpy_rules")):
        pairs = list(zip(runs[other], runs["agents_off"]))  # same seed in each pair
        out[name] = {k: statistics.median(a[k] / b[k] for a, b in pairs) for k in ("init_s", "step_s", "total_s")}
    return out


def bench_throughput(mode: str) -> dict[str, Any]:
    root = load_spec().simulation.seed
    repeats = REPEATS[mode][1]
    rows: list[dict[str, Any]] = []
    for label, repeat in repeats.items():
        firms = SIZES[label]  # start-year firms asked for (benchmarks/firm_populations.py)
        for agents in (False, True):
            note = ""
            if agents and label == "1M":
                fits, note = _agents_fit_in_memory(rows)
                if not fits:
                    rows.append({"size": label, "firm_agents": True, "skipped": note})
                    continue
            runs = [run_child(firms, root + i, agents) for i in range(repeat)]
            good = [r for r in runs if "error" not in r]
            row: dict[str, Any] = {"size": label, "firm_agents": agents, "runs": runs, "note": note}
            if good:
                for k in ("init_s", "step_s", "step_cpu_s", "firm_steps_per_s", "firm_steps_per_cpu_s",
                          "firms_start", "firms_end", "table_rows", "rss_before_model_mb"):
                    row[k] = statistics.median(r[k] for r in good)
                row["peak_rss_mb"] = max(r["peak_rss_mb"] for r in good)
            else:
                row["error"] = runs[0]["error"]
            rows.append(row)
    return {"rows": rows}


def _agents_fit_in_memory(rows: list[dict]) -> tuple[bool, str]:
    """Estimate 1 M firms with agents on from the 100 k runs; compare with available memory."""
    def find(size: str, agents: bool) -> dict | None:
        return next((r for r in rows if r["size"] == size and r["firm_agents"] is agents and "peak_rss_mb" in r), None)

    off_1m, on_100k, off_100k = find("1M", False), find("100k", True), find("100k", False)
    available = _available_mb()
    if not (off_1m and on_100k and off_100k):
        return True, "no estimate possible; ran anyway"
    most = lambda r: max(r["firms_start"], r["firms_end"])  # noqa: E731  (views exist for live firms)
    per_firm = (on_100k["peak_rss_mb"] - off_100k["peak_rss_mb"]) / most(on_100k)
    estimate = off_1m["peak_rss_mb"] + 1.2 * per_firm * most(off_1m)
    fits = estimate < 0.8 * available
    verdict = "ran" if fits else "skipped"
    return fits, f"{verdict}: estimated {estimate:,.0f} MB vs {available:,.0f} MB available"


def _available_mb() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return float("inf")


def bench_full_run(repeats: int, replicate_cpu_s: float) -> dict[str, Any]:
    """``simulate scenarios/baseline.toml --workers 2``, end to end, as users run it: the scenario's
    replicates and its counterfactual's (``business_as_usual``), summarised and written. Also with
    ``outputs.formats=["parquet"]`` (no data.csv) where the scenario asks for data.csv."""
    spec = load_spec()
    n_rep = spec.simulation.replicates
    runs = 2 if spec.counterfactual else 1
    out: dict[str, Any] = {
        "replicates": n_rep,
        "scenario_runs": runs,
        "writes_csv": "csv" in spec.outputs.formats,
        "projection_s": runs * n_rep * replicate_cpu_s / WORKERS,
    }
    exe = Path(sys.executable).with_name("simulate")
    exe = str(exe) if exe.exists() else shutil.which("simulate")
    if not exe:
        out.update(method="skipped", note="`simulate` is not installed (pip install -e .)")
        return out
    out["as_is"] = _time_cli(exe, repeats, [])
    if out["writes_csv"]:
        out["parquet_only"] = _time_cli(exe, repeats, ["--set", 'outputs.formats=["parquet"]'])
    return out


def _time_cli(exe: str, repeats: int, extra: list[str]) -> dict[str, Any]:
    cmd = [exe, str(SCENARIO), "--quiet", "--workers", str(WORKERS), *extra]
    times, cpu, error = [], [], None
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-simulate-") as tmp:
            before = _children_cpu_s()
            t0 = time.perf_counter()
            proc = subprocess.run([*cmd, "--out", str(Path(tmp) / "out")], capture_output=True, text=True, cwd=REPO)
            elapsed = time.perf_counter() - t0
            cpu.append(_children_cpu_s() - before)
        if proc.returncode != 0:
            error = f"exit code {proc.returncode}: {(proc.stderr.strip().splitlines() or [''])[-1]}"
            break
        times.append(elapsed)
    shown = " ".join(["simulate", os.path.relpath(SCENARIO, REPO), *cmd[2:]])
    result: dict[str, Any] = {"command": shown + " --out <tmpdir>", "times_s": times, "cpu_s": cpu}
    if times:
        result["median_s"] = statistics.median(times)
        result["median_cpu_s"] = statistics.median(cpu[: len(times)])
    if error:
        result["error"] = error
    return result


def bench_reference(mode: str) -> dict[str, Any]:
    """The engine against the per-agent Mesa reference (benchmarks/compare_engines.py), CPU time, in lockstep."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from compare_engines import compare

    seed = load_spec().simulation.seed
    rows = [compare(firms, seed, 20, REFERENCE_BUDGET_S[mode], 3) for firms in REFERENCE_SIZES[mode]]
    return {"rows": rows, "budget_s": REFERENCE_BUDGET_S[mode]}


def bench_sweep(mode: str) -> dict[str, Any]:
    """Sweep throughput on 1 and 2 local workers (benchmarks/sweep_throughput.py), alternating."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sweep_throughput import experiment, measure

    from simulation.experiments.experiment_file import load_experiment
    from simulation.experiments.sweep import LocalBackend, SweepPlan, run_sweep

    n_runs, repeats = SWEEP_RUNS[mode]
    results: dict[int, list[dict]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        tmp = Path(tmp)
        plan = SweepPlan.from_experiment(load_experiment(experiment(tmp, n_runs, False)))
        run_sweep(SweepPlan.from_experiment(load_experiment(experiment(tmp, 4, False))), tmp / "warm",
                  LocalBackend(1), progress=False)  # fmt: skip
        for r in range(repeats):
            for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
                results[workers].append(measure(plan, workers, tmp / f"w{workers}-{r}"))
    out: dict[str, Any] = {"runs": n_runs, "repeats": repeats, "measurements": results}
    for key in ("steady_runs_per_second", "end_to_end_runs_per_second"):
        one = statistics.median(m[key] for m in results[1])
        two = statistics.median(m[key] for m in results[2])
        out[key] = {"1": one, "2": two, "efficiency": two / (2 * one)}
    out["other_cpu_share"] = statistics.median(m["other_cpu_share"] for w in results for m in results[w])
    return out


def _children_cpu_s() -> float:
    """User + system CPU seconds of all waited-for descendants (the CLI and its workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- reporting --------------------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "" if ok is None else "ok" if ok else "MISS"


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = "  ".join("-" * w for w in widths).rstrip()
    print(f"\n{title}\n{line}")
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip())
    print(line)
    for row in rows:  # first column left-aligned, numbers right-aligned
        cells = [str(x).rjust(w) if i else str(x).ljust(w) for i, (x, w) in enumerate(zip(row, widths))]
        print("  ".join(cells).rstrip())


def _others_line(section: dict[str, Any]) -> str:
    share = section.get("others_cpu_share", 0.0)
    flag = "  <- contended: wall times inflated" if share > 0.1 else ""
    return f"other processes used {100 * share:.0f} % of the machine's CPUs during this section{flag}"


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target beside the figure measured for it in this run (None where a section was skipped)."""
    rows = []
    rep = res.get("replicate")
    if rep:
        off = rep["agents_off"]
        rows.append(dict(what="one baseline replicate (batch: firm agents on demand)", target=f"<= {1000 * TARGET_REPLICATE_S:.0f} ms",
                         figure=f"{1000 * off['total_s']:.0f} ms wall, {1000 * off['total_cpu_s']:.0f} ms CPU",
                         ok=off["total_s"] <= TARGET_REPLICATE_S))
    thr = res.get("throughput")
    big = [r for r in (thr or {}).get("rows", []) if r["size"] == "1M" and not r["firm_agents"] and "peak_rss_mb" in r]
    if big:
        r = big[0]
        rows.append(dict(what="firm-steps per second per core at 1 M firms", target=">= 20 M",
                         figure=f"{r['firm_steps_per_cpu_s'] / 1e6:.1f} M per CPU-second ({r['firm_steps_per_s'] / 1e6:.1f} M wall)",
                         ok=r["firm_steps_per_cpu_s"] >= TARGET_FIRM_STEPS_PER_S))
        rows.append(dict(what="peak memory at 1 M firms", target=f"<= {TARGET_PEAK_RSS_MB:,.0f} MB",
                         figure=f"{r['peak_rss_mb']:,.0f} MB", ok=r["peak_rss_mb"] <= TARGET_PEAK_RSS_MB))
    ref = res.get("reference")
    if ref:
        for r in ref["rows"]:
            rows.append(dict(what=f"engine / fair per-agent Mesa reference at {r['firms']:,} firms",
                             target=f">= {TARGET_REFERENCE_RATIO:.0f}x",
                             figure=f"{r['ratio']:.0f}x ({r['ratio_sync']:.0f}x with the reference's copying)",
                             ok=r["ratio"] >= TARGET_REFERENCE_RATIO))
    full = res.get("full_run")
    if full and "as_is" in full:
        for key, label in (("as_is", "as the scenario stands"), ("parquet_only", "without data.csv")):
            run = full.get(key)
            if run and "median_s" in run:
                rows.append(dict(what=f"simulate scenarios/baseline.toml, 2 workers, with its counterfactual "
                                      f"({full['scenario_runs']} x {full['replicates']} replicates), {label}",
                                 target=f"<= {TARGET_FULL_RUN_S:.0f} s", figure=f"{run['median_s']:.1f} s",
                                 ok=run["median_s"] <= TARGET_FULL_RUN_S))
    sweep = res.get("sweep")
    if sweep:
        eff = sweep["steady_runs_per_second"]["efficiency"]
        rows.append(dict(what="sweep parallel efficiency, 1 -> 2 workers (steady state)",
                         target=f">= {TARGET_SWEEP_EFFICIENCY:.0%}",
                         figure=f"{eff:.0%} (end to end {sweep['end_to_end_runs_per_second']['efficiency']:.0%}; "
                                f"other processes {sweep['other_cpu_share']:.0%} of the CPU)",
                         ok=eff >= TARGET_SWEEP_EFFICIENCY))
    return rows


def report(res: dict[str, Any]) -> None:
    env = res["environment"]
    print(f"Benchmark of {env['scenario']}  ({env['mode']} mode, {env['date']})")
    print(f"python {env['python']}, numpy {env['numpy']}, mesa {env['mesa']}; {env['cpus']} CPUs ({env['cpu_model']}); "
          f"git {env['git']}")
    print(f"before starting: CPUs {100 * env['cpu_busy_before']:.0f} % busy, load average {env['loadavg_before']:.2f}"
          f"; at the end: load average {res.get('loadavg_after', float('nan')):.2f}")
    print(f"reference NumPy kernel (no model code): {env['machine_speed_ms']:.1f} ms; lower = faster machine, "
          f"compare across runs")
    if env["cpu_busy_before"] > 0.1:
        print("WARNING: other processes were using the CPUs; wall times are inflated (see the wall/CPU columns)")

    rep = res.get("replicate")
    if rep:
        ms = lambda x: f"{1000 * x:.1f} ms"  # noqa: E731
        rows = []
        for name, key in (("batch, numba kernels (as simulate runs)", "agents_off"),
                          ("batch, NumPy reference rules", "numpy_rules"),
                          ("firm agents on (Mesa view per firm)", "agents_on")):
            r = rep[key]
            target = key == "agents_off"
            rows.append([name, f"{r['firms_start']:,.0f}", ms(r["init_s"]), ms(r["step_s"]), ms(r["total_s"]),
                         f"{r['firm_steps_per_s'] / 1e6:.2f} M", f"{r['firm_steps_per_cpu_s'] / 1e6:.2f} M",
                         f"{r['step_s'] / r['step_cpu_s']:.2f}", f"<= {ms(TARGET_REPLICATE_S)}" if target else "",
                         verdict(r["total_s"] <= TARGET_REPLICATE_S) if target else ""])
        for label, key in (("ratio NumPy rules / numba (per seed)", "ratio_numpy_numba"),
                           ("ratio agents on / off (per seed)", "ratio_on_off")):
            q = rep[key]
            rows.append([label, "", f"{q['init_s']:.2f}x", f"{q['step_s']:.2f}x", f"{q['total_s']:.2f}x", "", "", "", "", ""])
        print_table(f"1. One baseline replicate (median of {rep['repeats']}; scenario load "
                    f"{ms(rep['scenario_load_s'])} once per run, not included)",
                    ["", "firms", "init", "step", "init+step", "firm-steps/s", "per CPU-s", "wall/CPU", "target", ""],
                    rows)
        print(_others_line(rep))

    thr = res.get("throughput")
    if thr:
        rows = []
        for r in thr["rows"]:
            agents = "on" if r["firm_agents"] else "off"
            n = len(r.get("runs", []))
            if "skipped" in r or "error" in r:
                rows.append([r["size"], agents, *[""] * 10, "skipped (see note)" if "skipped" in r else r["error"], ""])
                continue
            target = ok = None
            if r["size"] == "1M" and not r["firm_agents"]:
                target = f">= 20 M/CPU-s, <= {TARGET_PEAK_RSS_MB:,.0f} MB"
                ok = r["firm_steps_per_cpu_s"] >= TARGET_FIRM_STEPS_PER_S and r["peak_rss_mb"] <= TARGET_PEAK_RSS_MB
            rows.append([r["size"], agents, str(n), f"{r['firms_start']:,.0f}", f"{r['firms_end']:,.0f}",
                         f"{r['init_s']:.2f} s", f"{r['step_s']:.2f} s", f"{r['firm_steps_per_s'] / 1e6:.2f} M",
                         f"{r['firm_steps_per_cpu_s'] / 1e6:.2f} M", f"{r['step_s'] / r['step_cpu_s']:.2f}",
                         f"{r['rss_before_model_mb']:,.0f} MB", f"{r['peak_rss_mb']:,.0f} MB", target or "",
                         verdict(ok)])
        print_table("2. Throughput and memory, stepping phase only, one process pinned to one core, fresh process "
                    "per run (median)",
                    ["initial firms", "agents", "runs", "firms@start", "firms@end", "init", "step",
                     "firm-steps/s", "per CPU-s", "wall/CPU", "RSS before", "peak RSS", "target", ""], rows)
        for r in thr["rows"]:
            if r.get("note") or r.get("skipped"):
                agents = "on" if r["firm_agents"] else "off"
                print(f"note: {r['size']} with firm agents {agents}: {r.get('skipped') or r['note']}")
        print(_others_line(thr))

    ref = res.get("reference")
    if ref:
        rows = []
        for r in ref["rows"]:
            rows.append([f"{r['firms']:,}", f"{r['ref_steps']}/{r['steps']}", f"{r['engine'] / 1e6:.2f} M",
                         f"{r['reference'] / 1e3:.0f} k", f"{r['ratio']:.0f}x", f"{r['ratio_sync']:.0f}x",
                         f"{r['rules_ratio']:.0f}x", f"{r['sync']:.0%}", f">= {TARGET_REFERENCE_RATIO:.0f}x",
                         verdict(r["ratio"] >= TARGET_REFERENCE_RATIO)])
        print_table(f"3. Engine against the per-agent Mesa reference (CPU time, in lockstep; reference timed over "
                    f"its first {ref['budget_s']:.0f} CPU-s)",
                    ["firms", "ref steps", "engine/s", "ref/s", "ratio", "+sync", "rules ratio", "sync", "target", ""],
                    rows)
        print("ratio: whole steps, the reference's copying of its agents into the table left out (fair); +sync: "
              "counted against it; rules ratio: the firm-rule calls only")
        print(_others_line(ref))

    full = res.get("full_run")
    if full:
        rows = []
        for key in ("as_is", "parquet_only"):
            run = full.get(key)
            if not run:
                continue
            if "median_s" in run:
                rows.append([run["command"], str(len(run["times_s"])), f"{run['median_s']:.1f} s",
                             f"{run['median_cpu_s']:.1f} s", f"<= {TARGET_FULL_RUN_S:.0f} s",
                             verdict(run["median_s"] <= TARGET_FULL_RUN_S)])
            else:
                rows.append([run["command"], "", run.get("error", "not measured"), "", f"<= {TARGET_FULL_RUN_S:.0f} s", ""])
        rows.append([f"projection: {full['scenario_runs']} x {full['replicates']} x CPU time of a replicate / "
                     f"{WORKERS} workers", "", f"{full['projection_s']:.1f} s", "", "", "(estimate)"])
        print_table(f"4. Full baseline run with its counterfactual ({full['scenario_runs']} x {full['replicates']} "
                    f"replicates) on {WORKERS} workers, end to end",
                    ["", "runs", "wall time", "CPU time", "target", ""], rows)
        if full.get("note"):
            print(f"note: {full['note']}")
        print(_others_line(full))

    sweep = res.get("sweep")
    if sweep:
        rows = []
        for key, label in (("steady_runs_per_second", "steady state"), ("end_to_end_runs_per_second", "end to end")):
            q = sweep[key]
            rows.append([label, f"{q['1']:.2f}", f"{q['2']:.2f}", f"{q['efficiency']:.0%}",
                         f">= {TARGET_SWEEP_EFFICIENCY:.0%}" if key.startswith("steady") else "",
                         verdict(q["efficiency"] >= TARGET_SWEEP_EFFICIENCY) if key.startswith("steady") else ""])
        print_table(f"5. Sweep throughput (runs/s), {sweep['runs']} baseline runs per measurement, "
                    f"{sweep['repeats']} repeat(s) per worker count",
                    ["", "1 worker", "2 workers", "efficiency", "target", ""], rows)
        print(f"other processes used {sweep['other_cpu_share']:.0%} of the machine's CPUs (median over measurements)")

    rows = [[t["what"], t["target"], t["figure"], verdict(t["ok"])] for t in targets(res)]
    if rows:
        print_table(f"Targets (load average {env['loadavg_before']:.2f} before, "
                    f"{res.get('loadavg_after', float('nan')):.2f} after)", ["", "target", "measured", ""], rows)
    print()


def readme_section(res: dict[str, Any]) -> str:
    """The README's performance section, from one run's measurements (never typed by hand)."""
    env = res["environment"]
    lines = [
        MARKERS[0],
        f"Measured by `python benchmarks/benchmark_model.py{' --quick' if env['mode'] == 'quick' else ''} --readme` "
        f"on {env['date'][:10]} ({env['cpus']} CPUs, {env['cpu_model'] or 'unknown CPU'}; git {env['git']}); "
        f"the machine's load average was {env['loadavg_before']:.1f} before and "
        f"{res.get('loadavg_after', float('nan')):.1f} after, other processes used "
        f"{100 * env['cpu_busy_before']:.0f} % of its CPUs when it started, so wall times are "
        + ("inflated and CPU times are the better guide." if env["cpu_busy_before"] > 0.1 else "close to CPU times."),
        "",
        "| target | measured | |",
        "|---|---|---|",
    ]
    for t in targets(res):
        lines.append(f"| {t['what']}: {t['target']} | {t['figure']} | {verdict(t['ok'])} |")
    rep = res.get("replicate")
    if rep:
        lines += ["", f"One replicate with the NumPy reference rules (`SIMULATE_KERNELS=numpy`) takes "
                      f"{rep['ratio_numpy_numba']['total_s']:.1f}x as long as with the compiled kernels (same seeds, "
                      f"same run); with a Mesa agent kept for every firm, {rep['ratio_on_off']['total_s']:.1f}x."]
    lines.append(MARKERS[1])
    return "\n".join(lines)


def write_readme(res: dict[str, Any], path: Path = README) -> None:
    """Replace the text between the performance markers of the README with :func:`readme_section`."""
    text = path.read_text(encoding="utf-8")
    start, end = text.find(MARKERS[0]), text.find(MARKERS[1])
    if start < 0 or end < start:
        raise SystemExit(f"{path}: the performance markers are missing ({MARKERS[0]} ... {MARKERS[1]})")
    path.write_text(text[:start] + readme_section(res) + text[end + len(MARKERS[1]):], encoding="utf-8")


def _system_busy_s() -> float:
    """CPU seconds all processes on the machine have used since boot (from /proc/stat)."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:8]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def _own_cpu_s() -> float:
    """CPU seconds of this process and its waited-for descendants."""
    return sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))


class OthersCpu:
    """Share of the machine's CPUs other processes used while the ``with`` block ran."""

    def __enter__(self) -> OthersCpu:
        self.t0, self.sys0, self.own0 = time.perf_counter(), _system_busy_s(), _own_cpu_s()
        return self

    def __exit__(self, *exc) -> None:
        wall = time.perf_counter() - self.t0
        others = (_system_busy_s() - self.sys0) - (_own_cpu_s() - self.own0)
        self.share = min(max(others / max(wall * (os.cpu_count() or 1), 1e-9), 0.0), 1.0)


def _cpu_busy(seconds: float = 1.0) -> float:
    """Share of the CPUs busy over ``seconds`` before the benchmark starts."""
    with OthersCpu() as watch:
        time.sleep(seconds)
    return watch.share


def _machine_speed_ms() -> float:
    """A fixed NumPy kernel (exp, multiply-add, bincount over 1 M values; best of 5), in ms.

    It does not depend on the model, so comparing it between two runs tells a slower model
    from a slower machine (a virtual machine's neighbours are invisible to the CPU counters).
    """
    import numpy as np

    x = np.random.default_rng(0).random(1_000_000)
    groups = (x * 340).astype(np.intp)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(5):
            y = np.exp(x) * 0.5 + x
            np.bincount(groups, weights=y, minlength=340)
        best = min(best, time.perf_counter() - t0)
    return 1000 * best


def environment(mode: str) -> dict[str, Any]:
    import mesa
    import numpy

    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu_model = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    except OSError:
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=REPO).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "simulation"], capture_output=True,
                               text=True, cwd=REPO).stdout.strip()
        git = commit + (" + uncommitted changes in simulation/" if dirty else "")
    except OSError:
        git = "unknown"
    return {
        "cpu_busy_before": _cpu_busy(),
        "loadavg_before": os.getloadavg()[0],
        "machine_speed_ms": _machine_speed_ms(),
        "scenario": os.path.relpath(SCENARIO, REPO),
        "mode": mode,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "mesa": mesa.__version__,
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "git": git,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no 1 M-firm runs, smaller sweeps")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write all measurements to this JSON file")
    parser.add_argument("--repeats", type=int, help="replicates timed in section 1 (default 5, quick 3)")
    parser.add_argument("--no-full-run", action="store_true", help="skip section 4 (the full baseline run)")
    parser.add_argument("--no-sweep", action="store_true", help="skip section 5 (sweep efficiency)")
    parser.add_argument("--no-reference", action="store_true", help="skip section 3 (the per-agent reference)")
    parser.add_argument("--readme", action="store_true",
                        help="write the README's performance section (between its markers) from this run")
    parser.add_argument("--from-json", type=Path, metavar="PATH",
                        help="report (and with --readme, write the README) from an earlier --json file; no measuring")
    parser.add_argument("--_child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))  # works without the editable install too
    if args._child:
        child_main(json.loads(args._child))
        return 0
    if args.from_json:
        res = json.loads(args.from_json.read_text())
    else:
        res = measure_all("quick" if args.quick else "full", args)
    report(res)
    if args.json and not args.from_json:
        args.json.write_text(json.dumps(res, indent=2, default=str))
        print(f"measurements written to {args.json}")
    if args.readme:
        write_readme(res)
        print(f"performance section written to {os.path.relpath(README, Path.cwd())}")
    return 0


def measure_all(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    res: dict[str, Any] = {"environment": environment(mode)}
    sections = [
        ("replicate", lambda: bench_replicate(args.repeats or REPEATS[mode][0])),
        ("throughput", lambda: bench_throughput(mode)),
        ("reference", None if args.no_reference else lambda: bench_reference(mode)),
        ("full_run", None if args.no_full_run else
            lambda: bench_full_run(FULL_RUN_REPEATS[mode], res["replicate"]["agents_off"]["total_cpu_s"])),
        ("sweep", None if args.no_sweep else lambda: bench_sweep(mode)),
    ]
    for name, run in sections:
        if run is None:
            continue
        print(f"{name} ...", file=sys.stderr, flush=True)
        with OthersCpu() as watch:
            res[name] = run()
        res[name]["others_cpu_share"] = watch.share
    res["loadavg_after"] = os.getloadavg()[0]
    return res


if __name__ == "__main__":
    sys.exit(main())
