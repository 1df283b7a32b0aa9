"""The Firm agent: a Mesa agent whose state is one row of the model's FirmTable.

A firm decides how much to expand (bounded by floor space, skilled talent and finance), how
much R&D to do, and whether to exit; it competes for floor space, talent, R&D grants and fund
equity, which towns, agencies and funds ration among firms.
Those decision rules are written once, vectorised over all firms, in
:mod:`simulation.model.firm_rules`; this class gives each firm an identity in Mesa and reads
and writes its row, so ``model.agents_by_type[Firm]`` and per-firm inspection work as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from simulation.datapack import ABOVE_SCALE_THRESHOLD, CLUSTERS, town_ids

if TYPE_CHECKING:
    from simulation.model.model import ClusterModel


def _column(name: str, doc: str) -> property:
    def get(self: Firm):
        return getattr(self.model.firms, name)[self.row].item()

    def set_(self: Firm, value) -> None:
        getattr(self.model.firms, name)[self.row] = value

    return property(get, set_, doc=doc)


class Firm(mesa.Agent):
    """One firm; attribute access goes straight to the model's arrays."""

    def __init__(self, model: ClusterModel, row: int) -> None:
        super().__init__(model)
        self.row = row

    revenue = _column("revenue", "Operating revenue, M CNY a year at 2020 prices.")
    capacity = _column("capacity", "Input bundle, M CNY of revenue at 2020 cluster productivity and prices.")
    log_productivity = _column("logprod", "Log total factor productivity.")
    rd_spending = _column("rd", "Real R&D spending, M CNY a year, paid from cash (grants included).")
    cash = _column("cash", "Liquid funds, M CNY (negative: credit drawn).")
    public_money = _column("public_cash", "Public money received since entry, M CNY (grants, subsidies; the ledger's mirror).")
    capital = _column("capital", "Installed capital, M CNY.")
    age_steps = _column("age", "Steps since entry.")
    above_scale = _column("above_scale", "Revenue at least 20 M CNY a year in current yuan (规上).")
    chain_leader = _column("chain_leader", "Designated chain leader (链主).")
    little_giant = _column("little_giant", "Designated specialised SME (专精特新).")
    fund_equity = _column("fund_equity", "Fund equity received, M CNY.")
    alive = _column("alive", "False once the firm has exited.")

    @property
    def cluster(self) -> str:
        return CLUSTERS[self.model.firms.cluster[self.row]]

    @property
    def town(self) -> str:
        return town_ids()[self.model.firms.town[self.row]]

    @property
    def floor_space(self) -> float:
        """m2 of industrial floor occupied (fixed proportion of capacity)."""
        c = self.model.firms.cluster[self.row]
        return self.model.floor_per_capacity[c] * self.capacity

    @property
    def employees(self) -> float:
        c = self.model.firms.cluster[self.row]
        return self.capacity * self.model.employees_per_capacity[c]

    @property
    def skilled_talent(self) -> float:
        c = self.model.firms.cluster[self.row]
        return self.capacity * self.model.talent_per_capacity[c]

    @property
    def fund_backed(self) -> bool:
        return self.fund_equity > 0

    def is_above_scale(self) -> bool:
        """Above scale at current prices (the statistics' 20 M CNY threshold), on this quarter's revenue."""
        c = self.model.firms.cluster[self.row]
        return bool(self.revenue * self.model.price_level[c] >= ABOVE_SCALE_THRESHOLD)

    def __repr__(self) -> str:
        return f"Firm(row={self.row}, {self.cluster}, {self.town}, revenue={self.revenue:.1f} M CNY)"
