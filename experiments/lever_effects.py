"""Measure what each lever adds, against both counterfactuals, and write docs/RESULTS.md.

    python experiments/lever_effects.py [--replicates 100] [--workers 2] [--out docs/RESULTS.md]

Two questions, two counterfactuals, every run with the same replicate seeds (common random
numbers, so every cell is a paired difference in the same uncertain world):

1. "What does each lever do on its own?" Each ``only_*`` scenario against ``no_policy`` (no
   programmes at all), and the whole policy (``baseline``) against ``no_policy``.
2. "What did 10号文 add?" The baseline against ``business_as_usual`` (the programmes that predate
   the policy), and each lever's 10号文 version added alone to business as usual.

For each row: the mean paired change in each policy cluster's 2020->2025 revenue CAGR (pp a
year), the change in P(all five emerging clusters reach 10 %), the extra public cost over the run
and the extra revenue of the nine policy clusters per 亿 of extra public money (ratio of mean
effects with a 95 % interval). The document is regenerated whole; numbers in it come from this
script only.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEVERS = ("subsidy", "land", "talent", "funds", "core_zones", "agencies")


def main() -> None:
    from simulation.datapack import CLUSTERS
    from simulation.experiments.compare import effects_block
    from simulation.experiments.runner import run_replicates
    from simulation.experiments.seeds import replicate_seeds
    from simulation.experiments.summary import summarise
    from simulation.scenario import load_scenario

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", "-n", type=int, default=100)
    parser.add_argument("--workers", "-j", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "RESULTS.md")
    args = parser.parse_args()
    started = time.perf_counter()

    def load(name: str):
        return load_scenario(ROOT / "scenarios" / f"{name}.toml")

    baseline, bau, none = load("baseline"), load("business_as_usual"), load("no_policy")
    seeds = replicate_seeds(baseline.spec.simulation.seed, args.replicates)
    cache: dict[str, object] = {}

    def summary(name: str, spec):
        if name not in cache:
            cache[name] = summarise(run_replicates(spec, seeds, args.workers, progress=False), spec)
        return cache[name]

    def with_levers(world, levers):
        return world.spec.model_copy(update={"levers": levers, "counterfactual": ""})

    def one_lever_added(lever: str):
        """Business as usual with one lever as 10号文 has it (the funds: all three)."""
        levers = bau.spec.levers.model_copy(update={lever: getattr(baseline.spec.levers, lever)})
        return with_levers(baseline, levers)

    rows_none = [(name, load(name).spec) for name in (f"only_{lever}" for lever in LEVERS)]
    rows_none.append(("baseline", baseline.spec))
    rows_bau = [(f"business_as_usual + {lever}", one_lever_added(lever)) for lever in LEVERS]
    rows_bau.append(("baseline", baseline.spec))
    worlds = [("land_squeeze", "land_squeeze"), ("demand_shock", "demand_shock")]

    policy = [c for c in CLUSTERS if c != "other"]
    header = "| scenario | " + " | ".join(policy) + " | Δ P(all five) | extra cost, 亿元 | Δ revenue per Δ 亿 |"
    rule = "|---|" + "---|" * len(policy) + "---|---|---|"

    def table(rows, reference_name, reference_spec) -> list[str]:
        ref = summary(reference_name, reference_spec).outcomes
        lines = [header, rule]
        for name, spec in rows:
            block = effects_block(reference_name, summary(name, spec).outcomes, ref)
            by = {r["cluster"]: r for r in block["clusters"]}
            cells = [_signed(by[c]["cagr"]["mean"], 2) for c in policy]
            every = block["all_emerging"]
            per = block["revenue_per_yi"]
            ratio = "–" if per["ratio"] is None else f"{per['ratio']:.1f} [{per['ci_low']:.1f}, {per['ci_high']:.1f}]"
            lines.append(f"| {name} | " + " | ".join(cells)
                         + f" | {_signed(every['diff'], 2)} | {block['extra_cost']['mean']:,.0f} | {ratio} |")
        return lines

    out = ["# Results", "",
           "Measured by `python experiments/lever_effects.py --replicates "
           f"{args.replicates}` on {date.today():%Y-%m-%d} at commit {_commit()}, root seed "
           f"{baseline.spec.simulation.seed}, the same {args.replicates} replicate seeds in every scenario "
           "(common random numbers: every cell is a paired difference). The model is described in "
           "[ODD.md](ODD.md); this file holds only what it measured. Regenerate it after any model change.",
           ""]
    base = summary("baseline", baseline.spec)
    out += _baseline_section(base.data, bau_effects=effects_block(
        "business_as_usual", base.outcomes, summary("business_as_usual", with_levers(baseline, bau.spec.levers)).outcomes))
    out += ["## What each lever does on its own (against no_policy)", "",
            "Each `only_*` scenario switches one lever on (as the policy has it) and every other off; "
            "`baseline` has them all. Cells: mean paired change in 2020→2025 revenue CAGR, percentage "
            "points a year; Δ P(all five): change in the share of replicates in which all five emerging "
            "clusters reach 10 % a year; extra cost: mean extra public money 2021–2025; Δ revenue per Δ 亿: "
            "extra revenue of the nine policy clusters over 2021–2025 per 亿 of extra public money, with a "
            "95 % interval (– where the extra cost is not clearly above zero).", ""]
    out += table(rows_none, "no_policy", with_levers(baseline, none.spec.levers))
    out += ["", "## What 10号文 added (against business_as_usual)", "",
            "`business_as_usual` keeps the programmes that predate the policy (redevelopment at the 2020 "
            "pace, R&D grants, the above-scale reward, a smaller talent subsidy). Each row adds one lever "
            "as 10号文 has it; `baseline` adds them all.", ""]
    out += table(rows_bau, "business_as_usual", with_levers(baseline, bau.spec.levers))
    out += ["", "## The policy in other worlds (against business_as_usual in the same world)", ""]
    out += [header, rule]
    for name, file in worlds:
        world = load(file)
        block = effects_block("business_as_usual", summary(name, world.spec).outcomes,
                              summary(f"{name}/bau", with_levers(world, bau.spec.levers)).outcomes)
        by = {r["cluster"]: r for r in block["clusters"]}
        per = block["revenue_per_yi"]
        ratio = "–" if per["ratio"] is None else f"{per['ratio']:.1f} [{per['ci_low']:.1f}, {per['ci_high']:.1f}]"
        out.append(f"| {name} | " + " | ".join(_signed(by[c]["cagr"]["mean"], 2) for c in policy)
                   + f" | {_signed(block['all_emerging']['diff'], 2)} | {block['extra_cost']['mean']:,.0f} | {ratio} |")
    out += ["", f"Run time: {time.perf_counter() - started:.0f} s on {args.workers} worker processes.", ""]
    args.out.write_text("\n".join(out), encoding="utf-8")
    print(f"Wrote {args.out}")


def _baseline_section(data: dict, bau_effects: dict) -> list[str]:
    start, end = data["start_year"], data["end_year"]
    lines = [f"## The policy as written (`scenarios/baseline.toml`), {start}→{end}", "",
             "| cluster | CAGR, % a year, median [5, 95 %] | P(CAGR ≥ 10 %) [95 % MC interval] | "
             "Δ CAGR vs business_as_usual, pp [95 % CI] (5–95 % of replicates) |", "|---|---|---|---|"]
    by = {r["cluster"]: r for r in bau_effects["clusters"]}
    for row in data["clusters"]:
        if row["kind"] == "other":
            continue
        g = row["cagr"]
        chance = row.get("hit") or row.get("keeps_pace")
        label = "P(keeps pace)" if row["kind"] == "pillar" else ""
        p = f"{chance['p']:.2f} [{chance['ci_low']:.2f}, {chance['ci_high']:.2f}] {label}".strip()
        e = by[row["cluster"]]["cagr"]
        lines.append(f"| {row['name_en']} | {g['median']:.1f} [{g['p5']:.1f}, {g['p95']:.1f}] | {p} | "
                     f"{_signed(e['mean'], 2)} [{_signed(e['ci_low'], 2)}, {_signed(e['ci_high'], 2)}] "
                     f"({_signed(e['p5'], 2)} to {_signed(e['p95'], 2)}) |")
    every, cost = data["all_emerging"], data["public_cost"]
    total = cost["total"]
    lines += ["",
              f"- P(all five emerging clusters reach 10 %): {every['p']:.2f} [{every['ci_low']:.2f}, "
              f"{every['ci_high']:.2f}] (Monte-Carlo interval); against business_as_usual "
              f"{_signed(bau_effects['all_emerging']['diff'], 2)} [{_signed(bau_effects['all_emerging']['ci_low'], 2)}, "
              f"{_signed(bau_effects['all_emerging']['ci_high'], 2)}].",
              f"- Public cost {start + 1}–{end}: median {total['median']:,.0f} 亿元 [5–95 %: {total['p5']:,.0f}, "
              f"{total['p95']:,.0f}]; extra over business_as_usual {bau_effects['extra_cost']['mean']:,.0f} 亿元.",
              "- By programme (medians, 亿元): " + "; ".join(
                  f"{name} {value:,.1f}" for name, value in cost["by_programme"].items() if abs(value) >= 0.05) + ".",
              ""]
    return lines


def _signed(x: float | None, digits: int) -> str:
    return "–" if x is None else f"{x:+.{digits}f}".replace("-", "−")


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


if __name__ == "__main__":
    main()
