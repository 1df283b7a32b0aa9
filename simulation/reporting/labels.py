"""Names people can read for scenario keys and sweep outcomes, in English and Chinese.

Charts and sentences about sweeps (scenario discovery, lever optimisation) name the levers and
uncertainties they vary. A dotted key such as ``uncertainties.demand.growth.bio`` becomes
"biomedicine demand growth" / "生物医药需求增长", with its unit ("% a year" / "%/年") apart, so
a sentence can say "below 6.2 % a year". Keys without an entry here get a name made from their
last parts ("rd response"), never the raw key.
"""

from __future__ import annotations

from functools import cache

#: key suffix (after ``levers.`` or ``uncertainties.``, cluster left out as ``*``) -> (en, zh, unit en, unit zh)
NAMES: dict[str, tuple[str, str, str, str]] = {
    # uncertainties
    "demand.growth.*": ("{c} demand growth", "{c}需求增长", "% a year", "%/年"),
    "demand.volatility": ("demand volatility", "需求波动", "% a year", "%/年"),
    "demand.macro_volatility": ("city-wide demand volatility", "全市需求波动", "% a year", "%/年"),
    "demand.io_strength": ("supply-chain pass-through", "产业链传导强度", "", ""),
    "demand.persistence": ("persistence of demand shocks", "需求冲击持续性", "", ""),
    "demand.macro_persistence": ("persistence of city-wide demand shocks", "全市需求冲击持续性", "", ""),
    "traits.revenue_per_employee_scale": ("revenue per employee (scale)", "人均营业收入（倍数）", "", ""),
    "traits.floor_per_revenue_scale": ("floor space per unit of revenue (scale)", "单位营业收入用地（倍数）", "", ""),
    "traits.talent_share_scale": ("skilled share of employees (scale)", "技能人才占比（倍数）", "", ""),
    "traits.rd_intensity_scale": ("R&D intensity (scale)", "研发强度（倍数）", "", ""),
    "traits.va_ratio_quantile": ("value-added ratio (quantile)", "增加值率（分位）", "", ""),
    "behaviour.productivity_persistence": ("productivity persistence", "生产率持续性", "", ""),
    "behaviour.productivity_dispersion": ("productivity dispersion", "生产率离散度", "", ""),
    "behaviour.growth_shock_scale": ("size of firms' growth shocks", "企业增长冲击幅度", "", ""),
    "behaviour.exit_loss_quarters": ("loss quarters before exit", "退出前亏损季度数", "quarters", "个季度"),
    "behaviour.rd_elasticity": ("productivity return to R&D", "研发的生产率弹性", "", ""),
    "behaviour.interest_rate": ("interest rate", "贷款利率", "a year", "/年"),
    "baseline.revenue_2020.*": ("{c} revenue in 2020", "{c} 2020 年营业收入", "亿元", "亿元"),
    "prices.later": ("producer prices after 2023", "2023 年后工业品价格", "% a year", "%/年"),
    "prices.passthrough": ("national price pass-through", "全国价格传导", "", ""),
    "policy.investment_inflow": ("investment projects won without agencies", "无促进机构时的招商项目", "per 100 firms a year",
                                 "个/百家企业·年"),
    "policy.promotion_effect": ("effect of investment promotion", "招商推介效果", "", ""),
    "policy.incentive_elasticity": ("investors' response to incentives", "投资者对激励的反应", "", ""),
    "policy.base_win_share": ("Dongguan's share of mobile projects", "东莞争取流动项目的份额", "", ""),
    "policy.attracted_firm_size": ("size of a won project", "引进项目规模", "M CNY a year", "百万元/年"),
    "policy.zone_entry_multiplier": ("core-zone entry effect", "核心区进入效应", "", ""),
    "behaviour.rd_response": ("firms' R&D response to subsidies", "企业研发对补贴的反应", "", ""),
    "behaviour.selection_strength": ("market selection strength", "市场选择强度", "", ""),
    "behaviour.frontier_productivity_growth": ("frontier productivity growth", "前沿生产率增长", "% a year", "%/年"),
    "behaviour.productivity_volatility": ("productivity volatility", "生产率波动", "", ""),
    "behaviour.base_margin": ("average operating margin", "平均营业利润率", "", ""),
    "behaviour.spinoff_rate": ("spin-off rate", "衍生创业率", "per firm a year", "/企业·年"),
    "behaviour.exit_hazard_young": ("young firms' exit hazard", "新企业退出风险", "a year", "/年"),
    "land.pipeline_conversion": ("share of redevelopment delivered", "工改项目落地率", "", ""),
    "land.background_mu_per_year": ("market-led redevelopment", "市场自发工改", "mu a year", "亩/年"),
    "land.delivery_lag_years": ("delivery lag of new floor", "新厂房交付滞后", "years", "年"),
    "talent.outside_match": ("share of talent incentives matched by rivals", "人才激励被周边城市对标的比例", "", ""),
    "talent.location_choice_beta": ("talent's response to income", "人才对收入的反应", "", ""),
    "funds.private_coinvest": ("private co-investment per fund yuan", "社会资本跟投比例", "", ""),
    "funds.partial_raise": ("share of a fund's target raised", "基金募资完成比例", "", ""),
    # levers
    "subsidy.rd_budget": ("R&D subsidy budget", "研发补贴预算", "亿元 a year", "亿元/年"),
    "subsidy.emerging_share": ("R&D subsidy share for emerging clusters", "研发补贴投向新兴产业的比例", "", ""),
    "subsidy.max_share_of_rd": ("most of a firm's R&D a grant covers", "补贴占企业研发上限", "", ""),
    "subsidy.little_giant_reward": ("little-giant reward", "专精特新奖励", "M CNY", "百万元"),
    "subsidy.abovescale_entry_reward": ("reward for entering above-scale statistics", "小升规奖励", "M CNY", "百万元"),
    "land.redevelopment_mu_per_year": ("redevelopment programme", "工改工计划", "mu a year", "亩/年"),
    "land.emerging_base_mu_per_year": ("emerging-industry base land", "新兴产业基地用地", "mu a year", "亩/年"),
    "land.award_per_mu": ("redevelopment award", "工改奖励", "M CNY per mu", "百万元/亩"),
    "land.cluster_priority_share": ("floor reserved for the clusters", "集群优先供给比例", "", ""),
    "land.land_price_discount": ("land-price discount", "地价优惠", "", ""),
    "land.floor_multiplier": ("floor per unit of land", "容积率", "", ""),
    "talent.budget_cap": ("talent subsidy budget", "人才补贴预算", "亿元 a year", "亿元/年"),
    "talent.subsidy": ("talent subsidy per worker", "人才补贴标准", "M CNY a year", "百万元/年"),
    "talent.graduate_places": ("jointly trained graduate places", "联合培养研究生名额", "a year", "个/年"),
    "agencies.budget": ("cluster agency budget", "集群促进机构预算", "亿元 a year per agency", "亿元/年·机构"),
    "agencies.attraction_share": ("agency budget on investment promotion", "促进机构招商经费比例", "", ""),
    "agencies.screening_quality": ("agencies' screening quality", "促进机构甄别能力", "", ""),
    "agencies.incentive_share": ("incentive package for won investors", "招商激励比例", "", ""),
    "core_zones.matching_money": ("core-zone matching money", "核心区配套资金", "M CNY per town a year", "百万元/镇·年"),
    "funds.guidance.target_size": ("guidance fund size", "引导基金规模", "亿元", "亿元"),
    "funds.ic.target_size": ("IC fund size", "集成电路基金规模", "亿元", "亿元"),
    "funds.ma.target_size": ("M&A fund size", "并购母基金规模", "亿元", "亿元"),
    "funds.guidance.mandate.*": ("guidance fund share for {c}", "引导基金投向{c}的比例", "", ""),
    "funds.ma.mandate.*": ("M&A fund share for {c}", "并购母基金投向{c}的比例", "", ""),
}

