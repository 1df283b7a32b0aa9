"""`simulate report`: a briefing whose findings match the summary, self-contained, opened in a browser."""

from __future__ import annotations

import csv
import json
import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from _chart_results import small_results
from simulation.cli import main
from simulation.datapack import EMERGING, PILLARS

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
SHORT = {"ngei": "Electronics", "hem": "High-end equipment", "tex": "Textiles & apparel", "food": "Food & beverages",
         "soft": "Software & IT services", "mat": "New materials", "ene": "New energy", "bio": "Biomedicine",
         "semi": "Semiconductors"}
# fan_emerging, target_probability, pillars_vs_city, towns_growth, towns_floor, and paired_differences (a
# baseline run carries its business-as-usual counterfactual): each once
RUN_CHARTS = 6


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return small_results(tmp_path_factory)


@pytest.fixture(scope="module")
def report(folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    done = CliRunner().invoke(main, ["report", str(folder), "--out", str(out)])
    assert done.exit_code == 0, done.output
    return out


def text_of(html: str) -> str:
    html = re.sub(r"<svg.*?</svg>", "", html, flags=re.S)
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return text.replace("&amp;", "&").replace("&#x27;", "'").replace("&quot;", '"')


def verdict(low: float, high: float) -> str:
    """The wording rule, written out independently of the code under test."""
    for threshold, word in ((0.99, "virtually certain"), (0.90, "very likely"), (0.66, "likely")):
        if low >= threshold:
            return word
    if low > 0.5:
        return "more likely than not"
    for threshold, word in ((0.01, "exceptionally unlikely"), (0.10, "very unlikely"), (0.33, "unlikely")):
        if high <= threshold:
            return word
    if high < 0.5:
        return "less likely than not"
    return "about as likely as not" if low >= 0.33 and high <= 0.66 else "may or may not"


def test_report_files_are_written_in_both_languages(report) -> None:
    for lang in ("en", "zh"):
        assert (report / f"report.{lang}.html").is_file() and (report / f"report.{lang}.md").is_file()
    md = (report / "report.en.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(links) == RUN_CHARTS and len(set(links)) == RUN_CHARTS  # each chart once
    for link in links:
        assert (report / link).is_file(), link


def test_html_is_self_contained_and_a_briefing(report) -> None:
    html = (report / "report.en.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    # the only URLs are XML namespace names (identifiers, never fetched)
    urls = set(re.findall(r"(?:https?|ftp|wss?):/*[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#|data:)""", html)
    assert not re.search(r"""url\(\s*["']?(?!data:|#)""", html)  # CSS and SVG url(): only data: and #ids
    assert "@import" not in html
    assert "Content-Security-Policy" in html
    assert html.count("<svg") == RUN_CHARTS
    text = text_of(html)
    # the levers in words, not the scenario file; a short provenance, not the manifest
    assert "<pre>" not in html and "[levers.subsidy]" not in html and "rd_budget" not in text
    assert "R&D subsidy budget 1 billion CNY a year" in text and "New floor per unit of land" in text
    assert '"root_seed"' not in text and '"seeds"' not in text  # no manifest dump
    for section in ("Key findings", "Charts", "Summary tables", "The levers as run", "Limitations and validation",
                    "Provenance"):
        assert f"<h2>{section}</h2>" in html, section
    # a baseline run carries its counterfactual (business as usual, same seeds): what the policy adds
    assert "<h2>What the policy adds</h2>" in html and "Baseline against Business as usual" in text
    assert not re.search(r"\d 100 million CNY", text) and "trillion CNY" in text  # never "29,311 100 million CNY"


def test_findings_match_the_summary(folder, report) -> None:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    text = text_of((report / "report.en.html").read_text(encoding="utf-8"))
    emerging = [r for r in summary["clusters"] if r["kind"] == "emerging"]
    # every emerging cluster is named with the verdict its own interval supports, in one sentence
    first = re.search(r"Of the five emerging clusters, (.*?)\(judged by each share's Monte-Carlo 95 % CI\)\.", text)
    assert first, text[:600]
    sentence = first.group(1)
    groups: dict[str, list[str]] = {}
    for r in emerging:
        groups.setdefault(verdict(r["hit"]["ci_low"], r["hit"]["ci_high"]), []).append(SHORT[r["cluster"]])
    for word, names in groups.items():
        for name in names:
            assert name in sentence
        part = sentence[sentence.index(names[-1]):]
        said = "may or may not" if word == "may or may not" else rf"(?:is|are) {word} to"
        assert re.match(rf"{re.escape(names[-1])} {said}", part), (word, names, sentence)
    # the city, in one number with its unit
    city = summary["city"]
    g = city["cagr"]
    assert (f"City industry grows {g['median']:.1f} % a year (median; 90 % of model runs "
            f"{g['p5']:.1f}–{g['p95']:.1f} %)") in text.replace("\u2212", "-")
    assert f"{city['revenue_end_median'] / 1e4:.2f} trillion CNY in 2025" in text
    # the pillars, judged within each replicate
    for r in summary["clusters"]:
        if r["kind"] == "pillar":
            assert SHORT[r["cluster"]] in text
            kp = r["keeps_pace"]
            assert f"{kp['p']:.2f} [{kp['ci_low']:.2f}, {kp['ci_high']:.2f}]" in text
    # the tables hold every emerging cluster's P(hit) with its interval and the verdict in words
    for r in emerging:
        h = r["hit"]
        assert f"{h['p']:.2f} [{h['ci_low']:.2f}, {h['ci_high']:.2f}] {verdict(h['ci_low'], h['ci_high'])}" in text
    # "least likely" only for a cluster whose interval lies below every other's
    lowest = min(emerging, key=lambda r: r["hit"]["p"])
    apart = all(lowest["hit"]["ci_high"] < r["hit"]["ci_low"] for r in emerging if r is not lowest)
    assert (f"{SHORT[lowest['cluster']]} is the least likely to reach the target" in text) == apart


def test_chinese_report_reads_naturally(report, folder) -> None:
    zh = text_of((report / "report.zh.html").read_text(encoding="utf-8"))
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    city = summary["city"]
    assert f"{city['revenue_end_median'] / 1e4:.2f} 万亿元（{city['revenue_end_median']:,.0f} 亿元）" in zh
    for stiff in ("重复区间", "政策如文", "100 million", "replicates"):
        assert stiff not in zh, stiff
    assert not re.search(r"\d+ 个[^，。；]*中有 \d+ 个", zh)
    assert "研发补贴预算" in zh and "10 亿元/年" in zh and "五个战略性新兴产业能否在" in zh


def test_report_of_a_folder_that_is_not_a_run_is_a_user_error(tmp_path) -> None:
    done = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert done.exit_code == 2 and "Traceback" not in done.output and "not a run's results folder" in done.output
    done = CliRunner().invoke(main, ["report", str(tmp_path), "--validation", str(tmp_path / "nope")])
    assert done.exit_code == 2 and "Traceback" not in done.output


def test_report_reuses_the_charts_simulate_chart_wrote(folder, tmp_path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("charts", "report"))
    done = CliRunner().invoke(main, ["chart", str(copy), "--lang", "en", "--format", "png,svg"])
    assert done.exit_code == 0, done.output
    done = CliRunner().invoke(main, ["report", str(copy), "--lang", "en"])
    assert done.exit_code == 0 and "reused" in done.output, done.output
    html = (copy / "report" / "report.en.html").read_text(encoding="utf-8")
    assert html.count("<svg") == RUN_CHARTS
    # results that change make the old charts stale: they are drawn again
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    hit = summary["clusters"][4]["hit"]  # a different P, still inside its own intervals
    hit["p"] = (hit["p"] + hit["ci_low"]) / 2 if hit["p"] > hit["ci_low"] else (hit["p"] + hit["ci_high"]) / 2
    (copy / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    done = CliRunner().invoke(main, ["report", str(copy), "--lang", "en", "--out", str(tmp_path / "fresh")])
    assert done.exit_code == 0 and "drawn" in done.output, done.output


def test_optional_blocks_are_rendered_when_present(folder, tmp_path) -> None:
    """all_emerging, public_cost, counterfactual, backtest, parameter intervals and a scorecard, when given."""
    copy = tmp_path / "run"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("charts", "report"))
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    bio = next(r for r in summary["clusters"] if r["cluster"] == "bio")
    bio["hit"].update(parameter_low=0.05, parameter_high=0.98)
    summary["all_emerging"] = {"count": 3, "p": 0.25, "ci_low": 0.09, "ci_high": 0.53}
    summary["public_cost"] = {"total": {"median": 512.0, "p5": 430.0, "p95": 600.0},
                              "by_programme": {"rd_grants": 50.0, "talent_subsidy": 40.0}, "fund_holdings_end_median": 20.0,
                              "revenue_per_yi": 12.5, "value_added_per_yi": 3.1, "per_year_median": 102.4}
    summary["counterfactual"] = {
        "scenario": "business_as_usual", "replicates": 12,
        "extra_cost": {"mean": 300.0, "ci_low": 280.0, "ci_high": 320.0, "p5": 250.0, "p95": 350.0},
        "revenue_per_yi": {"ratio": 4.2, "ci_low": 1.5, "ci_high": 6.9},
        "value_added_per_yi": {"ratio": 1.1, "ci_low": 0.4, "ci_high": 1.8},
        "clusters": [{"cluster": c, "kind": "emerging" if c in EMERGING else "pillar",
                      "cagr": {"mean": 0.8, "ci_low": 0.5, "ci_high": 1.1, "p5": -0.4, "p95": 2.0},
                      ("p_hit" if c in EMERGING else "p_keeps_pace"): {"diff": 0.1, "ci_low": -0.05, "ci_high": 0.25}}
                     for c in (*PILLARS, *EMERGING)],
        "city": {"cagr": {"mean": 0.3, "ci_low": 0.1, "ci_high": 0.5, "p5": -0.2, "p95": 0.9}},
    }
    summary["backtest"] = {"rows": [{"label": "City industry, growth", "year": 2022, "observed": -1.3, "median": 2.0,
                                     "p5": -3.0, "p95": 6.0, "inside_90": True}]}
    (copy / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    with (copy / "scorecard.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["moment", "label", "unit", "target", "low", "high", "median", "p5", "p95", "p_in_band", "n",
                    "passed", "source", "why"])
        w.writerow(["turnover", "Entry + exit", "%", 20, 10, 30, 21, 17, 27, 1.0, 40, "True", "", ""])
        w.writerow(["semi_revenue_2021", "Semiconductor revenue 2021", "亿元", 256, 218, 294, 300, 280, 320, 0.1, 40,
                    "False", "", ""])
    done = CliRunner().invoke(main, ["report", str(copy), "--lang", "en,zh"])
    assert done.exit_code == 0, done.output
    html = (copy / "report" / "report.en.html").read_text(encoding="utf-8")
    text = text_of(html)
    assert "<h2>What the policy adds</h2>" in html and "Baseline against Business as usual" in text
    assert "+0.80 [+0.50, +1.10]" in text.replace("\u2212", "-") and "-0.4 – +2.0" in text.replace("\u2212", "-")
    assert html.count("<svg") == RUN_CHARTS  # the paired effects chart from the (replaced) counterfactual block
    assert "Against Business as usual (the same futures), the policy spends 30 billion CNY more public money" in text
    assert "each extra yuan adds 1.10 yuan of value added (95 % CI 0.40 to 1.80) and 4.20 yuan of revenue" in text
    assert "All five together may or may not reach 10 % a year: P = 0.25" in text
    assert "<h2>Public cost</h2>" in html and "R&D grants" in text and "Talent subsidies" in text
    assert "51.2 billion CNY" in text  # 512 亿元
    assert "Validation scorecard: 1 of 2 pass" in text and "Entry and exit, share of firms a year" in text
    assert "Backtest" in text and "City industry, growth" in text
    # the wider interval, labelled, and the verdict it supports
    assert "(95 % interval incl. parameter uncertainty)" in text and f"({0.05:.2f}–{0.98:.2f}) may or may not" in text
    # biomedicine's wide interval puts it among those that may or may not (the rest depend on the small run)
    assert re.search(r"Of the five emerging clusters, [^.]*\bBiomedicine\b[^.]* may or may not grow", text)
    zh = text_of((copy / "report" / "report.zh.html").read_text(encoding="utf-8"))
    assert "政策带来的变化" in zh and "基准情景相对延续原有政策" in zh and "验证记分卡：2 项中 1 项通过" in zh


class _Recorder(threading.Thread):
    """A TCP listener that records every connection (a proxy nothing should use)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.requests.append(conn.recv(4096))
                except OSError:
                    self.requests.append(b"?")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium)")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_renders_in_a_headless_browser_without_errors_or_requests(report, tmp_path, lang) -> None:
    recorder = _Recorder()
    recorder.start()
    page = (report / f"report.{lang}.html").resolve().as_uri()
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
        "--disable-default-apps", "--metrics-recording-only", "--disable-domain-reliability",
        "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
        f"--proxy-server=http://127.0.0.1:{recorder.port}", "--proxy-bypass-list=<-loopback>",
        f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
        "--virtual-time-budget=3000", f"--screenshot={tmp_path / 'page.png'}", "--window-size=1000,3000",
        "--dump-dom", page,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    finally:
        recorder.stop.set()
        recorder.join(2)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "page.png").stat().st_size > 10_000
    dom = done.stdout
    assert dom.count("<svg") == RUN_CHARTS and "findings" in dom
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Refused to" in line
               or "Uncaught" in line or "net::ERR" in line]
    assert not console, console
    # the browser's own housekeeping (Google's time and update services) is not the page's doing
    own = re.compile(rb"^\S+ (?:https?://)?[\w.-]*(?:google\.com|googleapis\.com|gvt1\.com|gstatic\.com)[:/]")
    from_page = [r for r in recorder.requests if not own.match(r)]
    assert from_page == [], from_page
