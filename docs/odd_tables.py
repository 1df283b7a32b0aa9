"""Write the parameter tables of docs/ODD.md from the scenario files and the model's code.

    python docs/odd_tables.py            rewrite the generated blocks (between their markers) in docs/ODD.md
    python docs/odd_tables.py --check    exit 1 if a block is not what the code says now (2: no block)

Values, allowed ranges and constants come from ``scenarios/baseline.toml`` (its priors: the
``[calibration]`` section is left out), ``scenarios/business_as_usual.toml``, the scenario schema
and ``simulation/model/*.py``; which keys the calibration fits comes from
``experiments/calibrate.toml``. What each key means and where its value comes from is written
below, once per key: the script stops with a message naming a key or constant that has no entry,
or an entry whose key no longer exists, so the tables cannot fall behind the code.
(tests/test_odd.py runs the same check.)
"""

from __future__ import annotations

import argparse
import ast
import importlib
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ODD = ROOT / "docs" / "ODD.md"

# --- what each key means, and its source ------------------------------------------------------
# key (dotted, below [levers] or [uncertainties]; "*" stands for a fund's name) ->
# (meaning and unit, policy section or source and grade, submodel in docs/ODD.md)

LEVERS: dict[str, tuple[str, str, str]] = {
    "subsidy.enabled": ("R&D grants and the two rewards on", "三(一), 三(三); 四(四)", "7.6, 7.13"),
    "subsidy.rd_budget": ("R&D grant budget, 亿元 a year, city-wide", "ASSUMPTION (no amount published)", "7.6"),
    "subsidy.max_share_of_rd": ("largest grant, share of the firm's own R&D", "ASSUMPTION", "7.6"),
    "subsidy.emerging_share": ("share of the grant budget for the five emerging clusters (the rest: pillars)",
                               "ASSUMPTION; business as usual: DERIVED (their share of R&D at 2020 intensities)", "7.6"),
    "subsidy.abovescale_entry_reward": ("M CNY per firm entering the above-scale statistics (小升规)",
                                        "A (levers.csv)", "7.13"),
    "subsidy.little_giant_reward": ("M CNY per new 专精特新 little giant", "B (levers.csv)", "7.13"),
    "subsidy.little_giants_per_year": ("little giants designated a year, nine clusters", "ASSUMPTION; 三(三)", "7.13"),
    "land.enabled": ("the city's redevelopment programme on (market redevelopment goes on without it)",
                     "四(二)", "7.3"),
    "land.redevelopment_mu_per_year": ("mu a year the programme adds to market redevelopment, city-wide",
                                       "DERIVED: the 2020 target of 7,500 mu (levers.csv) less the central "
                                       "market-led 2,500", "7.3"),
    "land.floor_multiplier": ("m² of floor per m² of land, programme and base projects",
                              "C-lit (Tangxia Shitanpu case, levers.csv)", "7.3"),
    "land.min_project_mu": ("mu per programme or base project", "A (四(二): projects of ≥ 75 mu)", "7.3"),
    "land.cluster_priority_share": ("share of the programme's new floor reserved for the priority clusters",
                                    "ASSUMPTION (四(二) 统筹用地指标优先保障)", "7.3"),
    "land.award_per_mu": ("M CNY award per mu of programme land delivered",
                          "amount ASSUMPTION (四(二) 财政奖补)", "7.3, 7.15"),
    "land.land_price_discount": ("share of the land price forgone on priority and base land",
                                 "ASSUMPTION (四(二) 先租后让, 联合竞地)", "7.3, 7.15"),
    "land.emerging_base_mu_per_year": ("mu a year of emerging-industry base land released for building, city-wide",
                                       "ASSUMPTION (levers.csv, A: 7 bases on about 60 km²)", "7.3"),
    "land.emerging_base_towns": ("towns hosting the bases", "ASSUMPTION (towns' specialisations)", "7.3"),
    "talent.enabled": ("talent programme on", "四(三)", "7.8"),
    "talent.subsidy": ("M CNY per covered skilled worker a year (综合补贴)", "ASSUMPTION (range 0.01–0.06)", "7.8"),
    "talent.budget_cap": ("most the city pays in talent subsidies, 亿元 a year", "ASSUMPTION", "7.8"),
    "talent.graduate_places": ("extra jointly trained graduate students a year", "ASSUMPTION (四(三) 研究生联合培养)",
                               "7.8"),
    "funds.*.enabled": ("fund on", "四(四); the IC fund 二(二)5", "7.7"),
    "funds.*.target_size": ("亿元 announced", "`guidance` A (levers.csv); `ic`, `ma` ASSUMPTION (not published)",
                            "7.7"),
    "funds.*.mandate": ("share of each tranche by cluster", "ASSUMPTION", "7.7"),
    "funds.*.investment_years": ("years over which the commitment is invested", "ASSUMPTION", "7.7"),
    "funds.*.max_ticket": ("亿元, largest investment in one firm", "ASSUMPTION", "7.7"),
    "funds.*.holding_years": ("years a stake is held before exit", "ASSUMPTION", "7.7"),
    "funds.*.backs_chain_leaders": ("invests in chain leaders (M&A fund) instead of young or small firms",
                                    "四(四) (equity in core projects)", "7.7"),
    "core_zones.enabled": ("core zones on", "三(四); 四(四) 市镇配套资金", "7.3, 7.12"),
    "core_zones.matching_money": ("M CNY a year per zone town from the city, matched 1:1 by the town",
                                  "A (levers.csv)", "7.3, 7.12"),
    "core_zones.land_priority": ("a zone town reserves its priority floor for its zone clusters",
                                 "ASSUMPTION (三(四), 四(二))", "7.3"),
    "core_zones.zones": ("zone towns by cluster", "food, textiles A (levers.csv, 2022 tranche); the rest "
                         "ASSUMPTION (towns' specialisations)", "5"),
    "agencies.enabled": ("one promotion agency per policy cluster", "三(六), 三(三); 四(四)", "7.5"),
    "agencies.budget": ("亿元 a year per agency; every service is paid from it", "ASSUMPTION (none published)", "7.5"),
    "agencies.screening_quality": ("accuracy of grant screening (0 lottery, 1 exact)",
                                   "ASSUMPTION (direction: Guo, Guo & Jiang 2016)", "7.5, 7.6"),
    "agencies.attraction_share": ("budget share for investment promotion (客商库)", "ASSUMPTION (三(三))", "7.5, 7.12"),
    "agencies.matchmaking_share": ("budget share for matchmaking along the value chain", "ASSUMPTION (三(六))", "7.5"),
    "agencies.finance_share": ("budget share for finance matching", "ASSUMPTION (三(六) 金融服务)", "7.5"),
    "agencies.incentive_share": ("incentive package, share of a won investor's first investment",
                                 "ASSUMPTION (packages: Greenstone, Hornbeck & Moretti 2010)", "7.12"),
}

