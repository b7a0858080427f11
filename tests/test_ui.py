"""`mlsearch ui` in a real headless Chromium: the experiment, its runs, a two-run comparison."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .services import chromium_paths, free_port, wait_for_port

pytestmark = pytest.mark.slow


@pytest.fixture
def ui_url(small_run: Path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlsearch", "ui", "--port", str(port)],
        cwd=small_run,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_port(port, 90)
        yield f"http://127.0.0.1:{port}"
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


def test_compare_two_training_runs_in_the_mlflow_ui(ui_url, browser, small_run, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 90)
    browser.get(f"{ui_url}/#/experiments")
    link = wait.until(lambda d: d.find_element(By.PARTIAL_LINK_TEXT, "zprime_invisible"))
    link.click()
    # MLflow 3 opens on its GenAI layout; "Model training" switches to the runs table
    toggle = wait.until(
        lambda d: d.find_element(
            By.XPATH, "//*[@role='button'][normalize-space()='Model training']"
        )
    )
    browser.execute_script("arguments[0].click();", toggle)
    for name in ("train-pbdt", "train-pnn"):
        run = wait.until(
            lambda d, n=name: d.find_element(By.XPATH, f"//a[normalize-space()='{n}']")
        )
        row = run.find_element(By.XPATH, "./ancestor::*[@role='row'][1]")
        box = row.find_element(By.XPATH, ".//input[@type='checkbox'] | .//*[@role='checkbox']")
        browser.execute_script("arguments[0].click();", box)
    compare = wait.until(
        lambda d: d.find_element(By.XPATH, "//button[contains(normalize-space(), 'Compare')]")
    )
    compare.click()
    wait.until(lambda d: "compare-runs" in d.current_url)
    wait.until(lambda d: all(f"auc_m{m}" in d.page_source for m in ("1", "3", "6")))
    page = browser.page_source
    assert "Comparing 2 Runs" in page
    assert "train-pbdt" in page and "train-pnn" in page
    shot = tmp_path / "mlflow_compare.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 20_000
    if os.environ.get("MLSEARCH_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(os.environ["MLSEARCH_SCREENSHOT_DIR"]) / shot.name)
