"""Measure each lever's effect against no_policy and print docs/ODD.md §11's table (Markdown).

    python experiments/lever_effects.py [--replicates 100] [--workers 2]

Every scenario runs with the same replicate seeds as no_policy.toml (common random numbers), so
each cell is a paired difference: the mean over replicates of a cluster's 2020->2025 revenue CAGR
in the scenario minus in no_policy, in percentage points. The last column is the range, over the
five emerging clusters, of the change in the share of replicates reaching the 10 % target.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = [
    ("only_subsidy", True), ("only_land", True), ("only_talent", True), ("only_funds", True),
    ("only_core_zones", True), ("only_agencies", True), ("baseline", True), ("land_squeeze", False),
    ("demand_shock", False),
]  # (scenario, show the change in P(hit))  # fmt: skip


def main() -> None:
    from simulation.datapack import CLUSTERS, EMERGING
    from simulation.experiments.runner import run_replicates
    from simulation.experiments.seeds import replicate_seeds
    from simulation.experiments.summary import summarise
    from simulation.scenario import load_scenario

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", "-n", type=int, default=100)
    parser.add_argument("--workers", "-j", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    reference = load_scenario(ROOT / "scenarios" / "no_policy.toml")
    seeds = replicate_seeds(reference.spec.simulation.seed, args.replicates)

    def outcomes(spec):
        return summarise(run_replicates(spec, seeds, args.workers), spec).outcomes

    base = outcomes(reference.spec)
    shown = [c for c in CLUSTERS if c != "other"]
    emerging = [CLUSTERS.index(c) for c in EMERGING]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    print(f"<!-- experiments/lever_effects.py --replicates {args.replicates}, root seed "
          f"{reference.spec.simulation.seed}, commit {commit.strip() or 'unknown'} -->")
    print("| scenario | " + " | ".join(shown) + " | Δ P(hit), five emerging |")
    print("|---|" + "---|" * len(shown) + "---|")
    for name, with_hits in SCENARIOS:
        out = outcomes(load_scenario(ROOT / "scenarios" / f"{name}.toml").spec)
        cells = []
        for c in shown:
            k = CLUSTERS.index(c)
            d = out.cluster_cagr[:, k] - base.cluster_cagr[:, k]
            cells.append(f"{np.nanmean(d):+.2f}".replace("-", "−"))
        hits = ""
        if with_hits:
            dp = [float(np.mean(out.hit[:, k]) - np.mean(base.hit[:, k])) for k in emerging]
            hits = f"{min(dp):+.2f} to {max(dp):+.2f}".replace("-", "−")
        print(f"| {name} | " + " | ".join(cells) + f" | {hits} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
