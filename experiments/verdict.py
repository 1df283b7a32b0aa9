"""Write the README's table of results (the 2025 verdict) from a run of scenarios/observed.toml.

    simulate scenarios/observed.toml --replicates 200 --out results/observed
    python experiments/verdict.py results/observed            # prints the block
    python experiments/verdict.py results/observed --readme   # and rewrites it in README.md

The block reads only the results folder's summary.json and manifest.json (the run's counterfactual,
business as usual, is in the same folder): for each cluster the chance of its target given the
2021-2023 statistics with its Monte-Carlo interval and the interval that includes parameter
uncertainty, the growth 2020->2025, and what 10号文 added against business as usual in the same
conditioned worlds; then P(all five), the public cost and the extra revenue per extra 亿.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- verdict:start -->", "<!-- verdict:end -->"


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f} %"


def chance(block: dict) -> tuple[str, str]:
    """'P [MC low–high]' and the parameter interval (– where the results give none)."""
    if not block or block.get("p") is None:
        return "–", "–"
    mc = f"{pct(block['p'])} [{100 * block['ci_low']:.0f}–{100 * block['ci_high']:.0f}]"
    if block.get("parameter_low") is None:
        return mc, "–"
    return mc, f"{100 * block['parameter_low']:.0f}–{100 * block['parameter_high']:.0f} %"


def signed(x: float | None, digits: int = 2) -> str:
    return "–" if x is None else f"{x:+.{digits}f}"


def block(folder: Path) -> str:
    data = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    cf = data.get("counterfactual") or {}
    effects = {r["cluster"]: r for r in cf.get("clusters", [])}
    conditioning = data.get("conditioning") or {}
    observed = conditioning.get("observed_years") or []
    simulated = conditioning.get("simulated_years") or []
    n = data["replicates"]
    lines = [
        f"Measured by `simulate scenarios/observed.toml --replicates {n}` (root seed {manifest.get('root_seed')}, "
        f"{str(manifest.get('ended', ''))[:10]}, commit {str(manifest.get('git', {}).get('commit', ''))[:7]}) and "
        "written by `python experiments/verdict.py RESULTS --readme`. "
        + (f"Conditioned on the statistics of {observed[0]}–{observed[-1]} (posterior `posteriors/through-"
           f"{observed[-1]}`); {simulated[0]}–{simulated[-1]} simulated. " if observed and simulated else "")
        + "P: share of replicates meeting the target, [95 % Monte-Carlo interval]; *if the values were "
        "known*: the central 95 % of P(target | the uncertain values a replicate drew), how far the chance "
        "rests on what is not known. Effect: the policy as written against business as usual in the same "
        "conditioned worlds (same seeds), mean paired difference [95 % CI].",
        "",
        "| cluster | target | P(target) [MC 95 %] | if the values were known | CAGR 2020→2025, % a year, "
        "median [5–95 %] | effect on CAGR, pp [95 % CI] | effect on P, points [95 % CI] |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in data["clusters"]:
        if row["kind"] not in ("pillar", "emerging"):
            continue
        target = "≥ 10 % a year" if row["kind"] == "emerging" else "keeps pace with the city"
        p, param = chance(row.get("hit") or row.get("keeps_pace"))
        g = row["cagr"]
        e = effects.get(row["cluster"], {})
        ec, ep = e.get("cagr") or {}, e.get("p_hit") or e.get("p_keeps_pace") or {}
        effect_p = "–" if ep.get("diff") is None else (
            f"{100 * ep['diff']:+.0f} [{100 * ep['ci_low']:+.0f}, {100 * ep['ci_high']:+.0f}]")
        lines.append(
            f"| {row['name_en']} | {target} | {p} | {param} | {g['median']:.1f} [{g['p5']:.1f}, {g['p95']:.1f}] | "
            f"{signed(ec.get('mean'))} [{signed(ec.get('ci_low'))}, {signed(ec.get('ci_high'))}] | {effect_p} |"
        )
    city = data["city"]["cagr"]
    ecity = (cf.get("city") or {}).get("cagr") or {}
    lines.append(f"| City industry | | | | {city['median']:.1f} [{city['p5']:.1f}, {city['p95']:.1f}] | "
                 f"{signed(ecity.get('mean'))} [{signed(ecity.get('ci_low'))}, {signed(ecity.get('ci_high'))}] | |")
    p, param = chance(data.get("all_emerging") or {})
    every = cf.get("all_emerging") or {}
    effect_all = "–" if every.get("diff") is None else (
        f"{100 * every['diff']:+.0f} [{100 * every['ci_low']:+.0f}, {100 * every['ci_high']:+.0f}]")
    lines.append(f"| All five emerging clusters | all ≥ 10 % a year | {p} | {param} | | | {effect_all} |")
    from simulation.reporting import labels, wording

    emerging = [(labels.cluster(r["cluster"], "en"), wording.Chance.from_block(r["hit"]))
                for r in data["clusters"] if r["kind"] == "emerging" and (r.get("hit") or {}).get("p") is not None]
    every = wording.Chance.from_block(data.get("all_emerging"))
    lines += ["", "In words (each chance judged by the wider of its two intervals, `simulation/reporting/wording.py`): "
              + wording.group_claims(emerging, "grow at least 10 % a year from 2020 to 2025", "en")
              + ("; " + wording.claim(every, "all five together", "reach it", "en", plural=True) if every else "")
              + "."]
    cost = (data.get("public_cost") or {}).get("total") or {}
    extra = cf.get("extra_cost") or {}
    per = cf.get("revenue_per_yi") or {}
    lines += ["", f"Public cost {data['start_year'] + 1}–{data['end_year']}: {cost.get('median', float('nan')):,.0f} 亿元 "
              f"(median; 5–95 %: {cost.get('p5', float('nan')):,.0f}–{cost.get('p95', float('nan')):,.0f}); "
              f"against business as usual {extra.get('mean', float('nan')):,.0f} 亿元 more"
              + (f", and each extra 亿 goes with {per['ratio']:.1f} 亿元 more revenue of the nine policy clusters "
                 f"(95 % CI {per['ci_low']:.1f}–{per['ci_high']:.1f}; a ratio of mean effects)." if per.get("ratio")
                 is not None else ".")]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="a results folder of scenarios/observed.toml")
    parser.add_argument("--readme", action="store_true", help="rewrite the block in README.md")
    args = parser.parse_args()
    text = block(args.results)
    print(text)
    if args.readme:
        readme = ROOT / "README.md"
        old = readme.read_text(encoding="utf-8")
        if START not in old or END not in old:
            raise SystemExit(f"{readme}: no {START} ... {END} markers")
        new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: f"{START}\n{text}\n{END}", old, flags=re.S)
        readme.write_text(new, encoding="utf-8")
        print(f"Wrote the verdict block of {readme}")


if __name__ == "__main__":
    main()
