"""Forecast evaluation: observed series, proper scores, statistical benchmarks and the backtest table.

The analysis side of ``simulate backtest``: it reads forecasts (arrays and tables) and the
shipped observations, never the model.

=================== ==========================================================================
module              what it holds
=================== ==========================================================================
observations        the observed series a backtest scores, one tidy table from the data pack
scores              CRPS (ensembles, weighted or not; normal; Student-t), bands, the sign
predictive          predictive distributions (ensemble, Student-t, none) and the forecasts table
benchmarks          random walk, random walk with drift and AR(1) from each origin
backtest_table      forecasts scored against observations, the summary, Markdown and CSV
=================== ==========================================================================
"""
