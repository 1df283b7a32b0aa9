"""Scenario files: the schema of what they may contain, and loading them."""

from simulation.scenario.loader import Scenario, ScenarioError, load_scenario, parse_set_option

__all__ = ["Scenario", "ScenarioError", "load_scenario", "parse_set_option"]
