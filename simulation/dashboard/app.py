"""The Solara app behind ``simulate dashboard``: Mesa's SolaraViz around a live ClusterModel.

Sidebar (SolaraViz): Reset, play/pause and Step; a switch per kind of lever and sliders for
their magnitudes and the seed (a change applies on Reset, which rebuilds the model with it).
Main area: the clusters' revenue paths against the 10 % target path, the town tile map coloured
by growth or vacancy, the chance of meeting the targets from a small batch of replicates (run on
demand, with the levers of the run shown), and the levers of the run shown.

``simulate dashboard`` passes the scenario through the environment variable ``SIMULATE_DASHBOARD``
(JSON: scenario path, ``--set`` overrides, seed, workers) and starts ``solara run`` on this module.
"""

from __future__ import annotations

import json
import os
from html import escape
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solara
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from simulation.dashboard import figures
from simulation.dashboard.levers import lever_rows, model_params
from simulation.model.model import ClusterModel
from simulation.scenario.loader import parse_set_option
from simulation.scenario.overrides import default_scenario, load_with

ENV = "SIMULATE_DASHBOARD"
BATCH_SIZES = [8, 16, 32, 64]
DEFAULT_SEED = 1


@dataclass(frozen=True)
class Settings:
    scenario: Path
    overrides: dict[str, Any]
    seed: int | None
    workers: int

    @classmethod
    def from_env(cls) -> Settings:
        raw = json.loads(os.environ.get(ENV, "{}"))
        overrides = {}
        for option in raw.get("overrides", []):
            keys, value = parse_set_option(option)
            overrides[".".join(keys)] = value
        return cls(Path(raw.get("scenario") or default_scenario()).resolve(), overrides, raw.get("seed"),
                   int(raw.get("workers", 1)))


def step_label(model: ClusterModel) -> str:
    """``Step 5 of 20: 2021 Q1`` (the quarter just simulated; steps are quarters by default)."""
    if model.steps == 0:
        return f"Step 0 of {model.n_steps}: {model.start_year} (start)"
    step = min(model.steps, model.n_steps)
    year = model.start_year + (step - 1) // model.steps_per_year + 1
    within = (step - 1) % model.steps_per_year + 1
    when = f"{year} Q{within}" if model.steps_per_year == 4 else f"{year}, step {within} of {model.steps_per_year}"
    return f"Step {step} of {model.n_steps}: {when}"


@solara.component
def EmergingPaths(model: ClusterModel) -> None:
    update_counter.get()
    solara.Text(step_label(model), classes=["step-label"], style={"font-weight": "bold"})
    solara.FigureMatplotlib(figures.revenue_paths(model, "emerging"), format="png", dpi=100)


@solara.component
def PillarPaths(model: ClusterModel) -> None:
    update_counter.get()
    solara.FigureMatplotlib(figures.revenue_paths(model, "pillar"), format="png", dpi=100)


@solara.component
def TownMap(model: ClusterModel) -> None:
    update_counter.get()
    view = solara.use_reactive("growth")
    solara.ToggleButtonsSingle(value=view, values=list(figures.TOWN_VIEWS))
    solara.FigureMatplotlib(figures.town_map(figures.town_values(model, view.value), view.value), format="png",
                            dpi=100)


@solara.component
def TargetChances(model: ClusterModel) -> None:
    """P(hit) and P(keeps pace) with 95 % intervals from a batch of replicates of the run's levers."""
    update_counter.get()
    replicates = solara.use_reactive(16)
    settings = solara.use_memo(Settings.from_env, [])

    def batch() -> tuple[Any, Any, int, int]:
        from simulation.experiments.runner import run_replicates
        from simulation.experiments.seeds import replicate_seeds
        from simulation.experiments.summary import summarise

        spec, seed, n = model.spec, int(model._seed), int(replicates.value)
        seeds = replicate_seeds(seed, n)
        results = run_replicates(spec, seeds, max(1, min(settings.workers, n)), progress=False)
        return spec, summarise(results, spec, parameter_intervals=False), seed, n

    task = solara.lab.use_task(batch, dependencies=None)
    solara.Text("Chance of meeting the targets, from a batch of replicates of the levers shown",
                style={"font-weight": "bold"})
    with solara.Row():
        solara.Select("Replicates", values=BATCH_SIZES, value=replicates)
        solara.Button("Run replicates", on_click=task, disabled=task.pending, color="primary")
    solara.ProgressLinear(task.pending)
    if task.error:
        solara.Error(f"The replicates failed: {task.exception}")
    elif task.finished and task.value is not None:
        spec, summary, seed, n = task.value
        stale = "" if spec == model.spec else " (for the levers before the last Reset)"
        solara.HTML(tag="div", unsafe_innerHTML=chance_table(summary.table), classes=["chances"])
        solara.Text(f"{n} replicates from seed {seed}{stale}; 95 % Wilson intervals.")


def html_table(header: list[str], rows: list[list[str]]) -> str:
    """A small HTML table (text escaped)."""

    def cells(tag: str, values: list[str]) -> str:
        return "".join(f"<{tag} style='text-align:left;padding:1px 8px'>{escape(v)}</{tag}>" for v in values)

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table style='font-size:13px'><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"


def chance_table(table: Any) -> str:
    """HTML: emerging clusters' P(hit) and pillars' P(keeps pace) with intervals, and median CAGR."""
    rows = []
    for row in table.itertuples(index=False):
        if row.kind == "emerging":
            what, p, lo, hi = "hit the growth target", row.p_hit, row.p_hit_low, row.p_hit_high
        elif row.kind == "pillar":
            what, p, lo, hi = "keep pace with the city", row.p_keeps_pace, row.p_keeps_pace_low, row.p_keeps_pace_high
        else:
            continue
        rows.append([row.name_en, what, f"{p:.0%}", f"{lo:.0%}–{hi:.0%}", f"{row.cagr_median:.1f}"])
    return html_table(["cluster", "target", "chance", "95 % interval", "median CAGR, %/yr"], rows)


@solara.component
def LeversShown(model: ClusterModel) -> None:
    update_counter.get()
    solara.Text("Levers of the run shown (sliders apply on Reset)", style={"font-weight": "bold"})
    rows = [[label, value] for label, value in lever_rows(model.levers, dict(model.levers.funds))]
    solara.HTML(tag="div", unsafe_innerHTML=html_table(["lever", "value"], rows), classes=["levers-shown"])


COMPONENTS = [(EmergingPaths, 0), (PillarPaths, 0), (TownMap, 0), (TargetChances, 0), (LeversShown, 0)]


@solara.component
def Page() -> None:
    settings = solara.use_memo(Settings.from_env, [])
    scenario = solara.use_memo(lambda: load_with(settings.scenario, settings.overrides), [])
    seed = settings.seed if settings.seed is not None else DEFAULT_SEED
    params = solara.use_memo(lambda: {**settings.overrides, **model_params(scenario, seed)}, [])  # sliders win
    model = solara.use_memo(lambda: ClusterModel(scenario, rng=seed, firm_agents=False, collect_data=True), [])
    SolaraViz(model, components=COMPONENTS, model_params=params, name=f"Dongguan clusters: {scenario.name}",
              play_interval=150)
