"""The fiscal ledger: every yuan of public money a scenario spends, by programme, cluster and step.

Public programmes pay through the ledger and nowhere else, so the ledger can say where each yuan
went: to firms' cash (grants, rewards, incentive packages, fund equity), to workers (talent
subsidies), to providers of public services (agency staff and events, universities' graduate
places, fund managers), to redevelopment (land awards, refits of old floor) or forgone (land sold
below its price). Money that comes back (fund exits after the investment period) is booked as a
negative outlay of the programme that spent it.

``firms_received`` mirrors the firm table's ``public_cash`` column: public money reaches a firm's
cash only through :meth:`Ledger.pay_firms`, which books both, so the two reconcile every step.
Two kinds of money reach firms' cash without being new public money: private venture capital
crowded in by the funds (:meth:`Ledger.pay_private`, its own account) and fund proceeds the funds
reinvest during their investment period (the city paid for them once, when first invested).

Amounts are M CNY (the model's unit); results report 亿元.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from simulation.model.firm_table import FirmTable

#: programme -> (recipient, description). The order is the order of the results' metrics.
PROGRAMMES: dict[str, tuple[str, str]] = {
    "rd_grants": ("firms", "R&D grants"),
    "abovescale_rewards": ("firms", "rewards for entering the above-scale statistics"),
    "little_giant_rewards": ("firms", "rewards for 专精特新 little giants"),
    "talent_subsidy": ("workers", "talent subsidies to skilled workers"),
    "graduate_places": ("services", "jointly trained graduate places"),
    "agency_attraction": ("services", "agencies: investment promotion"),
    "investment_incentives": ("firms", "incentive packages for won investors"),
    "agency_matchmaking": ("services", "agencies: matchmaking along the value chain"),
    "agency_finance": ("services", "agencies: finance matching (guarantees, interest support)"),
    "agency_services": ("services", "agencies: innovation services for small members"),
    "zone_matching": ("redevelopment", "core zones: city-town matching money (refits)"),
    "land_awards": ("redevelopment", "awards for the redevelopment programme's projects"),
    "forgone_land_revenue": ("forgone", "land revenue forgone on priority land"),
    "fund_capital": ("firms", "guidance funds: equity invested"),
    "fund_fees": ("services", "guidance funds: management fees"),
    "fund_returns": ("treasury", "guidance funds: proceeds returned (negative)"),
}
PROGRAMME_INDEX = {name: i for i, name in enumerate(PROGRAMMES)}
TO_FIRMS = np.array([recipient == "firms" for recipient, _ in PROGRAMMES.values()])


class Ledger:
    """Public outlays of the current step, (programme, cluster), and running totals."""

    def __init__(self, n_clusters: int) -> None:
        self.n_clusters = n_clusters
        self.step = np.zeros((len(PROGRAMMES), n_clusters))  # M CNY this step
        self.total = np.zeros((len(PROGRAMMES), n_clusters))  # M CNY since the start
        self.firms_received = 0.0  # M CNY paid into firms' cash since the start
        self.private_paid = 0.0  # M CNY of private co-investment paid into firms' cash

    def new_step(self) -> None:
        self.step[:] = 0.0

    def book(self, programme: str, cluster: int | np.ndarray, amount: float | np.ndarray) -> None:
        """Book an outlay that does not go to firms' cash (services, workers, land, forgone)."""
        i = PROGRAMME_INDEX[programme]
        if TO_FIRMS[i]:
            raise ValueError(f"{programme} pays firms: use pay_firms")
        if isinstance(amount, float) and isinstance(cluster, int):  # one amount to one cluster (agencies)
            if amount < 0 and programme != "fund_returns":
                raise ValueError(f"{programme}: negative outlay {amount}")
            self.step[i, cluster] += amount
            self.total[i, cluster] += amount
            return
        amount = np.asarray(amount, dtype=float)
        if programme != "fund_returns" and (amount < 0).any():
            raise ValueError(f"{programme}: negative outlay {amount.min()}")
        if isinstance(cluster, slice) or np.ndim(cluster) == 0:  # no repeated index: a plain addition is add.at
            self.step[i, cluster] += amount
            self.total[i, cluster] += amount
        else:
            np.add.at(self.step[i], cluster, amount)
            np.add.at(self.total[i], cluster, amount)

    def pay_firms(self, programme: str, firms: FirmTable, rows: np.ndarray, amounts: np.ndarray | float) -> None:
        """Pay public money into firms' cash, and book it."""
        i = PROGRAMME_INDEX[programme]
        if not TO_FIRMS[i]:
            raise ValueError(f"{programme} does not pay firms")
        rows = np.asarray(rows)
        amounts = np.broadcast_to(np.asarray(amounts, dtype=float), rows.shape)
        if rows.size == 0:
            return
        if np.any(amounts < 0):
            raise ValueError(f"{programme}: negative payment {amounts.min()}")
        np.add.at(firms.cash, rows, amounts)
        np.add.at(firms.public_cash, rows, amounts)
        clusters = firms.cluster[rows]
        np.add.at(self.step[i], clusters, amounts)
        np.add.at(self.total[i], clusters, amounts)
        self.firms_received += float(amounts.sum())

    def pay_private(self, firms: FirmTable, rows: np.ndarray, amounts: np.ndarray) -> None:
        """Private co-investment into firms' cash (not public money, kept apart)."""
        np.add.at(firms.cash, rows, amounts)
        self.private_paid += float(np.sum(amounts))

    @property
    def step_by_programme(self) -> np.ndarray:
        return self.step.sum(axis=1)

    @property
    def step_by_cluster(self) -> np.ndarray:
        return self.step.sum(axis=0)

    @property
    def paid_to_firms(self) -> float:
        """M CNY of public money paid into firms' cash since the start (from the books)."""
        return float(self.total[TO_FIRMS].sum())
