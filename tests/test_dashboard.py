"""`simulate dashboard` in headless Chromium: the page loads, Step updates the chart, a slider changes a lever.

Driven by Playwright with Debian's chromium (never a browser Playwright downloads); skipped where
chromium or Playwright is missing. The page must log no error and ask nothing of any other host.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from simulation.dashboard.app import Settings, chance_table, step_label
from simulation.dashboard.figures import step_times, town_values
from simulation.dashboard.levers import model_params
from simulation.model.model import ClusterModel
from simulation.scenario.overrides import load_with

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SIMULATE = Path(sys.executable).with_name("simulate")
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()), None)
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


# --- without a browser ------------------------------------------------------------------------


def test_inputs_cover_every_kind_of_lever_and_start_at_the_scenario_values() -> None:
    scenario = load_with(BASELINE)
    params = model_params(scenario, seed=3)
    assert params["spec"] == str(scenario.path) and params["firm_agents"] is False and params["collect_data"] is True
    assert params["rng"].value == 3
    for lever in ("subsidy", "land", "talent", "core_zones", "agencies"):
        assert params[f"levers.{lever}.enabled"]["value"] is True
    assert params["levers.talent.subsidy"].value == scenario.spec.levers.talent.subsidy
    assert {f"levers.funds.{name}.target_size" for name in scenario.spec.levers.funds} <= set(params)
    for key, slider in params.items():
        if hasattr(slider, "min") and key.startswith("levers."):
            assert slider.min <= slider.value <= slider.max, key
    # what SolaraViz does on Reset: the model class called with these values (and Mesa's scenario)
    from mesa.experimental.scenarios import Scenario as MesaScenario

    values = {k: v.value if hasattr(v, "value") else v["value"] if isinstance(v, dict) else v
              for k, v in params.items()}
    values["levers.talent.subsidy"] = 0.05
    model = ClusterModel(**values, scenario=MesaScenario())
    assert model.levers.talent.subsidy == 0.05 and model.datacollector is not None and not model.firm_agents


def test_labels_and_tables_say_what_the_model_did() -> None:
    model = ClusterModel(BASELINE, rng=1, firm_agents=False, collect_data=True)
    assert step_label(model) == "Step 0 of 20: 2020 (start)"
    assert all(v != v for v in town_values(model, "growth").values())  # no growth before the first step
    for _ in range(5):
        model.step()
    assert step_label(model) == "Step 5 of 20: 2022 Q1"
    assert list(step_times(model, 6)) == [2020.5, 2021.125, 2021.375, 2021.625, 2021.875, 2022.125]
    growth, vacancy = town_values(model, "growth"), town_values(model, "vacancy")
    assert len(growth) == 34 and all(0 <= v < 100 for v in vacancy.values())
    from simulation.experiments.runner import run_replicates
    from simulation.experiments.summary import summarise

    summary = summarise(run_replicates(model.spec, [1, 2], 1, progress=False), model.spec)
    html = chance_table(summary.table)
    assert html.count("<tr>") == 1 + 9 and "hit the growth target" in html and "keep pace" in html


def test_settings_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("SIMULATE_DASHBOARD", '{"scenario": "%s", "overrides": ["simulation.end_year=2022"], '
                       '"seed": 4, "workers": 2}' % BASELINE)
    settings = Settings.from_env()
    assert settings.scenario == BASELINE and settings.overrides == {"simulation.end_year": 2022}
    assert (settings.seed, settings.workers) == (4, 2)


def test_bad_scenario_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run([str(SIMULATE), "dashboard", str(tmp_path / "missing.toml"), "--no-open"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith("Error: ") and "file not found" in done.stderr
    assert "Traceback" not in done.stderr


# --- in a browser -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`simulate dashboard` on a free local port, in its own process group (stopped afterwards)."""
    if CHROMIUM is None:
        pytest.skip("needs Chromium (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    port = _free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(SIMULATE), "dashboard", str(BASELINE), "--host", "127.0.0.1", "--port",
                                 str(port), "--no-open", "-j", "2"], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, cwd=tmp_path_factory.mktemp("cwd"))  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGTERM)
                pytest.fail(f"the dashboard did not start:\n{log.read_text()}")
            time.sleep(0.5)
    yield url
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_dashboard_in_headless_chromium(server, tmp_path: Path) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
        elsewhere: list[str] = []
        own = (server, f"blob:{server}", "data:")
        page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(own) else None)
        try:
            # the page loads: the title, the start of the run, both revenue charts and the town map
            page.goto(server)
            page.get_by_text("Step 0 of 20: 2020 (start)").wait_for(timeout=90_000)
            assert "Dongguan clusters: baseline" in page.content()
            chart = page.locator("img").first
            assert page.locator("img").count() >= 3
            before = chart.get_attribute("src")

            # a step updates the chart
            page.get_by_role("button", name="Step").click()
            page.get_by_text("Step 1 of 20: 2021 Q1").wait_for(timeout=60_000)
            page.wait_for_function("(old) => document.querySelector('img').src !== old", arg=before, timeout=60_000)
            assert chart.get_attribute("src") != before

            # a slider changes a lever (applied on Reset, which rebuilds the model)
            row = page.locator(".levers-shown tr", has_text="Talent subsidy")
            assert row.inner_text().split()[-1] == "0.03"
            label = page.get_by_text("Talent subsidy, M CNY per worker/yr", exact=True)
            slider = page.locator(".v-input", has=label).get_by_role("slider")
            slider.focus()
            slider.press("ArrowRight")
            slider.press("ArrowRight")
            assert slider.get_attribute("aria-valuenow") == "0.04"
            changed = "() => [...document.querySelectorAll('.levers-shown tr')].some(" \
                      "r => r.innerText.includes('Talent subsidy') && r.innerText.trim().endsWith('0.04'))"
            for attempt in range(5):  # the slider's value reaches the server on its own; on a loaded machine
                page.get_by_role("button", name="Reset").click()  # it can arrive after the click
                page.get_by_text("Step 0 of 20: 2020 (start)").wait_for(timeout=60_000)
                try:
                    page.wait_for_function(changed, timeout=10_000)
                    break
                except PlaywrightTimeout:
                    assert attempt < 4, "Reset did not apply the slider's value"

            # the chance of meeting the targets, from a batch of replicates on demand
            page.get_by_role("button", name="Run replicates").click()
            page.locator(".chances table").wait_for(timeout=120_000)
            assert page.locator(".chances tbody tr").count() == 9
            page.get_by_text("16 replicates from seed 1").wait_for(timeout=10_000)
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        finally:
            browser.close()
    assert not problems, problems
    assert not elsewhere, elsewhere  # every asset comes from the dashboard's own server
