"""Analysing the results of experiments (kept apart from running them, in simulation.experiments)."""
