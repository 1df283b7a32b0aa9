"""Benchmark the cluster model: one replicate, throughput by firm count, memory, a full run.

Run from the repository root (with the project's virtualenv)::

    python benchmarks/benchmark_model.py                 # everything: ~6 min on 2 idle cores, half of it
                                                         # the three 400-replicate runs of section 4
    python benchmarks/benchmark_model.py --quick         # fewer repeats, no 1 M-firm runs, one full run (~2 min)
    python benchmarks/benchmark_model.py --json out.json # also write every measurement as JSON
    python benchmarks/benchmark_model.py --no-full-run   # skip section 4 (the 400-replicate runs)

It prints four sections, each number beside its target (``ok`` / ``MISS``):

1. **One baseline replicate** (``scenarios/baseline.toml``, ~17 k firms, 20 quarterly steps),
   in this process after one untimed warm-up replicate: wall time of the constructor
   ``ClusterModel(spec, rng=seed, firm_agents=...)`` (*init*: parameter draws, the initial
   firm population, towns, agencies, funds and, with firm agents on, one Mesa ``Firm`` view
   object per firm) and of ``.run()`` (*step*: the 20 steps, including the Firm views created
   for entrants and removed for exits). Medians over ``--repeats`` replicates with seeds
   ``seed, seed+1, ...``; agents on and off use the same seeds, run alternately, and their
   ratio is taken per seed (results are identical either way; only the time differs).
   Target: init + step <= 0.1 s.
2. **Throughput**: firm-steps per second = (alive firms summed over the steps) / step time,
   stepping phase only. "Alive firms" is the count alive at the start of each step (the
   recorder's city ``firms`` series, steps 0..n-1). The firm count is set with
   ``simulation.below_scale_ratio`` so that the *initial* population is about 10 k, 100 k or
   1 M firms; 10 k is below the above-scale firms alone (~12 k), so that size is run at
   ratio 0. Every run is a fresh subprocess (this script with a hidden ``--_child`` flag)
   pinned to one CPU with numeric libraries limited to one thread, so it is single-process,
   single-core; each child first runs a small untimed warm-up model. Medians over repeats
   (seeds ``seed, seed+1, ...``). "per CPU-s" divides by the child's CPU time instead of wall
   time (robust to other processes sharing the core). Firm agents on are run at 1 M only if
   the estimate from the 100 k runs fits in 80 % of the available memory (a note says which).
   Target: >= 20 M firm-steps/s per core at 1 M firms.
3. **Peak memory** (RSS) of the 1 M-firm subprocesses: ``ru_maxrss`` of the child itself
   (``getrusage(RUSAGE_SELF)``, read at its end; this is the same number the parent's
   ``RUSAGE_CHILDREN`` reports for its largest child, but per child). It includes the
   interpreter and its imports (``import mesa`` alone pulls in SciPy, pandas and networkx)
   and the small warm-up model; "RSS before" / "RSS before model" is the resident size just
   before the timed model is built, for reference. Section 2 shows the same two numbers for
   every size. Target: <= 2 GB at 1 M firms.
4. **Full baseline run**: ``simulate scenarios/baseline.toml --quiet --out <tmpdir>`` (the
   scenario's 400 replicates) timed end to end as a subprocess, with ``--workers 2`` (or the
   CLI's equivalent option) if its ``--help`` lists one. If the CLI is not installed yet,
   ``simulation.experiments.runner.run_replicates(spec, seeds=<the scenario's 400 seeds>,
   workers=2, progress=False)`` is timed in this process instead if it exists (no output
   files are written then); otherwise the section is skipped with a note. A *projection*
   (400 x median replicate time of section 1 / 2 workers: perfect scaling, no start-up, no
   output writing) is always shown for comparison; it is not a measurement.
   Target: <= 30 s on 2 cores.

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
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import inspect
import json
import os
import platform
import re
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

TARGET_REPLICATE_S = 0.1
TARGET_FIRM_STEPS_PER_S = 20e6
TARGET_PEAK_RSS_MB = 2048.0
TARGET_FULL_RUN_S = 30.0
WORKERS = 2

#: size label -> initial firms wanted
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
#: (replicate repeats, repeats per size) in full and quick mode
REPEATS = {"full": (5, {"10k": 5, "100k": 3, "1M": 2}), "quick": (3, {"10k": 3, "100k": 2})}
FULL_RUN_REPEATS = {"full": 3, "quick": 1}
RESULT_MARK = "@@benchmark-result "
ONE_THREAD = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")}


# --- measuring one replicate ------------------------------------------------------------------


def load_spec(ratio: float | None = None):
    from simulation.scenario import load_scenario

    overrides = [] if ratio is None else [f"simulation.below_scale_ratio={ratio!r}"]
    return load_scenario(SCENARIO, overrides).spec


def time_replicate(spec, seed: int, firm_agents: bool) -> dict[str, Any]:
    """Time the constructor and ``.run()`` of one replicate separately; count firm-steps."""
    from simulation.model.model import ClusterModel
    from simulation.model.results import CITY_METRICS

    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    model = ClusterModel(spec, rng=seed, firm_agents=firm_agents)
    c1, t1 = time.process_time(), time.perf_counter()
    result = model.run()
    c2, t2 = time.process_time(), time.perf_counter()
    alive = result.city[:, list(CITY_METRICS).index("firms")]  # alive after step 0..n (0 = start)
    return {
        "seed": seed,
        "firm_agents": firm_agents,
        "init_s": t1 - t0,
        "step_s": t2 - t1,
        "total_s": t2 - t0,
        "init_cpu_s": c1 - c0,
        "step_cpu_s": c2 - c1,
        "steps": model.n_steps,
        "firms_start": int(alive[0]),
        "firms_end": int(alive[-1]),
        "table_rows": int(model.firms.n),
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

    warm = load_spec(0.0)
    ClusterModel(warm, rng=config["seed"] + 10**6, firm_agents=False).run()
    spec = load_spec(config["ratio"])
    del warm
    gc.collect()
    rss_ready = current_rss_mb()
    out = time_replicate(spec, config["seed"], config["firm_agents"])
    out.update(ratio=config["ratio"], rss_before_model_mb=rss_ready, peak_rss_mb=peak_rss_mb(), cpu=cpus[-1])
    print(RESULT_MARK + json.dumps(out), flush=True)


def run_child(ratio: float, seed: int, firm_agents: bool) -> dict[str, Any]:
    config = {"ratio": ratio, "seed": seed, "firm_agents": firm_agents}
    env = {**os.environ, **ONE_THREAD}
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_child", json.dumps(config)],
                          capture_output=True, text=True, env=env, cwd=REPO)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {**config, "error": f"exit code {proc.returncode}: {tail}"}


# --- the four sections ------------------------------------------------------------------------


def bench_replicate(repeats: int) -> dict[str, Any]:
    spec = load_spec()
    root = spec.simulation.seed
    t0 = time.perf_counter()
    load_spec()
    load_s = time.perf_counter() - t0
    for agents in (False, True):  # warm-up: data pack caches, first-call costs
        time_replicate(spec, root - 1, agents)
    runs: dict[str, list[dict]] = {"agents_on": [], "agents_off": []}
    for i in range(repeats):
        for agents in ((False, True) if i % 2 == 0 else (True, False)):
            runs["agents_on" if agents else "agents_off"].append(time_replicate(spec, root + i, agents))
    out: dict[str, Any] = {"scenario_load_s": load_s, "repeats": repeats, "runs": runs}
    for key, rs in runs.items():
        out[key] = {k: statistics.median(r[k] for r in rs)
                    for k in ("init_s", "step_s", "total_s", "step_cpu_s", "firms_start", "firm_steps_per_s")}
    pairs = list(zip(runs["agents_on"], runs["agents_off"]))  # same seed in each pair
    out["ratio_on_off"] = {k: statistics.median(on[k] / off[k] for on, off in pairs)
                           for k in ("init_s", "step_s", "total_s")}
    return out


def bench_throughput(mode: str) -> dict[str, Any]:
    from simulation.model.model import ClusterModel

    base = load_spec(0.0)
    root = base.simulation.seed
    n_above = ClusterModel(base, rng=root, firm_agents=False).firms.n  # firms at ratio 0 (seed root)
    repeats = REPEATS[mode][1]
    rows: list[dict[str, Any]] = []
    for label, repeat in repeats.items():
        ratio = round(max(SIZES[label] / n_above - 1.0, 0.0), 3)
        for agents in (False, True):
            note = ""
            if agents and label == "1M":
                fits, note = _agents_fit_in_memory(rows)
                if not fits:
                    rows.append({"size": label, "ratio": ratio, "firm_agents": True, "skipped": note})
                    continue
            runs = [run_child(ratio, root + i, agents) for i in range(repeat)]
            good = [r for r in runs if "error" not in r]
            row: dict[str, Any] = {"size": label, "ratio": ratio, "firm_agents": agents, "runs": runs, "note": note}
            if good:
                for k in ("init_s", "step_s", "step_cpu_s", "firm_steps_per_s", "firm_steps_per_cpu_s",
                          "firms_start", "firms_end", "table_rows", "rss_before_model_mb"):
                    row[k] = statistics.median(r[k] for r in good)
                row["peak_rss_mb"] = max(r["peak_rss_mb"] for r in good)
            else:
                row["error"] = runs[0]["error"]
            rows.append(row)
    return {"above_scale_firms": n_above, "rows": rows}


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


def bench_full_run(repeats: int, replicate_s: dict[str, float]) -> dict[str, Any]:
    spec = load_spec()
    n_rep = spec.simulation.replicates
    out: dict[str, Any] = {
        "replicates": n_rep,
        "projection_s": {k: n_rep * v / WORKERS for k, v in replicate_s.items()},
    }
    exe = Path(sys.executable).with_name("simulate")
    exe = str(exe) if exe.exists() else shutil.which("simulate")
    cli_module = importlib.util.find_spec("simulation.cli") is not None
    if exe and cli_module:
        out.update(_time_cli(exe, repeats))
        return out
    note = "`simulate` CLI not available" + (" (entry point installed, simulation.cli missing)" if exe else "")
    try:
        runner = importlib.import_module("simulation.experiments.runner")
        run_replicates = runner.run_replicates
    except (ImportError, AttributeError):
        out.update(method="skipped", note=note + "; simulation.experiments.runner.run_replicates not there either")
        return out
    out.update(_time_run_replicates(run_replicates, repeats), note=note + "; timed run_replicates instead")
    return out


def _time_cli(exe: str, repeats: int) -> dict[str, Any]:
    cmd = [exe, str(SCENARIO), "--quiet"]
    help_text = subprocess.run([exe, "--help"], capture_output=True, text=True, cwd=REPO).stdout
    help_text += subprocess.run([exe, str(SCENARIO), "--help"], capture_output=True, text=True, cwd=REPO).stdout
    names = ("--workers", "--jobs", "--processes", "-j")
    option = next((o for o in names if re.search(rf"(?<![\w-]){o}\b", help_text)), None)
    if option:
        cmd += [option, str(WORKERS)]
    times, cpu, error = [], [], None
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-simulate-") as tmp:
            before = _children_cpu_s()
            t0 = time.perf_counter()
            proc = subprocess.run([*cmd, "--out", tmp], capture_output=True, text=True, cwd=REPO)
            elapsed = time.perf_counter() - t0
            cpu.append(_children_cpu_s() - before)
        if proc.returncode != 0:
            error = f"exit code {proc.returncode}: {(proc.stderr.strip().splitlines() or [''])[-1]}"
            break
        times.append(elapsed)
    shown = " ".join([Path(cmd[0]).name, *[os.path.relpath(c, REPO) if c == str(SCENARIO) else c for c in cmd[1:]]])
    result: dict[str, Any] = {"method": "cli", "command": shown + " --out <tmpdir>", "times_s": times,
                              "cpu_s": cpu}
    if times:
        result["median_s"] = statistics.median(times)
        result["median_cpu_s"] = statistics.median(cpu[: len(times)])
    if error:
        result["error"] = error
    if not option:
        result["note"] = "the CLI lists no workers option; ran with its default"
    return result


def _children_cpu_s() -> float:
    """User + system CPU seconds of all waited-for descendants (the CLI and its workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time_run_replicates(run_replicates, repeats: int) -> dict[str, Any]:
    """``run_replicates(spec, seeds=..., workers=2, progress=False)``, matched to its signature."""
    spec = load_spec()
    sim = spec.simulation
    try:
        from simulation.experiments.seeds import replicate_seeds

        seeds = replicate_seeds(sim.seed, sim.replicates)
    except ImportError:
        seeds = [sim.seed + i for i in range(sim.replicates)]
    params = inspect.signature(run_replicates).parameters
    offered = {"seeds": seeds, "workers": WORKERS, "n_workers": WORKERS, "progress": False}
    kwargs = {k: v for k, v in offered.items() if k in params}
    shown = {k: (f"<{len(v)} seeds>" if k == "seeds" else v) for k, v in kwargs.items()}
    times, cpu = [], []
    try:
        for _ in range(repeats):
            before = _children_cpu_s() + time.process_time()
            t0 = time.perf_counter()
            run_replicates(spec, **kwargs)
            times.append(time.perf_counter() - t0)
            cpu.append(_children_cpu_s() + time.process_time() - before)
    except Exception as exc:  # an API this call does not fit: report it, do not crash the benchmark
        return {"method": "run_replicates", "kwargs": shown, "times_s": times,
                "error": f"{type(exc).__name__}: {exc}"}
    return {"method": "run_replicates", "kwargs": shown, "times_s": times, "cpu_s": cpu,
            "median_s": statistics.median(times), "median_cpu_s": statistics.median(cpu)}


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
        on, off, ratio = rep["agents_on"], rep["agents_off"], rep["ratio_on_off"]
        ms = lambda s: f"{1000 * s:.1f} ms"  # noqa: E731
        rows = []
        for name, r in (("firm agents on (default)", on), ("firm agents off", off)):
            rows.append([name, f"{r['firms_start']:,.0f}", ms(r["init_s"]), ms(r["step_s"]), ms(r["total_s"]),
                         f"{r['firm_steps_per_s'] / 1e6:.2f} M", f"{r['step_s'] / r['step_cpu_s']:.2f}",
                         f"<= {ms(TARGET_REPLICATE_S)}", verdict(r["total_s"] <= TARGET_REPLICATE_S)])
        rows.append(["ratio on / off (per seed)", "", f"{ratio['init_s']:.2f}x", f"{ratio['step_s']:.2f}x",
                     f"{ratio['total_s']:.2f}x", "", "", "", ""])
        print_table(f"1. One baseline replicate (median of {rep['repeats']}; scenario load "
                    f"{ms(rep['scenario_load_s'])} once per run, not included)",
                    ["", "firms", "init", "step", "init+step", "firm-steps/s", "wall/CPU", "target", ""], rows)
        print(_others_line(rep))

    thr = res.get("throughput")
    if thr:
        rows = []
        for r in thr["rows"]:
            label = f"{r['size']} (ratio {r['ratio']:g})"
            agents = "on" if r["firm_agents"] else "off"
            n = len(r.get("runs", []))
            if "skipped" in r or "error" in r:
                rows.append([label, agents, *[""] * 10, "skipped (see note)" if "skipped" in r else r["error"], ""])
                continue
            target = ok = None
            if r["size"] == "1M":
                target = ">= 20 M/s, <= 2 GB"
                ok = r["firm_steps_per_s"] >= TARGET_FIRM_STEPS_PER_S and r["peak_rss_mb"] <= TARGET_PEAK_RSS_MB
            rows.append([label, agents, str(n), f"{r['firms_start']:,.0f}", f"{r['firms_end']:,.0f}",
                         f"{r['init_s']:.2f} s", f"{r['step_s']:.2f} s", f"{r['firm_steps_per_s'] / 1e6:.2f} M",
                         f"{r['firm_steps_per_cpu_s'] / 1e6:.2f} M", f"{r['step_s'] / r['step_cpu_s']:.2f}",
                         f"{r['rss_before_model_mb']:,.0f} MB", f"{r['peak_rss_mb']:,.0f} MB", target or "",
                         verdict(ok)])
        print_table(f"2. Throughput, stepping phase only, one process pinned to one core, fresh process per run "
                    f"(median; above-scale firms alone: {thr['above_scale_firms']:,})",
                    ["initial firms", "agents", "runs", "firms@start", "firms@end", "init", "step",
                     "firm-steps/s", "per CPU-s", "wall/CPU", "RSS before", "peak RSS", "target", ""], rows)
        for r in thr["rows"]:
            if r.get("note") or r.get("skipped"):
                agents = "on" if r["firm_agents"] else "off"
                print(f"note: {r['size']} with firm agents {agents}: {r.get('skipped') or r['note']}")
        print(_others_line(thr))

        big = [r for r in thr["rows"] if r["size"] == "1M"]
        rows = []
        for r in big:
            agents = "firm agents " + ("on" if r["firm_agents"] else "off")
            if "peak_rss_mb" not in r:
                rows.append([agents, r.get("skipped") or r.get("error", ""), "", "", ""])
                continue
            rows.append([agents, f"{r['peak_rss_mb']:,.0f} MB", f"{r['rss_before_model_mb']:,.0f} MB",
                         f"<= {TARGET_PEAK_RSS_MB:,.0f} MB", verdict(r["peak_rss_mb"] <= TARGET_PEAK_RSS_MB)])
        if rows:
            print_table("3. Peak memory (max RSS of the child process) at 1 M initial firms",
                        ["", "peak RSS", "RSS before model", "target", ""], rows)
        else:
            print("\n3. Peak memory at 1 M firms: skipped (--quick); see the peak RSS column above for smaller sizes")

    full = res.get("full_run")
    if full:
        rows = []
        if full.get("method") == "cli":
            what = full["command"]
        elif full.get("method") == "run_replicates":
            what = f"run_replicates(spec, {', '.join(f'{k}={v}' for k, v in full.get('kwargs', {}).items())})"
        else:
            what = "skipped"
        if "median_s" in full:
            rows.append([what, f"{len(full['times_s'])}", f"{full['median_s']:.1f} s",
                         f"{full['median_cpu_s']:.1f} s", f"<= {TARGET_FULL_RUN_S:.0f} s",
                         verdict(full["median_s"] <= TARGET_FULL_RUN_S)])
        else:
            rows.append([what, "", full.get("error", "not measured"), "", f"<= {TARGET_FULL_RUN_S:.0f} s", ""])
        for agents, s in full["projection_s"].items():
            rows.append([f"projection: {full['replicates']} x median replicate ({agents.replace('_', ' ')}) "
                         f"/ {WORKERS} workers", "", f"{s:.1f} s", "", f"<= {TARGET_FULL_RUN_S:.0f} s", "(estimate)"])
        print_table(f"4. Full baseline run, {full['replicates']} replicates on {WORKERS} workers",
                    ["", "runs", "wall time", "CPU time", "target", ""], rows)
        print(_others_line(full))
        if full.get("note"):
            print(f"note: {full['note']}")
        if full.get("error") and "median_s" in full:
            print(f"error: {full['error']}")
    print()


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
    parser.add_argument("--quick", action="store_true", help="fewer repeats, skip the 1 M-firm runs")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write all measurements to this JSON file")
    parser.add_argument("--repeats", type=int, help="replicates timed in section 1 (default 5, quick 3)")
    parser.add_argument("--no-full-run", action="store_true", help="skip section 4 (the 400-replicate run)")
    parser.add_argument("--_child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))  # works without the editable install too
    if args._child:
        child_main(json.loads(args._child))
        return 0

    mode = "quick" if args.quick else "full"
    res: dict[str, Any] = {"environment": environment(mode)}
    print(f"running ({mode} mode) ...", file=sys.stderr, flush=True)
    with OthersCpu() as watch:
        res["replicate"] = bench_replicate(args.repeats or REPEATS[mode][0])
    res["replicate"]["others_cpu_share"] = watch.share
    print("section 1 done; throughput runs ...", file=sys.stderr, flush=True)
    with OthersCpu() as watch:
        res["throughput"] = bench_throughput(mode)
    res["throughput"]["others_cpu_share"] = watch.share
    if not args.no_full_run:
        print("section 2 done; full run ...", file=sys.stderr, flush=True)
        rep = res["replicate"]
        with OthersCpu() as watch:
            res["full_run"] = bench_full_run(FULL_RUN_REPEATS[mode], {
                "agents_on": rep["agents_on"]["total_s"], "agents_off": rep["agents_off"]["total_s"]})
        res["full_run"]["others_cpu_share"] = watch.share
    res["loadavg_after"] = os.getloadavg()[0]
    report(res)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, default=str))
        print(f"measurements written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