UNCERTAINTIES: dict[str, tuple[str, str, str]] = {
    "demand.volatility": ("sd of a cluster's own demand-growth surprise, % a year", "ASSUMPTION", "7.2"),
    "demand.persistence": ("AR(1) coefficient of that surprise, per quarter", "ASSUMPTION", "7.2"),
    "demand.io_strength": ("share of a buyer cluster's surprise passed to its suppliers", "ASSUMPTION", "7.2"),
    "demand.macro_volatility": ("stationary sd of the common city-wide demand factor, % a year (stationary from 2020)",
                                "ASSUMPTION (city growth −1.9 to +10.2 % a year in 2019–2023)", "7.2"),
    "demand.macro_persistence": ("AR(1) coefficient of the common factor, per year", "ASSUMPTION", "7.2"),
    "baseline.shutdown_shortfall": ("% by which the manufacturing clusters' end-2020 run-rate exceeded their 2020 "
                                    "annual figures (the first-quarter shutdown)",
                                    "ASSUMPTION (city value added −1.1 % in 2020 after +7.8 % in 2019, city.csv)", "5"),
    **{f"demand.macro_shocks.{year}": (
        "the common factor's start-year state, standardised" if year == 2020
        else f"the common factor's standardised innovation in {year}",
        "standard normal by definition; `simulate assimilate` conditions the observed years", "7.2")
       for year in range(2020, 2026)},
    "prices.ppi": ("national industrial PPI, % on the year before", "A (National Bureau of Statistics)", "7.1"),
    "prices.later": ("PPI of every later year, % (drawn once per replicate)", "ASSUMPTION (a prior, not a forecast)",
                     "7.1"),
    "prices.passthrough": ("share of the national PPI change in the industrial clusters' prices",
                           "ASSUMPTION (observed.csv: Guangdong's prices moved less)", "7.1"),
    "behaviour.productivity_persistence": ("annual AR(1) coefficient of transient log-TFP",
                                           "C-lit (production-function literature, evidence.md)", "7.4"),
    "behaviour.productivity_volatility": ("sd of the annual Laplace TFP innovation at 20 M CNY",
                                         "evidence.md: whole-log-TFP persistence 0.6–0.9 (with the permanent part)", "7.4"),
    "behaviour.productivity_dispersion": ("sd of firms' permanent log-TFP",
                                          "target: 90–10 TFP ratio ≈ 5 (Hsieh & Klenow 2009)", "5, 7.4"),
    "behaviour.frontier_productivity_growth": ("common TFP drift, % a year",
                                               "target: incumbents' TFP growth ≈ 2.9 % a year (Brandt et al. 2012)",
                                               "7.4"),
    "behaviour.selection_strength": ("demand growth a year per unit of log-TFP above the cluster's revenue-weighted "
                                     "mean",
                                     "ASSUMPTION", "7.9"),
    "behaviour.growth_shock_scale": ("Laplace scale of the annual growth shock at 20 M CNY",
                                     "shape: Stanley et al. 1996; Bottazzi & Secchi 2006", "7.9"),
    "behaviour.size_volatility_exponent": ("β in volatility ∝ size^−β", "C-lit (Stanley et al. 1996)", "7.4, 7.9"),
    "behaviour.rd_elasticity": ("TFP elasticity of the R&D knowledge stock", "C-lit (Chen et al. 2021)", "7.4"),
    "behaviour.rd_response": ("change in a firm's R&D per yuan of grant",
                              "C-lit (Boeing 2016; Dimos & Pugh 2016)", "7.6"),
    "behaviour.relabel_share": ("share of a reported R&D increase that is relabelling", "C-lit (Chen et al. 2021)",
                                "7.6"),
    "behaviour.agglomeration_elasticity": ("TFP elasticity of own-cluster employment in the town",
                                           "C-lit (Ciccone & Hall 1996; Melo et al. 2009; Combes et al. 2013)", "7.4"),
    "behaviour.congestion_elasticity": ("TFP loss per log of the town's occupied floor",
                                        "ASSUMPTION (form: Au & Henderson 2006)", "7.4"),
    "behaviour.spinoff_rate": ("spin-offs per firm a year", "target: turnover (Bartelsman et al. 2005)", "7.12"),
    "behaviour.entrant_productivity_gap": ("spin-offs' start below their long-run log-TFP",
                                           "ASSUMPTION (direction: Foster et al. 2008)", "7.12"),
    "behaviour.exit_loss_quarters": ("consecutive loss quarters before a firm without cash, and with a long-run loss "
                                     "outlook, exits", "ASSUMPTION", "7.11"),
    "behaviour.exit_hazard_young": ("extra exit probability a year of firms under 2 years",
                                    "target: 20–40 % of entrants fail within 2 years (Bartelsman et al. 2005)",
                                    "7.11"),
    "behaviour.finance_leverage": ("credit per yuan of capital, mature firms", "ASSUMPTION", "7.10"),
    "behaviour.capital_per_revenue": ("capital per yuan of annual revenue capacity", "ASSUMPTION", "7.10"),
    "behaviour.base_margin": ("operating margin of an average firm, after its usual R&D", "ASSUMPTION", "5, 7.11"),
    "behaviour.margin_slope": ("margin per unit of log-TFP above the cluster's revenue-weighted mean", "ASSUMPTION",
                               "5, 7.11"),
    "behaviour.interest_rate": ("a year on drawn credit",
                                "A: loan prime rate 3.65–3.85 % (2021–22); spread ASSUMPTION", "7.11"),
    "land.background_mu_per_year": ("market-led redevelopment at 2020 rents, mu a year city-wide", "ASSUMPTION",
                                    "7.3"),
    "land.prior_mu_per_year": ("mu a year announced before 2021 (the 2020 pipeline), city-wide",
                               "DERIVED (levers.csv: 7,500 mu target, 91.4 % cleared in 2020)", "7.3"),
    "land.pipeline_conversion": ("share of announced projects delivered", "C-lit (Guangzhou pilot ≈ 0.68)", "7.3"),
    "land.approval_lag_years": ("announcement to demolition, years", "ASSUMPTION (evidence.md: multi-year lags)",
                                "7.3"),
    "land.delivery_lag_years": ("demolition to new floor, years", "ASSUMPTION", "7.3"),
    "land.initial_vacancy": ("vacant share of industrial floor in 2020", "ASSUMPTION", "5"),
    "land.initial_modern_share": ("share of the 2020 vacancy that is modern floor", "ASSUMPTION", "5"),
    "land.city_floor_million_m2": ("all industrial floor in the city, million m²", "ASSUMPTION", "5, 7.3"),
    "land.old_floor_ratio": ("m² of old floor demolished per m² of land redeveloped", "ASSUMPTION", "7.3"),
    "land.market_floor_multiplier": ("m² of floor per m² of land, market projects and the 2020 pipeline",
                                     "C-lit (Tangxia Shitanpu 3.4); range ASSUMPTION", "7.3"),
    "land.rent_elasticity": ("rent response to relative occupancy", "ASSUMPTION (form: Au & Henderson 2006)", "7.14"),
    "land.rent_cost_share": ("rent as a share of revenue at 2020 rents (passed into prices)", "ASSUMPTION", "7.9"),
    "land.supply_elasticity": ("market redevelopment per log of the town's rent index", "ASSUMPTION", "7.3"),
    "land.industrial_land_price": ("M CNY per mu of industrial land", "ASSUMPTION (not in the data pack)", "7.15"),
    "land.refit_cost": ("M CNY per m² to refit old floor as modern", "ASSUMPTION", "7.3"),
    "land.vacant_withdrawal": ("share of vacant old floor a year turned to other uses (leaves the industrial stock)",
                               "ASSUMPTION", "7.3, 7.14"),
    "traits.floor_per_revenue_scale": ("scale on every cluster's floor per yuan of revenue (structural uncertainty of "
                                       "cluster_traits.csv)", "ASSUMPTION", "5, 7.10"),
    "traits.talent_share_scale": ("scale on every cluster's skilled share of employees", "ASSUMPTION", "5, 7.8"),
    "traits.revenue_per_employee_scale": ("scale on every cluster's revenue per employee", "ASSUMPTION", "5, 7.8"),
    "traits.rd_intensity_scale": ("scale on every cluster's R&D per yuan of revenue", "ASSUMPTION", "5, 7.6"),
    "traits.va_ratio_quantile": ("quantile of each cluster's value-added ratio within its low-high range",
                                 "ASSUMPTION (ranges: cluster_traits.csv)", "5, 7.16"),
    "statistics.software_scope.2022": ("rise of software's measured revenue in 2022 from a change of statistical "
                                       "scope (applies from that year on)", "ASSUMPTION, conditioned on observed.csv",
                                       "7.16"),
    "statistics.software_scope.2023": ("further rise of software's measured revenue in 2023 from the change of scope",
                                       "ASSUMPTION, conditioned on observed.csv", "7.16"),
    "talent.location_choice_beta": ("logit weight on log income",
                                    "form C-lit (Liu & Shen 2014; Su, Hua & Liang 2019); value ASSUMPTION", "7.8"),
    "talent.outside_match": ("share of an incentive Shenzhen and Guangzhou match",
                             "ASSUMPTION (direction: Dawid, Harting & Neugart 2014)", "7.8"),
    "talent.inflow_rate": ("skilled inflow a year, share of the skilled stock", "ASSUMPTION", "7.8"),
    "talent.attrition_rate": ("skilled outflow a year, share of the skilled stock", "ASSUMPTION", "7.8"),
    "talent.skilled_income": ("M CNY a year, a skilled worker's income", "ASSUMPTION", "7.8, 7.9"),
    "talent.graduate_place_cost": ("M CNY a year per graduate place", "ASSUMPTION", "7.8"),
    "talent.wage_response": ("rise of the skilled-wage premium per unit of unfilled demand (share of employment)",
                             "ASSUMPTION", "7.8"),
    "funds.reach_target_probability": ("probability a fund raises its whole target", "C-lit (Wei, Ang & Jia 2023)",
                                       "7.7"),
    "funds.partial_raise": ("share of the target raised otherwise", "ASSUMPTION", "7.7"),
    "funds.private_coinvest": ("private yuan wanted per fund yuan", "ASSUMPTION (crowd-in > 0: Wei et al. 2023)",
                               "7.7"),
    "funds.private_pool": ("亿元 a year of private venture capital for co-investment", "ASSUMPTION", "7.7"),
    "funds.management_fee": ("a year, on raised capital", "ASSUMPTION", "7.7"),
    "policy.investment_inflow": ("projects won a year per 100 of the cluster's 2020 above-scale firms, with no agency",
                                 "ASSUMPTION", "7.12"),
    "policy.base_win_share": ("Dongguan's share of the region's projects with no agency", "ASSUMPTION", "7.12"),
    "policy.promotion_effect": ("largest rise in the odds of winning a project that promotion buys, minus 1",
                                "ASSUMPTION (evaluations find weak effects: Ben Hassine & Mathieu 2017)", "7.12"),
    "policy.promotion_half_cost": ("M CNY of promotion per pipeline project for half of it", "ASSUMPTION", "7.12"),
    "policy.incentive_elasticity": ("odds of winning per log(1 + incentive share)",
                                    "ASSUMPTION (direction: Greenstone, Hornbeck & Moretti 2010)", "7.12"),
    "policy.rent_sensitivity": ("odds of winning per log of the rent index (negative)", "ASSUMPTION", "7.12"),
    "policy.attracted_firm_size": ("M CNY a year a won project grows to (mean)", "ASSUMPTION", "7.12"),
    "policy.matchmaking_effect": ("largest demand growth a year matchmaking adds for small members",
                                  "ASSUMPTION (weak effects on sales: Ben Hassine & Mathieu 2017)", "7.5, 7.9"),
    "policy.matchmaking_half_cost": ("M CNY a year per small member for half of it", "ASSUMPTION", "7.5"),
    "policy.finance_matching_effect": ("largest extra credit access for constrained members", "ASSUMPTION", "7.5"),
    "policy.finance_half_cost": ("M CNY a year per constrained member for half of it", "ASSUMPTION", "7.5"),
    "policy.services_rd_response": ("small members' own extra R&D per yuan of innovation services",
                                    "direction C-lit (Ben Hassine & Mathieu 2017: more than one); value ASSUMPTION",
                                    "7.5, 7.6"),
    "policy.zone_entry_multiplier": ("entry in a core zone relative to elsewhere, fully funded",
                                     "ASSUMPTION (Alder, Shao & Zilibotti 2016; Lu, Wang & Zhu 2019)", "5, 7.12"),
    "policy.zone_diminishing": ("share of the effect each further zone of a cluster keeps",
                                "ASSUMPTION (direction: Alder et al. 2016; Wang 2013)", "5"),
    "policy.zone_half_money": ("M CNY a year of a zone town's money for half the zone effect", "ASSUMPTION", "5"),
}
#: tables with one key per cluster, shown together in one table
PER_CLUSTER = {
    "baseline.revenue_2020": "2020 above-scale revenue, 亿元",
    "baseline.abovescale_firms_2020": "2020 above-scale firms",
    "demand.growth": "real market growth, % a year",
}
PER_CLUSTER_SOURCE = ("2020 levels: `clusters.csv` low–central–high (grades there; mostly ASSUMPTION). Market "
                      "growth: ASSUMPTION. Submodels 5 and 7.2.")

