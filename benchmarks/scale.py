"""Wall time, CPU time and peak memory of one replicate at the size of the whole city and beyond.

    python benchmarks/scale.py                         # 200 k (scenarios/all_firms.toml) and 1 M firms
    python benchmarks/scale.py --sizes 200000,1000000,2000000 --steps 20

Each size runs in a fresh Python process (so the peak resident memory is that replicate's
alone), as ``simulate`` runs a replicate: ``ClusterModel(spec, rng=seed, firm_agents=False)``,
every quarter of the scenario, then the result. The scenario is ``scenarios/all_firms.toml``
with ``simulation.below_scale_ratio`` set for the size (``benchmarks/firm_populations.py``).

Columns: firms at the start and the end; initialisation and stepping times (wall); firm-steps
per second of one core (live firms summed over steps, over the CPU time of the steps: the
process is single-threaded); peak RSS of the process, and its growth over the interpreter with
the model's imports loaded (what the model itself holds at its peak).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ALL_FIRMS = HERE.parent / "scenarios" / "all_firms.toml"


def child(firms: int, steps: int, seed: int) -> dict:
    """One replicate in this process; returns the measurements."""
    sys.path.insert(0, str(HERE))
    from firm_populations import spec_for

    from simulation.model.model import ClusterModel
    from simulation.model.parameters import flatten

    spec = spec_for(firms, ALL_FIRMS)
    rss_base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    w0, c0 = time.perf_counter(), time.process_time()
    model = ClusterModel(spec, rng=seed, firm_agents=False)
    w1, c1 = time.perf_counter(), time.process_time()
    start = model.firms.n_alive
    steps = min(steps, model.n_steps)
    firm_steps = 0
    step_cpu = 0.0
    for _ in range(steps):
        firm_steps += model.firms.n_alive
        t = time.process_time()
        model.step()
        step_cpu += time.process_time() - t
    w2 = time.perf_counter()
    model.recorder.result(seed=model._seed, parameters=flatten(model.p))
    w3, c3 = time.perf_counter(), time.process_time()
    return dict(
        firms=start,
        end=model.firms.n_alive,
        rows=model.firms.n,
        steps=steps,
        init=w1 - w0,
        stepping=w2 - w1,
        total=w3 - w0,
        cpu=c3 - c0,
        init_cpu=c1 - c0,
        rate=firm_steps / step_cpu,
        rss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        rss_base=rss_base,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="200000,1000000", help="start-year firm counts [%(default)s]")
    parser.add_argument("--steps", type=int, default=20, help="quarters (at most the scenario's) [%(default)s]")
    parser.add_argument("--seed", type=int, default=20210118)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.steps, args.seed)))
        return

    print(f"{ALL_FIRMS.name}, seed {args.seed}, one replicate per fresh process")
    head = (f"{'firms':>10} {'at end':>10} {'steps':>5} {'init s':>7} {'steps s':>8} {'total s':>8} "
            f"{'firm-steps/s/core':>17} {'peak RSS':>9} {'model':>8}")
    print(head)
    print("-" * len(head))
    for size in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(size), "--steps", str(args.steps), "--seed", str(args.seed)],
            check=True, capture_output=True, text=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['firms']:>10,} {r['end']:>10,} {r['steps']:>5} {r['init']:>7.2f} {r['stepping']:>8.2f} "
              f"{r['total']:>8.2f} {r['rate'] / 1e6:>15.2f} M {r['rss']:>6.0f} MB {r['rss'] - r['rss_base']:>5.0f} MB",
              flush=True)
    print("peak RSS: the whole process; model: its growth over the interpreter with the model's imports.")


if __name__ == "__main__":
    main()
