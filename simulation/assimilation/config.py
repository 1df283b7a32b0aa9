"""The assimilation file (``experiments/assimilate.toml``): what to condition, on what, how.

Paths are relative to the file. Every problem is one :class:`AssimilationError` line naming the
file and key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from simulation.assimilation.abc import SUMMARIES, Settings, prior_of
from simulation.assimilation.observables import MEASURES, observed
from simulation.scenario import Scenario, ScenarioError, load_scenario
from simulation.scenario.loader import read_text_file

FIRST_OBSERVED = 2021  # the first year after the start state


class AssimilationError(Exception):
    """A problem with an assimilation file, worded for the person who wrote it."""


@dataclass(frozen=True)
class Config:
    path: Path
    description: str
    scenario: Scenario
    keys: tuple[str, ...]  # every value the file names, for any year
    exclude: tuple[str, ...]  # observed series left out
    out: Path  # posteriors are written to out / through-<year>
    settings: Settings

    def keys_through(self, through: int) -> list[str]:
        """The values conditioned on data up to ``through``: a year-keyed value only for observed years."""
        return [k for k in self.keys if not (k.rsplit(".", 1)[-1].isdigit() and int(k.rsplit(".", 1)[-1]) > through)]

    def observed(self, through: int) -> dict[str, float]:
        return observed(through, FIRST_OBSERVED, self.exclude)

    def spec_through(self, through: int):
        """The scenario, run to the last assimilated year only (what the data can be compared with)."""
        spec = self.scenario.spec
        sim = spec.simulation.model_copy(update={"end_year": through})
        return spec.model_copy(update={"simulation": sim, "posterior": ""})


def load_config(path: str | Path, abc_overrides: dict | None = None) -> Config:
    """Read and check the file; ``abc_overrides`` replace keys of its [abc] table (command-line options)."""
    path = Path(path)
    text = read_text_file(path, "an assimilation file", AssimilationError)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AssimilationError(f"{path}: TOML syntax error: {exc}") from None

    def need(key: str, kind: type):
        value = data.get(key)
        if not isinstance(value, kind):
            raise AssimilationError(f"{path}: {key}: expected a {kind.__name__}; got {value!r}")
        return value

    scenario_path = path.parent / need("scenario", str)
    try:
        scenario = load_scenario(scenario_path)
    except ScenarioError as exc:
        raise AssimilationError(f"{path}: scenario: {exc}") from None
    abc = {**data.get("abc", {}), **(abc_overrides or {})}
    try:
        settings = Settings(
            population=int(abc.get("population", Settings.population)),
            max_generations=int(abc.get("max_generations", Settings.max_generations)),
            min_acceptance_rate=float(abc.get("min_acceptance_rate", Settings.min_acceptance_rate)),
            epsilon_quantile=float(abc.get("epsilon_quantile", Settings.epsilon_quantile)),
            seed=int(data.get("seed", Settings.seed)),
            summary=str(abc.get("summary", Settings.summary)),
            pilot=int(abc.get("pilot", Settings.pilot)),
        )
    except (TypeError, ValueError) as exc:
        raise AssimilationError(f"{path}: abc: {exc}") from None
    if not 10 <= settings.population <= 100_000 or not 1 <= settings.max_generations <= 100:
        raise AssimilationError(f"{path}: abc: population must be 10-100000 and max_generations 1-100")
    if not 0.0 < settings.epsilon_quantile <= 1.0:
        raise AssimilationError(f"{path}: abc: epsilon_quantile must be in (0, 1]; got {settings.epsilon_quantile}")
    if settings.summary not in SUMMARIES:
        raise AssimilationError(f"{path}: abc: summary must be one of {', '.join(SUMMARIES)}; got {settings.summary!r}")
    if not (settings.pilot == 0 or 20 <= settings.pilot <= 1_000_000):
        raise AssimilationError(f"{path}: abc: pilot must be 0 (one population) or 20-1000000 simulations; got {settings.pilot}")
    if not 0.0 <= settings.min_acceptance_rate < 1.0 or not 0 <= settings.seed < 2**63:
        raise AssimilationError(f"{path}: abc: min_acceptance_rate must be in [0, 1) and seed in [0, 2**63)")
    keys = tuple(need("parameters", dict).get("keys", ()))
    if not keys or not all(isinstance(k, str) for k in keys):
        raise AssimilationError(f"{path}: parameters.keys: expected a list of scenario keys")
    for key in keys:
        try:
            prior_of(scenario.spec, key)
        except KeyError:
            raise AssimilationError(f"{path}: parameters.keys: {key} is not an uncertain value of the scenario") from None
    exclude = tuple(data.get("observations", {}).get("exclude", ()))
    unknown = [s for s in exclude if s not in MEASURES]
    if unknown:
        raise AssimilationError(f"{path}: observations.exclude: unknown series {unknown}; "
                                f"known: {', '.join(MEASURES)}")
    return Config(path, str(data.get("description", "")), scenario, keys, exclude,
                  path.parent / need("out", str), settings)