CONSTANTS: dict[str, tuple[str, str, str]] = {
    "agency.SME_REVENUE": ("M CNY a year: members below it are small (matchmaking, services, little giants' band)",
                           "ASSUMPTION (三(三) 中小企业)", "7.5, 7.9, 7.13"),
    "entry.SPINOFF_SIZE": ("M CNY a year, spin-offs' entry revenue (log-uniform)",
                           "ASSUMPTION (direction: Foster et al. 2008)", "7.12"),
    "entry.SPINOFF_TARGET_LOG": ("mean and sd of ln(target / entry revenue) of spin-offs", "ASSUMPTION", "7.12"),
    "entry.ENTRANT_DISPERSION": ("spin-offs' log-TFP dispersion at entry relative to incumbents' (through the start gap)",
                                 "ASSUMPTION (direction: Foster et al. 2008)", "7.12"),
    "entry.START_UTILISATION": ("entrants' utilisation of their first capacity", "ASSUMPTION", "7.12"),
    "firm_rules.KNOWLEDGE_DEPRECIATION": ("a year, adjustment speed of the knowledge stock",
                                          "as cited in the code: Hall, Mairesse & Mohnen 2010 (not in evidence.md)",
                                          "7.4"),
    "firm_rules.CATCH_UP_RATE": ("a year, share of the log gap to the target size closed", "ASSUMPTION", "7.9"),
    "firm_rules.CATCH_UP_YEARS": ("age (years) at which a target size expires", "ASSUMPTION", "7.11"),
    "firm_rules.IDLE_COST": ("margin lost per unit of idle capacity share", "ASSUMPTION", "7.11"),
    "firm_rules.SHRINK_UTILISATION": ("utilisation below which a firm sheds capacity", "ASSUMPTION", "7.10"),
    "firm_rules.SHRINK_SPEED": ("share of excess capacity shed a year", "ASSUMPTION", "7.10"),
    "firm_rules.MATURE_YEARS": ("age (years) from which an above-scale firm has full credit access", "ASSUMPTION",
                                "7.10"),
    "firm_rules.CONSTRAINED_ACCESS": ("credit access of young or below-scale firms, relative", "ASSUMPTION", "7.10"),
    "firm_rules.MIN_REVENUE": ("M CNY a year below which a firm closes", "ASSUMPTION", "7.11"),
    "firm_rules.YOUNG_YEARS": ("age (years) below which the early-failure hazard applies",
                               "Bartelsman et al. 2005 (failure within two years)", "7.11"),
    "firm_rules.DEMAND_ELASTICITY": ("σ, elasticity of substitution between firms' varieties",
                                     "as cited in the code: Hsieh & Klenow 2009 (evidence.md cites it for dispersion)",
                                     "7.9, 7.10"),
    "firm_rules.MARKUP": ("σ/(σ − 1): price over marginal cost; factor-cost changes pass into prices at it",
                          "DERIVED from σ (CES demand)", "7.9, 7.10"),
    "firm_rules.REVENUE_TFP_ELASTICITY": ("(σ − 1)/σ: revenue per unit of log-TFP at fixed inputs",
                                          "DERIVED from σ", "7.9, 7.10"),
    "firm_rules.DENSITY_FLOOR": ("persons added to both densities in the agglomeration ratio", "ASSUMPTION (technical)",
                                 "7.4"),
    "firm_rules.MAX_SHOCK_SCALE": ("largest Laplace scale of a growth shock (its mean needs < 1)", "technical", "7.9"),
    "fund.YOUNG_STEPS_YEARS": ("age (years) below which a firm is venture-stage for the funds", "ASSUMPTION", "7.7"),
    "initial_state.SIZE_PRODUCTIVITY_CORRELATION": ("correlation of permanent log-TFP with log size",
                                                    "ASSUMPTION (sign: Syverson 2011)", "5"),
    "initial_state.BELOW_SCALE_MIN": ("M CNY a year, the smallest firm modelled", "ASSUMPTION", "5"),
    "initial_state.UNRELATED_TOWN_WEIGHT": ("location weight where a town does not list the cluster (`other`)",
                                            "ASSUMPTION", "5"),
    "initial_state.DEFAULT_UNRELATED": ("the same for every other cluster", "ASSUMPTION", "5"),
    "datapack.DATA_YEAR": ("the year of the data pack's start state; start_year must equal it", "data pack", "5"),
    "initial_state.CASH_START": ("cash an incumbent holds, share of revenue, before what its margin added", "ASSUMPTION", "5"),
    "initial_state.CASH_YEARS": ("years of margin an incumbent's 2020 cash reflects", "ASSUMPTION", "5"),
    "investors.ATTRACTED_PREMIUM": ("won projects' permanent log-TFP above the 2020 cluster mean", "ASSUMPTION", "7.12"),
    "investors.ATTRACTED_START_SHARE": ("a won project's entry revenue, share of its target", "ASSUMPTION", "7.12"),
    "investors.TO_ZONE": ("probability a project of a zoned cluster picks a zone town",
                          "ASSUMPTION (三(四): flagship projects to core zones)", "7.12"),
    "model.MAX_LAG_YEARS": ("years of approval and delivery lag the pipeline arrays hold", "structural", "7.3"),
    "model.RESERVED_RELEASE": ("share of unused reserved floor opened to all a year", "ASSUMPTION", "7.14"),
    "model.INITIAL_FREE_TALENT": ("free skilled workers in 2020, share of skilled employment", "ASSUMPTION", "5"),
    "model.ZONE_CITY_AND_TOWN": ("the town matches the city's zone money 1:1", "A (levers.csv)", "7.3"),
    "model.MARKET_PROJECT_MU": ("mu per market-led project", "ASSUMPTION", "7.3"),
    "recorder.YI": ("M CNY per 亿元", "unit", "7.16"),
    "talent.BASE_SHARE": ("Dongguan's share of skilled movers among the three cities", "ASSUMPTION", "7.8"),
    "talent.PREMIUM_EASING": ("share of the scarcity premium that fades a year without unfilled demand", "ASSUMPTION",
                              "7.8"),
    "talent.MAX_PREMIUM": ("largest scarcity premium (share of skilled wages)", "ASSUMPTION", "7.8"),
    "datapack.ABOVE_SCALE_THRESHOLD": ("M CNY of current-yuan annual revenue: above scale (规上)",
                                       "A (national statistical rule, levers.csv)", "7.1, 7.13"),
    "datapack.MU_M2": ("m² per mu", "unit", "7.3"),
}
#: ledger programme (simulation/model/ledger.py) -> (what is booked and when, how it is split among clusters,
#: policy section)
PROGRAMMES: dict[str, tuple[str, str, str]] = {
    "rd_grants": ("each grant, at the firm's annual review", "the firm's cluster", "三(一); 四(四)"),
    "abovescale_rewards": ("the reward, when a firm is first above scale", "the firm's cluster", "city measure (levers.csv)"),
    "little_giant_rewards": ("the reward, at designation (year end)", "the firm's cluster", "三(三)"),
    "talent_subsidy": ("min(subsidy × covered skilled workers, cap) a year, × dt", "policy clusters, by skilled employment",
                       "四(三)"),
    "graduate_places": ("places × place cost a year, × dt", "policy clusters, by skilled employment", "四(三)"),
    "agency_attraction": ("budget × attraction_share, × dt", "the agency's cluster", "三(三), 三(六); 四(四)"),
    "investment_incentives": ("incentive_share × first capital of each won investor where the agency offers a package",
                              "the investor's cluster", "三(三); 四(四)"),
    "agency_matchmaking": ("budget × matchmaking_share, × dt, if the cluster has small members", "the agency's cluster",
                           "三(六)"),
    "agency_finance": ("budget × finance_share, × dt, if it has finance-constrained members", "the agency's cluster",
                       "三(六)"),
    "agency_services": ("the rest of the budget, × dt, if it has small members", "the agency's cluster", "三(六); 四(四)"),
    "zone_matching": ("the zone towns' whole matching money (city + town), × dt: refits of vacant old floor, the rest "
                      "the zone's platforms and services", "the town's zone clusters, equally", "四(四)"),
    "land_awards": ("award_per_mu × programme land delivered, city-wide", "all clusters, by 2020 floor", "四(二)"),
    "forgone_land_revenue": ("land price × discount × (priority + base land delivered), city-wide",
                             "priority: policy clusters; base: emerging clusters (by 2020 floor)", "四(二)"),
    "fund_capital": ("new public money in each investment (recycled proceeds are not new)", "the investee's cluster",
                     "四(四); 二(二)5"),
    "fund_fees": ("management_fee × raised a year, × dt, from the commitment", "the fund's mandate", "四(四)"),
    "fund_returns": ("proceeds paid back after the investment period (negative)", "the fund's mandate", "四(四)"),
}
#: module-level numbers that index arrays, not model quantities
STRUCTURAL = {"OLD", "MODERN", "RESERVED", "BASE", "GRADES", "ORDER", "ORIGIN_INITIAL", "ORIGIN_SPINOFF",
              "ORIGIN_ATTRACTED", "ORIGIN_EXTERNAL", "CLUSTER_INDEX", "PROGRAMME_INDEX"}