#: sweep outcome columns -> (en, zh, unit en, unit zh)
OUTCOMES: dict[str, tuple[str, str, str, str]] = {
    "city_cagr": ("city industry's growth", "全市工业增长", "% a year", "%/年"),
    "fiscal_cost": ("public cost", "财政支出", "亿元", "亿元"),
    "revenue_per_yi": ("revenue per 亿 of public money", "每亿元财政资金对应营业收入", "亿元", "亿元"),
    "value_added_per_yi": ("value added per 亿 of public money", "每亿元财政资金对应增加值", "亿元", "亿元"),
    "revenue_total": ("the clusters' revenue", "集群营业收入", "亿元", "亿元"),
    "value_added_total": ("the clusters' value added", "集群增加值", "亿元", "亿元"),
}


#: outcome columns per cluster: prefix -> (en, zh, unit en, unit zh), "{c}" the cluster's name
CLUSTER_OUTCOMES: dict[str, tuple[str, str, str, str]] = {
    "cagr_": ("{c} growth", "{c}增长", "% a year", "%/年"),
    "revenue_end_": ("{c} revenue in the end year", "{c}期末营业收入", "亿元 a year", "亿元/年"),
    "gap_": ("{c} growth minus the city's", "{c}与全市增长之差", "pp", "个百分点"),
}


