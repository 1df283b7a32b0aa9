"""Profile one replicate of the baseline scenario and print where the time goes.

Run from the repository root::

    python benchmarks/profile_replicate.py                  # cProfile, baseline, firm agents on
    python benchmarks/profile_replicate.py --no-firm-agents # without the Mesa Firm view objects
    python benchmarks/profile_replicate.py --ratio 16       # ~200k firms (simulation.below_scale_ratio)
    python benchmarks/profile_replicate.py --phase step     # profile only ``.run()``, not the constructor
    python benchmarks/profile_replicate.py --pyinstrument   # also a pyinstrument call tree, if installed
    python benchmarks/profile_replicate.py --save prof.out  # keep the raw cProfile stats (snakeviz, pstats)
    python benchmarks/profile_replicate.py --cpu            # CPU time instead of wall time (a busy machine)
    SIMULATE_KERNELS=numpy python benchmarks/profile_replicate.py  # the NumPy reference rules

What is profiled: ``ClusterModel(spec, rng=seed, firm_agents=...)`` (initialisation) followed by
``.run()`` (20 quarterly steps), after one unprofiled warm-up replicate so that one-off costs
(reading the data pack CSVs, first-call caches) are left out, as they are for every replicate but
the first in a worker process. The scenario is loaded once, outside the profile.

Output: the top N functions (default 25) sorted by *cumulative* time (time in the function and
everything it calls: which parts of the schedule are expensive) and by *total* (own) time (time
in the function's own code: where the CPU actually is). ``calls`` is primitive/total calls.
cProfile adds a fixed cost to every Python call, so code that makes many small Python calls (the
per-firm Mesa agents) looks relatively more expensive here than in the wall-clock benchmark;
``--pyinstrument`` (a sampling profiler, not required) is not affected by that.
Only the standard library's cProfile is required.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import sysconfig
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "baseline.toml"


def _short(filename: str) -> str:
    """A profile entry's file, relative to the repository or site-packages where possible."""
    if filename.startswith("~") or filename.startswith("<"):
        return filename
    path = Path(filename)
    for root, prefix in ((REPO, ""), (Path(sysconfig.get_paths()["purelib"]), "site-packages/"),
                         (Path(sysconfig.get_paths()["stdlib"]), "stdlib/")):
        try:
            return prefix + str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            continue
    return filename


def _table(stats: pstats.Stats, key: str, top: int) -> str:
    """Top ``top`` entries sorted by 'cumulative' or 'tottime', one line each."""
    col = {"cumulative": 3, "tottime": 2}[key]
    entries = sorted(stats.stats.items(), key=lambda kv: kv[1][col], reverse=True)[:top]
    total = stats.total_tt
    lines = [f"{'calls':>15} {'tottime':>8} {'cumtime':>8} {'cum %':>6}  function"]
    for (filename, line, func), (cc, nc, tt, ct, _callers) in entries:
        calls = f"{cc}/{nc}" if cc != nc else str(nc)
        where = f"{_short(filename)}:{line}({func})" if line else f"{filename}({func})" if filename != "~" else func
        lines.append(f"{calls:>15} {tt:8.3f} {ct:8.3f} {100 * ct / total:5.1f}%  {where}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", type=Path, default=SCENARIO, help="scenario file (default: baseline)")
    parser.add_argument("--ratio", type=float, default=None,
                        help="override simulation.below_scale_ratio (firm count); default: the scenario's")
    parser.add_argument("--seed", type=int, default=None, help="replicate seed (default: the scenario's seed)")
    parser.add_argument("--no-firm-agents", action="store_true", help="firm_agents=False (no Mesa Firm views)")
    parser.add_argument("--phase", choices=("all", "init", "step"), default="all",
                        help="profile the constructor, .run(), or both (default)")
    parser.add_argument("--top", type=int, default=25, help="rows per table (default 25)")
    parser.add_argument("--cpu", action="store_true",
                        help="time with this process's CPU clock (robust to other processes on a shared machine)")
    parser.add_argument("--save", type=Path, help="write the raw cProfile stats to this file")
    parser.add_argument("--pyinstrument", action="store_true",
                        help="also print a pyinstrument call tree (needs `pip install pyinstrument`)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))  # works without the editable install too
    from simulation.model.model import ClusterModel
    from simulation.scenario import load_scenario

    overrides = [] if args.ratio is None else [f"simulation.below_scale_ratio={args.ratio}"]
    spec = load_scenario(args.scenario, overrides).spec
    seed = spec.simulation.seed if args.seed is None else args.seed
    firm_agents = not args.no_firm_agents

    ClusterModel(spec, rng=seed + 1, firm_agents=firm_agents).run()  # warm-up, not profiled

    profiler = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
    wall = 0.0
    t0 = time.perf_counter()
    if args.phase != "step":
        profiler.enable()
    model = ClusterModel(spec, rng=seed, firm_agents=firm_agents)
    profiler.disable()
    if args.phase != "step":
        wall += time.perf_counter() - t0
    firms_at_start = model.firms.n_alive
    if args.phase != "init":
        t0 = time.perf_counter()
        profiler.enable()
        model.run()
        profiler.disable()
        wall += time.perf_counter() - t0

    stats = pstats.Stats(profiler)
    print(f"Profile of one replicate: {args.scenario.name}, below_scale_ratio="
          f"{spec.simulation.below_scale_ratio}, seed={seed}, firm_agents={firm_agents}, phase={args.phase}, "
          f"kernels={model.rules.name}, clock={'CPU' if args.cpu else 'wall'}")
    print(f"firms alive at start {firms_at_start:,}, at the end {model.firms.n_alive:,}; rows in the firm table "
          f"{model.firms.n:,}; steps {model.n_steps if args.phase != 'init' else 0}; wall time of the profiled part "
          f"{wall:.3f} s (cProfile total {stats.total_tt:.3f} s; both include profiling overhead)")
    print(f"\n== top {args.top} by cumulative time ==")
    print(_table(stats, "cumulative", args.top))
    print(f"\n== top {args.top} by total (own) time ==")
    print(_table(stats, "tottime", args.top))
    if args.save:
        stats.dump_stats(args.save)
        print(f"\nraw stats written to {args.save}")

    if args.pyinstrument:
        try:
            from pyinstrument import Profiler
        except ImportError:
            print("\npyinstrument is not installed; skipped (pip install pyinstrument)")
            return 0
        sampler = Profiler(interval=0.0005)
        model = None
        if args.phase == "step":
            model = ClusterModel(spec, rng=seed, firm_agents=firm_agents)
        sampler.start()
        if args.phase != "step":
            model = ClusterModel(spec, rng=seed, firm_agents=firm_agents)
        if args.phase != "init":
            model.run()
        sampler.stop()
        print("\n== pyinstrument (sampling; wall-clock shares, no per-call overhead) ==")
        print(sampler.output_text(unicode=False, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
