"""``simulate dashboard``: a Mesa SolaraViz app to steer the levers and watch a replicate unfold.

:mod:`~simulation.dashboard.app` is the Solara page, :mod:`~simulation.dashboard.levers` its
inputs and :mod:`~simulation.dashboard.figures` its charts.
"""
