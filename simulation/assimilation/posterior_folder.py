"""Write a posterior folder: the weighted particles a scenario can use, and how they were made.

- ``particles.csv``: ``weight`` and one column per conditioned value (scenario keys), the format
  :mod:`simulation.scenario.posterior` reads;
- ``posterior.json``: the scenario, the observations, the method and its settings, the
  generations (tolerance, acceptance rate, effective sample size), and per value the prior and
  posterior medians and 90 % intervals, with whether the data moved it;
- ``posterior.md``: the same for people.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from simulation.assimilation.abc import Result, prior_of
from simulation.scenario.posterior import PARTICLES, PROVENANCE

MOVED_SHIFT = 0.5  # the posterior median moved by half a prior 90 %-interval width or more ...
MOVED_CONTRACTION = 0.6  # ... or its 90 % interval is at most this share of the prior's


def weighted_quantiles(x: np.ndarray, w: np.ndarray, qs: tuple[float, ...] = (0.05, 0.5, 0.95)) -> list[float]:
    order = np.argsort(x)
    cum = np.cumsum(w[order]) / np.sum(w)
    return [float(np.interp(q, cum - 0.5 * w[order] / np.sum(w), x[order])) for q in qs]


def parameter_summary(result: Result, spec: Any) -> list[dict[str, Any]]:
    """Prior and posterior median and 90 % interval of each value, and whether the data moved it."""
    rows = []
    for j, key in enumerate(result.keys):
        prior = prior_of(spec, key)
        p5, p50, p95 = (float(prior.ppf(q)) for q in (0.05, 0.5, 0.95))
        q5, q50, q95 = weighted_quantiles(result.values[:, j], result.weights)
        width = max(p95 - p5, 1e-12)
        shift, contraction = (q50 - p50) / width, (q95 - q5) / width
        rows.append({
            "key": key, "prior": {"p5": p5, "median": p50, "p95": p95},
            "posterior": {"p5": q5, "median": q50, "p95": q95},
            "shift": shift, "contraction": contraction,
            "moved": bool(abs(shift) >= MOVED_SHIFT or contraction <= MOVED_CONTRACTION),
        })
    return rows


def provenance(config: Any, through: int, command: str, started: str, workers: int) -> dict[str, Any]:
    """How a posterior was made: what ``posterior.json`` records beside the result itself."""
    from simulation.reporting.writer import git_state, versions

    return {
        "through": through, "scenario": str(config.scenario.path), "scenario_sha256": config.scenario.sha256,
        "file": str(config.path), "command": command, "started": started, "settings": vars(config.settings),
        "workers": workers, "versions": versions(), "git": git_state(),
    }


def write_posterior(folder: Path, result: Result, spec: Any, provenance: dict[str, Any]) -> Path:
    """Write the folder atomically (a partial folder is renamed into place when complete)."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
    try:
        with (temp / PARTICLES).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["weight", *result.keys])
            for w, row in zip(result.weights, result.values):
                writer.writerow([repr(float(w)), *(repr(float(v)) for v in row)])
        summary = parameter_summary(result, spec)
        data = {
            **provenance,
            "method": method(provenance.get("settings") or {}),
            "observations": result.observed,
            "generations": result.generations,
            "effective_sample_size": float(1.0 / np.sum(result.weights**2)),
            "particles": len(result.weights),
            "parameters": summary,
            "wall_time_seconds": round(result.wall_time, 1),
        }
        (temp / PROVENANCE).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (temp / "posterior.md").write_text(markdown(data), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(temp, folder)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return folder


def method(settings: dict[str, Any]) -> str:
    """The method in one sentence, from the run's settings."""
    generations = int(settings.get("max_generations", 1))
    kind = "rejection ABC" if generations == 1 else f"ABC-SMC (at most {generations} generations)"
    if settings.get("summary", "figures") == "regression":
        distance = (f"semi-automatic summaries (a linear regression of the unknowns on the figures, fitted to "
                    f"{settings.get('pilot') or settings.get('population')} prior simulations; Fearnhead & Prangle 2012), "
                    "Euclidean distance between the unknowns the figures predict")
    else:
        distance = "adaptive p-norm distance on the figures (p = 2, scales refitted each generation)"
    return (f"{kind} with pyabc: uniform quantiles of the scenario's priors, {distance}, tolerance the "
            f"{settings.get('epsilon_quantile', 0.5):g} quantile of the distances")


def markdown(data: dict[str, Any]) -> str:
    lines = [f"# Posterior through {data['through']}", "",
             f"Written by `{data['command']}` from `{data['scenario']}` (seed {data['settings']['seed']}). "
             "Generated: do not edit by hand. Method: docs/FORECASTING.md.", "",
             f"Method: {data['method']}.", "",
             f"{data['particles']} particles, effective sample size {data['effective_sample_size']:.0f}; "
             f"wall time {data['wall_time_seconds']:.0f} s.", "",
             "## Generations", "", "| generation | tolerance | simulations | acceptance rate | effective sample size |",
             "|---:|---:|---:|---:|---:|"]
    for g in data["generations"]:
        lines.append(f"| {g['generation']} | {g['epsilon']:.3g} | {g['simulations']} | {g['acceptance_rate']:.3f} | "
                     f"{g['effective_sample_size']:.0f} |")
    lines += ["", "## What the data moved", "",
              "| value | prior median [5, 95 %] | posterior median [5, 95 %] | shift | interval ratio | moved |",
              "|---|---|---|---:|---:|:---:|"]
    for p in data["parameters"]:
        a, b = p["prior"], p["posterior"]
        lines.append(f"| `{p['key']}` | {a['median']:.3g} [{a['p5']:.3g}, {a['p95']:.3g}] | "
                     f"{b['median']:.3g} [{b['p5']:.3g}, {b['p95']:.3g}] | {p['shift']:+.2f} | "
                     f"{p['contraction']:.2f} | {'yes' if p['moved'] else ''} |")
    lines += ["", "Shift: posterior median minus prior median, in prior 90 %-interval widths; interval ratio: posterior "
              f"over prior 90 %-interval width. Moved: |shift| ≥ {MOVED_SHIFT} or ratio ≤ {MOVED_CONTRACTION}.", "",
              "## Observations", "", "| figure | value |", "|---|---:|"]
    lines += [f"| {k} | {v:g} |" for k, v in data["observations"].items()]
    return "\n".join(lines) + "\n"


DOC_START, DOC_END = "<!-- posterior:start -->", "<!-- posterior:end -->"


def update_document(path: Path, folder: Path) -> Path:
    """Rewrite the posterior block of a document (docs/FORECASTING.md) from a posterior folder."""
    import re

    path = Path(path)
    data = json.loads((Path(folder) / PROVENANCE).read_text(encoding="utf-8"))
    body = markdown(data).split("\n", 1)[1].lstrip("\n").replace("## ", "### ")
    heading = f"#### The posterior through {data['through']} (`{Path(folder).name}`)\n\n"
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(DOC_START) + r".*?" + re.escape(DOC_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{path}: no {DOC_START} … {DOC_END} block")
    note = f"<!-- generated by `{data['command']}`; do not edit by hand -->\n"
    block = f"{DOC_START}\n{note}{heading}{body}{DOC_END}"
    path.write_text(pattern.sub(lambda _: block, text, count=1), encoding="utf-8")
    return path
