"""`mlsearch ui` in a real headless Chromium: the experiment, its runs, a two-run comparison."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from .services import chromium_paths, free_port, wait_for_port

pytestmark = pytest.mark.slow


@pytest.fixture
def ui_url(small_run: Path):
    """`mlsearch ui` on the small run's store; yields the page it says to open."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlsearch", "ui", "--port", str(port), "--no-browser"],
        cwd=small_run,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_port(port, 90)
        page = next((ln.split()[1] for ln in proc.stderr if ln.strip().startswith("open ")), None)
        if page is None:
            pytest.fail("mlsearch ui printed no page to open")
        # keep reading the server's log: a full pipe would stall the server
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        yield page
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.fixture
def browser(tmp_path: Path):
    chromium, chromedriver = chromium_paths()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1600,1000",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _nav(browser) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.TAG_NAME, "nav").text


def _keep(browser, tmp_path: Path, name: str) -> None:
    """A screenshot, copied to $MLSEARCH_SCREENSHOT_DIR (docs/img) when set."""
    shot = tmp_path / name
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 20_000
    if os.environ.get("MLSEARCH_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(os.environ["MLSEARCH_SCREENSHOT_DIR"]) / name)


def test_ui_lands_on_training_runs_nested_and_charts_auc_versus_mass(ui_url, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 90)
    assert "/#/experiments/" in ui_url and "workflowType=machine_learning" in ui_url
    # what a user without the link sees (a fresh browser): MLflow's GenAI layout
    browser.get(ui_url.split("/runs?")[0])
    wait.until(lambda d: "Judges" in _nav(d))
    # the page `mlsearch ui` prints: the runs, model-training layout, no click
    browser.get(ui_url)
    wait.until(lambda d: d.find_elements(By.XPATH, "//*[@role='grid']"))
    wait.until(lambda d: "Runs" in _nav(d).splitlines())
    assert "Judges" not in _nav(browser) and "Overview" not in _nav(browser)
    parents = wait.until(
        lambda d: d.find_elements(
            By.XPATH, "//a[starts-with(normalize-space(), 'zprime_invisible_small workdir=')]"
        )
    )
    assert parents  # one row per `mlsearch run`, named after the config and its --set
    assert not browser.find_elements(By.XPATH, "//a[normalize-space()='train-pbdt']")
    for button in browser.find_elements(
        By.XPATH, "//button[contains(@data-component-id, 'runnamecellrenderer')]"
    ):
        browser.execute_script("arguments[0].click();", button)  # expand the parents
    for name in ("generate", "features", "train-pbdt", "train-pnn", "limits"):
        wait.until(lambda d, n=name: d.find_element(By.XPATH, f"//a[normalize-space()='{n}']"))
    _keep(browser, tmp_path, "mlflow_nested_runs.png")
    # the two training runs in the chart view: AUC versus mass (step = mass in MeV)
    search = browser.find_element(By.XPATH, "//input[contains(@placeholder, 'metrics')]")
    search.send_keys("tags.`mlsearch.stage` = 'train'", Keys.ENTER)
    browser.execute_script(
        "arguments[0].click();", browser.find_element(By.XPATH, "//input[@value='CHART']")
    )
    card = wait.until(
        lambda d: d.find_element(
            By.XPATH,
            "//*[@data-testid='experiment-view-compare-runs-card']"
            "[.//*[normalize-space()='auc' and not(*)]]",
        )
    )
    wait.until(lambda d: len(card.find_elements(By.CSS_SELECTOR, ".scatterlayer .trace")) >= 2)
    text = card.get_attribute("textContent")
    assert "train-pbdt (auc)" in text and "train-pnn (auc)" in text
    lines = [
        len(t.find_elements(By.CSS_SELECTOR, "path.point"))
        for t in card.find_elements(By.CSS_SELECTOR, ".scatterlayer .trace")
    ]
    assert sorted(n for n in lines if n) == [3, 3]  # both runs, one point per mass
    ticks = [
        t.get_attribute("textContent") for t in card.find_elements(By.CSS_SELECTOR, ".xtick text")
    ]
    assert "6000" in ticks  # the 6 GeV point, in MeV
    _keep(browser, tmp_path, "mlflow_auc_versus_mass.png")