CONSTANT_MODULES = ("simulation.datapack", *(f"simulation.model.{p.stem}" for p in
                                             sorted((ROOT / "simulation" / "model").glob("*.py"))
                                             if p.stem != "__init__"))


# --- reading the code ----------------------------------------------------------------------------


def _scenarios() -> tuple[dict, dict, dict]:
    """Raw baseline priors, resolved baseline levers, resolved business-as-usual levers."""
    from simulation.scenario import load_scenario

    base = load_scenario(ROOT / "scenarios" / "baseline.toml", calibrated=False).spec
    bau = load_scenario(ROOT / "scenarios" / "business_as_usual.toml", calibrated=False).spec
    raw = tomllib.loads((ROOT / "scenarios" / "baseline.toml").read_text(encoding="utf-8"))
    return raw["uncertainties"], base.levers.model_dump(), bau.levers.model_dump()


def _calibrated_keys() -> set[str]:
    experiment = tomllib.loads((ROOT / "experiments" / "calibrate.toml").read_text(encoding="utf-8"))
    return {p["key"] for p in experiment["parameters"].values()}


def _flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted keys of a nested table; a distribution table or a non-table is a leaf."""
    if isinstance(node, dict) and "dist" not in node and not _is_mapping_value(prefix):
        out: dict[str, Any] = {}
        for k, v in node.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    return {prefix: node}


def _is_mapping_value(key: str) -> bool:
    """Keys whose value is a table in its own right (a mapping shown in one cell)."""
    return key.endswith((".mandate", ".zones", "prices.ppi")) or key.startswith("shocks")


def bounds(section: str, key: str) -> str:
    """The range the schema allows for ``section.key`` (e.g. 'levers', 'land.award_per_mu')."""
    from pydantic.functional_validators import BeforeValidator

    from simulation.scenario.loader import schema_type

    keys = (section, *key.split("."))
    if section == "levers" and keys[1] == "funds":
        keys = keys[:2] + ("name",) + keys[3:]
    tp, meta = schema_type(keys)
    if tp is bool:
        return "true/false"
    if tp is not None and getattr(tp, "__origin__", None) in (dict, list):
        return "table" if tp.__origin__ is dict else "list"
    low = high = None
    strict_low = False
    for m in meta:
        if isinstance(m, BeforeValidator):  # uncertain(ge, le): the bounds are the check's closure
            cells = dict(zip(m.func.__code__.co_freevars, (c.cell_contents for c in m.func.__closure__ or ())))
            low, high = cells.get("ge", low), cells.get("le", high)
        if getattr(m, "ge", None) is not None:
            low = m.ge
        if getattr(m, "gt", None) is not None:
            low, strict_low = m.gt, True
        if getattr(m, "le", None) is not None:
            high = m.le
    lo = "" if low is None else ("> " if strict_low else "") + _num(low)
    if low is not None and high is not None and not strict_low:
        return f"{_num(low)}–{_num(high)}"
    if high is None:
        return f"≥ {lo}" if lo and not strict_low else lo or "any"
    return f"{lo}, ≤ {_num(high)}" if lo else f"≤ {_num(high)}"


def module_constants() -> dict[str, Any]:
    """``module.NAME`` -> value of every upper-case number (or tuple or table of numbers) a model module defines."""
    found: dict[str, Any] = {}
    for name in CONSTANT_MODULES:
        module = importlib.import_module(name)
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
            for target in targets:
                if not (isinstance(target, ast.Name) and target.id.isupper()) or target.id in STRUCTURAL:
                    continue
                value = getattr(module, target.id)
                if _numeric(value):
                    found[f"{name.rsplit('.', 1)[-1]}.{target.id}"] = value
    return found


def _numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, tuple) and value:
        return all(_numeric(v) for v in value)
    if isinstance(value, dict) and value:
        return all(_numeric(v) for v in value.values())
    return False


# --- formatting -----------------------------------------------------------------------------------


def _num(x: Any) -> str:
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, str):
        return x
    x = float(x)
    text = f"{int(x):,}" if x.is_integer() and abs(x) < 1e15 else f"{x:.4g}"
    return text.replace("-", "−")


def _value(v: Any) -> str:
    """A scenario value as the tables show it: tri(low, mode, high), U(low, high), N(mean, sd), a number."""
    if isinstance(v, dict) and "dist" in v:
        d = v["dist"]
        if d == "triangular":
            return f"tri({_num(v['low'])}, {_num(v['mode'])}, {_num(v['high'])})"
        if d == "uniform":
            return f"U({_num(v['low'])}, {_num(v['high'])})"
        if d == "normal":
            cut = f" in [{_num(v.get('low', '-inf'))}, {_num(v.get('high', 'inf'))}]" if "low" in v or "high" in v else ""
            return f"N({_num(v['mean'])}, {_num(v['sd'])}){cut}"
        return _num(v["value"])
    if isinstance(v, dict):
        return ", ".join(f"{k} {_value(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v)
    if isinstance(v, str):
        return v
    return _num(v)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


# --- the tables -----------------------------------------------------------------------------------


def _meta(table: dict[str, tuple[str, str, str]], key: str, what: str) -> tuple[str, str, str]:
    generic = re.sub(r"^funds\.[^.]+\.", "funds.*.", key)
    entry = table.get(key) or table.get(generic)
    if entry is None:
        raise KeyError(f"{what} {key!r} has no entry in docs/odd_tables.py: say what it means and where it comes from")
    return entry


def _usual(key: str, flat_bau: dict) -> Any:
    """Business as usual's value of a lever key; "off" where it switches the key's whole lever off."""
    section = key.rsplit(".", 1)[0]
    enabled = flat_bau.get(f"{section}.enabled", True)
    if not enabled and not key.endswith(".enabled"):
        return "(off)"
    return flat_bau.get(key, "–")


def _shown(key: str, value: Any) -> str:
    if key.endswith(".zones") and isinstance(value, dict):
        return f"{len(value)} clusters, {len({t for ts in value.values() for t in ts})} towns"
    return _value(value)


def levers_table(base: dict, bau: dict) -> list[str]:
    flat_base, flat_bau = _flatten(base), _flatten(bau)
    lines = ["| key (`[levers]`) | baseline | business as usual | allowed | meaning | policy / source | § |",
             "|---|---|---|---|---|---|---|"]
    for key, value in flat_base.items():
        if key.startswith("funds."):
            continue
        meaning, source, where = _meta(LEVERS, key, "lever")
        usual = _usual(key, flat_bau)
        lines.append(f"| `{key}` | {_cell(_shown(key, value))} | {_cell(_shown(key, usual))} | "
                     f"{bounds('levers', key)} | {_cell(meaning)} | {_cell(source)} | {where} |")
    return lines


def funds_table(base: dict, bau: dict) -> list[str]:
    """One column per fund (``[levers.funds.<name>]``)."""
    names = list(base["funds"])
    lines = ["| key (`[levers.funds.<name>]`) | " + " | ".join(f"`{n}`" for n in names)
             + " | business as usual | allowed | meaning | policy / source | § |",
             "|---|" + "---|" * len(names) + "---|---|---|---|---|"]
    flat_bau = _flatten(bau)
    for key in next(iter(base["funds"].values())):
        meaning, source, where = _meta(LEVERS, f"funds.*.{key}", "lever")
        values = " | ".join(_cell(_value(base["funds"][n][key])) for n in names)
        usual = ", ".join(sorted({_value(_usual(f"funds.{n}.{key}", flat_bau)) for n in names}))
        lines.append(f"| `{key}` | {values} | {_cell(usual)} | {bounds('levers', f'funds.name.{key}')} | "
                     f"{_cell(meaning)} | {_cell(source)} | {where} |")
    return lines


def uncertainties_table(raw: dict, calibrated: set[str]) -> list[str]:
    flat = _flatten(raw)
    lines = ["| key (`[uncertainties]`) | prior (baseline.toml) | allowed | meaning | source / grade | cal. | § |",
             "|---|---|---|---|---|:---:|---|"]
    for key, value in flat.items():
        if key.startswith("shocks") or any(key.startswith(p + ".") for p in PER_CLUSTER):
            continue
        meaning, source, where = _meta(UNCERTAINTIES, key, "uncertainty")
        cal = "✓" if f"uncertainties.{key}" in calibrated else ""
        allowed = bounds("uncertainties", key if key != "prices.ppi" else "prices.later")
        lines.append(f"| `{key}` | {_cell(_value(value))} | {allowed} | {_cell(meaning)} | {_cell(source)} | {cal} | "
                     f"{where} |")
    return lines


def per_cluster_table(raw: dict, calibrated: set[str]) -> list[str]:
    from simulation.datapack import CLUSTERS

    columns = list(PER_CLUSTER)
    lines = ["| cluster | " + " | ".join(f"`{c}` ({PER_CLUSTER[c]})" for c in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for cluster in CLUSTERS:
        cells = []
        for column in columns:
            node = raw
            for part in column.split("."):
                node = node[part]
            mark = " ✓" if f"uncertainties.{column}.{cluster}" in calibrated else ""
            cells.append(_value(node[cluster]) + mark)
        lines.append(f"| `{cluster}` | " + " | ".join(cells) + " |")
    return lines


def events_table(raw: dict) -> list[str]:
    lines = ["| event (`[uncertainties.shocks.events]`) | cluster | from | years | change in demand growth, pp a year |",
             "|---|---|---|---|---|"]
    for name, e in raw["shocks"]["events"].items():
        lines.append(f"| `{name}` | `{e['cluster']}` | {e['start']:g} | {_num(e['duration_years'])} | "
                     f"{_value(e['growth_change'])} |")
    return lines


def constants_table() -> list[str]:
    lines = ["| constant | value | meaning | source / grade | § |", "|---|---|---|---|---|"]
    for key, value in sorted(module_constants().items()):
        meaning, source, where = _meta(CONSTANTS, key, "constant")
        lines.append(f"| `{key}` | {_cell(_value(value))} | {_cell(meaning)} | {_cell(source)} | {where} |")
    return lines


def programmes_table() -> list[str]:
    from simulation.model.ledger import PROGRAMMES as LEDGER

    lines = ["| programme | paid to | what is booked, when | by cluster | policy |", "|---|---|---|---|---|"]
    for name, (recipient, description) in LEDGER.items():
        if name not in PROGRAMMES:
            raise KeyError(f"ledger programme {name!r} has no entry in docs/odd_tables.py")
        booked, split, policy = PROGRAMMES[name]
        lines.append(f"| `{name}`: {_cell(description)} | {recipient} | {_cell(booked)} | {_cell(split)} | {policy} |")
    return lines


def missing_and_stale() -> tuple[list[str], list[str]]:
    """Keys and constants of the code with no entry here, and entries whose key no longer exists."""
    raw, base, _ = _scenarios()
    levers = {re.sub(r"^funds\.[^.]+\.", "funds.*.", k) for k in _flatten(base)}
    uncertain = {k for k in _flatten(raw) if not k.startswith("shocks")
                 and not any(k.startswith(p + ".") for p in PER_CLUSTER)}
    constants = set(module_constants())
    from simulation.model.ledger import PROGRAMMES as LEDGER

    programmes = set(LEDGER)
    missing = sorted((levers - set(LEVERS)) | (uncertain - set(UNCERTAINTIES)) | (constants - set(CONSTANTS))
                     | (programmes - set(PROGRAMMES)))
    stale = sorted((set(LEVERS) - levers) | (set(UNCERTAINTIES) - uncertain) | (set(CONSTANTS) - constants)
                   | (set(PROGRAMMES) - programmes))
    return missing, stale


def parameters_block() -> list[str]:
    raw, base, bau = _scenarios()
    calibrated = _calibrated_keys()
    out = ["**Levers** (plain numbers). Business as usual: `scenarios/business_as_usual.toml` (the counterfactual "
           "of pre-2021 programmes); \"(off)\": it switches the whole lever off.", ""]
    out += levers_table(base, bau)
    out += ["", "**Funds** (one `[levers.funds.<name>]` table each).", ""]
    out += funds_table(base, bau)
    out += ["", "**Uncertainties** (drawn once per replicate). ✓: fitted by the calibration "
            "(`experiments/calibrate.toml`); the fitted distributions replace these priors from the "
            "`[calibration]` section of `scenarios/baseline.toml`, with the fit in `docs/calibration_record.md`.", ""]
    out += uncertainties_table(raw, calibrated)
    out += ["", "**Per cluster** (" + PER_CLUSTER_SOURCE + ")", ""]
    out += per_cluster_table(raw, calibrated)
    out += ["", "**Named demand events of the baseline** (magnitudes ASSUMPTION; 7.2).", ""]
    out += events_table(raw)
    out += ["", "**Module constants** (`simulation/model/*.py`, `simulation/datapack.py`).", ""]
    out += constants_table()
    return out


#: generated blocks of docs/ODD.md: name -> lines
BLOCKS = {"programmes": programmes_table, "parameters": parameters_block}


def markers(name: str) -> tuple[str, str]:
    return f"<!-- odd-tables:{name}:start -->", f"<!-- odd-tables:{name}:end -->"


def update_document(text: str) -> str:
    """``text`` with every generated block rewritten from the code."""
    missing, stale = missing_and_stale()
    if missing or stale:
        raise KeyError(f"docs/odd_tables.py is out of date: no entry for {missing}; entries for keys that are gone: "
                       f"{stale}")
    for name, lines in BLOCKS.items():
        start, end = markers(name)
        pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
        if not pattern.search(text):
            raise ValueError(f"no {start} … {end} block in docs/ODD.md")
        block = "\n".join([start, "<!-- generated by `python docs/odd_tables.py`; do not edit by hand -->", "",
                           *lines(), "", end])
        text = pattern.sub(lambda _: block, text, count=1)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the tables are out of date")
    parser.add_argument("--doc", type=Path, default=ODD, help="the document (default: docs/ODD.md)")
    args = parser.parse_args(argv)
    try:
        text = args.doc.read_text(encoding="utf-8")
        new = update_document(text)
    except (OSError, KeyError, ValueError) as error:
        print(f"docs/odd_tables.py: {args.doc}: {error}", file=sys.stderr)
        return 2
    if args.check:
        if new != text:
            print(f"{args.doc}: the generated tables are out of date: run python docs/odd_tables.py", file=sys.stderr)
            return 1
        return 0
    if new != text:
        args.doc.write_text(new, encoding="utf-8")
        print(f"Rewrote the generated tables in {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
