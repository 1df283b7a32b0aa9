"""Column storage for every firm: one NumPy array per attribute, one row per firm.

Firm agents are views onto a row (see :mod:`simulation.model.firm`); the model's step works
on whole columns. Rows are appended on entry and never reused or moved within a run, so a
row number identifies a firm for the whole run (and its draws from the keyed streams); an
exited firm's row stays with ``alive = False`` and zeroed stocks, which keeps it out of every
sum. :attr:`FirmTable.live` lists the live rows in row order, so that the compiled rules
(:mod:`simulation.model.fused_rules`) do work in proportion to live firms, not to every firm
that ever existed; a firm exits through :meth:`FirmTable.close`, which keeps that list right.
"""

from __future__ import annotations

import numpy as np

#: column name -> dtype
COLUMNS: dict[str, type] = {
    "alive": np.bool_,
    "cluster": np.intp,  # index into CLUSTERS
    "town": np.intp,  # index into town_ids()
    "revenue": np.float64,  # M CNY a year (annualised current quarter)
    "capacity": np.float64,  # input bundle, in M CNY of revenue at the cluster's 2020 productivity
    "target": np.float64,  # M CNY a year a young firm is growing towards (0 = none)
    "prod_permanent": np.float64,  # permanent log-TFP component
    "prod_transient": np.float64,  # AR(1) log-TFP component
    "absorptive": np.float64,  # absorptive capacity (0..2, mean about 1), fixed at entry
    "knowledge": np.float64,  # R&D knowledge stock relative to the firm's unsubsidised level
    "logprod": np.float64,  # current log-TFP, all components
    "rd": np.float64,  # R&D spending, M CNY a year (real), paid from the firm's cash
    "rd_base": np.float64,  # the firm's own R&D at its last review (intensity x revenue), M CNY a year
    "cash": np.float64,  # M CNY; negative = drawn credit
    "capital": np.float64,  # M CNY of installed capital
    "age": np.int32,  # quarters since entry (steps)
    "loss_streak": np.int32,  # consecutive steps with negative profit
    "above_scale": np.bool_,  # revenue >= 20 M CNY a year
    "rewarded": np.bool_,  # has had the above-scale entry reward
    "chain_leader": np.bool_,  # 链主
    "little_giant": np.bool_,  # 专精特新 "little giant"
    "fund_equity": np.float64,  # M CNY of fund equity received
    "public_cash": np.float64,  # M CNY of public money received into cash since entry (the ledger's mirror)
    "revenue_year": np.float64,  # M CNY, real revenue so far this calendar year (the statistics' annual basis)
    "nominal_year": np.float64,  # M CNY, the same in current prices
    "revenue_last": np.float64,  # M CNY, real revenue of the last full calendar year (0 if not alive all of it)
    "nominal_last": np.float64,  # M CNY, the same in current prices
    "origin": np.int8,  # 0 initial population, 1 spin-off, 2 attracted by an agency, 3 external investment
    "birth_step": np.int32,
}

#: per-firm values the rules keep between steps that are not the firm's own state (the model's
#: views ``relative_productivity``, ``productivity_change`` and ``competitiveness``)
SCRATCH: dict[str, type] = {"relative": np.float64, "productivity_change": np.float64, "competitiveness": np.float64,
                            "efficiency": np.float64}  # efficiency: revenue per unit of capacity, set by the compiled rules

ORIGIN_INITIAL, ORIGIN_SPINOFF, ORIGIN_ATTRACTED, ORIGIN_EXTERNAL = 0, 1, 2, 3


class FirmTable:
    """Growable struct-of-arrays holding every firm that has existed in a run."""

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        self._cap = max(int(capacity), 16)
        for name, dtype in {**COLUMNS, **SCRATCH}.items():
            setattr(self, name, np.zeros(self._cap, dtype=dtype))
        self._live: np.ndarray | None = np.zeros(0, dtype=np.intp)

    def __len__(self) -> int:
        return self.n

    def append(self, count: int, **values: np.ndarray | float) -> slice:
        """Add ``count`` firms; columns not given start at zero. Returns their row slice."""
        if count <= 0:
            return slice(self.n, self.n)
        need = self.n + count
        if need > self._cap:
            self._grow(max(need, int(self._cap * 1.5)))
        rows = slice(self.n, need)
        for name, value in values.items():
            if name not in COLUMNS:
                raise KeyError(f"unknown firm column {name!r}")
            getattr(self, name)[rows] = value
        self.alive[rows] = True
        self.n = need
        if self._live is not None:
            self._live = np.concatenate([self._live, np.arange(rows.start, rows.stop, dtype=np.intp)])
        return rows

    def close(self, rows: np.ndarray) -> None:
        """Firms in ``rows`` exit: their rows are no longer live."""
        self.alive[rows] = False
        if self._live is not None:
            self._live = self._live[self.alive[self._live]]

    @property
    def live(self) -> np.ndarray:
        """The live rows, ascending (recomputed after exits)."""
        if self._live is None:
            self._live = np.flatnonzero(self.alive[: self.n])
        return self._live

    def _grow(self, new_cap: int) -> None:
        for name in (*COLUMNS, *SCRATCH):
            old = getattr(self, name)
            new = np.zeros(new_cap, dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)
        self._cap = new_cap

    def col(self, name: str) -> np.ndarray:
        """The live part (rows 0..n) of a column, as a view."""
        return getattr(self, name)[: self.n]

    @property
    def n_alive(self) -> int:
        return int(self.alive[: self.n].sum())