def share(x: float, lang: str = "en") -> str:
    """A share as a percentage: "84 %" (en), "84%" (zh)."""
    return f"{x * 100:.0f}{'%' if lang == 'zh' else ' %'}"


@cache
def _cluster_names() -> dict[str, tuple[str, str]]:
    from simulation.datapack import clusters
    from simulation.reporting.charts.style import SHORT_EN, SHORT_ZH

    return {r.cluster_id: (SHORT_EN.get(r.cluster_id, r.name_en), SHORT_ZH.get(r.cluster_id, r.name_zh))
            for r in clusters()}  # fmt: skip


def cluster_label(cluster: str, lang: str = "en") -> str:
    """A cluster's short name ("Biomedicine", "生物医药"); the id if unknown."""
    names = _cluster_names().get(cluster)
    if names is None:
        return cluster
    return names[1] if lang == "zh" else names[0]


def _entry(key: str) -> tuple[tuple[str, str, str, str] | None, str | None]:
    parts = key.split(".")
    body = parts[1:] if parts[0] in ("levers", "uncertainties") else parts
    name = ".".join(body)
    if name in NAMES:
        return NAMES[name], None
    if len(body) > 1 and body[-1] in _cluster_names():
        wild = ".".join([*body[:-1], "*"])
        if wild in NAMES:
            return NAMES[wild], body[-1]
    return None, None


def _cluster_outcome(column: str) -> tuple[tuple[str, str, str, str] | None, str | None]:
    for prefix, entry in CLUSTER_OUTCOMES.items():
        if column.startswith(prefix) and column[len(prefix):] in _cluster_names():
            return entry, column[len(prefix):]
    return None, None


def label(key: str, lang: str = "en") -> str:
    """A readable name of a scenario key or outcome column (no unit)."""
    if key in OUTCOMES:
        return OUTCOMES[key][1 if lang == "zh" else 0]
    entry, cluster = _entry(key)
    if entry is None:
        entry, cluster = _cluster_outcome(key)
    if entry is None:
        parts = key.split(".")
        tail = parts[-2:] if parts[-1] in _cluster_names() and len(parts) > 1 else parts[-1:]
        return " ".join(p.replace("_", " ") for p in tail)
    text = entry[1] if lang == "zh" else entry[0]
    if cluster is not None:
        name = cluster_label(cluster, lang)
        if lang == "en" and not name[:2].isupper():
            name = name[:1].lower() + name[1:]  # "biomedicine demand growth", inside a sentence
        text = text.replace("{c}", name)
    return text


def unit(key: str, lang: str = "en") -> str:
    """The unit of a scenario key or outcome column ("% a year", "亿元"); "" for a share or a number."""
    if key in OUTCOMES:
        return OUTCOMES[key][3 if lang == "zh" else 2]
    entry, _ = _entry(key)
    if entry is None:
        entry, _ = _cluster_outcome(key)
    return "" if entry is None else entry[3 if lang == "zh" else 2]


def value(key: str, x: float, lang: str = "en") -> str:
    """A value with its unit, to three significant figures: "6.02 % a year", "0.452", "7,500 mu a year"."""
    u = unit(key, lang)
    text = f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"
    if not u:
        return text
    if u.startswith("%"):
        return text + ("%" if lang == "zh" else " %") + u[1:]
    return f"{text} {u}" if lang == "en" else f"{text}{u}"


def sentence_start(text: str) -> str:
    """The text with its first letter a capital (English)."""
    return text[:1].upper() + text[1:]
