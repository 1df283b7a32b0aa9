"""`simulate report`: a self-contained HTML file whose findings match the summary, opened in a browser."""

from __future__ import annotations

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

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


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
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&amp;", "&").replace("&#x27;", "'")


def test_report_files_are_written_in_both_languages(report) -> None:
    for lang in ("en", "zh"):
        assert (report / f"report.{lang}.html").is_file() and (report / f"report.{lang}.md").is_file()
    md = (report / "report.en.md").read_text(encoding="utf-8")
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        assert (report / link).is_file(), link
    assert len(re.findall(r"!\[", md)) == 10


def test_html_is_self_contained(report) -> None:
    html = (report / "report.en.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    # the only URLs are XML namespace names (identifiers, never fetched)
    urls = set(re.findall(r"(?:https?|ftp|wss?):/*[^\s\"'<>)]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#|data:)""", html)
    assert not re.search(r"""url\(\s*["']?(?!data:|#)""", html)  # CSS and SVG url(): only data: and #ids
    assert "@import" not in html
    assert "Content-Security-Policy" in html
    assert html.count("<svg") == 10
    assert "<pre>" in html and "[levers.subsidy]" in html  # the assumptions
    assert "&quot;root_seed&quot;" in html  # the manifest


def test_findings_match_the_summary(folder, report) -> None:
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    text = text_of((report / "report.en.html").read_text(encoding="utf-8"))
    emerging = [r for r in summary["clusters"] if r["kind"] == "emerging"]
    likely = sum(r["hit"]["p"] >= 0.5 for r in emerging)
    lead = "All 5" if likely == 5 else f"{likely} of the 5"
    assert f"{lead} emerging clusters are more likely than not to grow at least 10 % a year from 2020 to 2025." in text
    best = max(emerging, key=lambda r: r["hit"]["p"])  # first of equals, as the report sorts
    best = sorted(emerging, key=lambda r: r["hit"]["p"], reverse=True)[0]
    worst = sorted(emerging, key=lambda r: r["hit"]["p"], reverse=True)[-1]
    for r, word in ((best, "most"), (worst, "least")):
        h, g = r["hit"], r["cagr"]
        assert (f"{r['name_en']} is the emerging cluster {word} likely to reach the target: P = {h['p']:.2f} "
                f"(95 % CI {h['ci_low']:.2f}–{h['ci_high']:.2f}), with median growth of {g['median']:.1f} % a year "
                f"(90 % of replicates between {g['p5']:.1f} % and {g['p95']:.1f} %).") in text
    city = summary["city"]["cagr"]
    assert f"City industry grows {city['median']:.1f} % a year (median; 90 % of replicates between {city['p5']:.1f} %" in text
    pillars = [r for r in summary["clusters"] if r["kind"] == "pillar"]
    fastest = max(pillars, key=lambda r: r["cagr"]["median"])
    assert f"{fastest['name_en']} grows fastest ({fastest['cagr']['median']:.1f} % a year" in text
    # the tables hold every emerging cluster's P(hit) with its interval
    for r in emerging:
        h = r["hit"]
        assert f"{h['p']:.2f} [{h['ci_low']:.2f}, {h['ci_high']:.2f}]" in text
    zh = text_of((report / "report.zh.html").read_text(encoding="utf-8"))
    assert f"{best['name_zh']}是最有可能达标的新兴产业：P = {best['hit']['p']:.2f}" in zh


def test_report_of_a_folder_that_is_not_a_run_is_a_user_error(tmp_path) -> None:
    done = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert done.exit_code == 2 and "Traceback" not in done.output and "not a run's results folder" in done.output


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
    assert dom.count("<svg") == 10 and "findings" in dom
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Refused to" in line
               or "Uncaught" in line or "net::ERR" in line]
    assert not console, console
    # the browser's own housekeeping (Google's time and update services) is not the page's doing
    own = re.compile(rb"^\S+ (?:https?://)?[\w.-]*(?:google\.com|googleapis\.com|gvt1\.com|gstatic\.com)[:/]")
    from_page = [r for r in recorder.requests if not own.match(r)]
    assert from_page == [], from_page
