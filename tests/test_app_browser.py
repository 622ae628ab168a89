"""End to end in a real browser: `bayes-cmo serve`, Debian's chromium driven headless by Playwright.

Skipped (with the reason) when chromium, Playwright or Shiny is missing; .ci/run installs all three.
Set BAYES_CMO_SCREENSHOT=FILE.png to keep the screenshot somewhere you can look at it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bayes_cmo.cli import main

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DRAWS, SEED = 50, 0  # fewer than the page's 200: a quicker server start; the check is the same

pytestmark = pytest.mark.browser


def _missing() -> str:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    for module, extra in (("playwright", "pip install playwright"), ("shiny", "pip install '.[app]'")):
        try:
            __import__(module)
        except ImportError:
            return f"{module} is not installed ({extra})"
    return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    reason = _missing()
    if reason:
        pytest.skip(reason)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bayes_cmo", "serve", "--port", str(port), "--draws", str(DRAWS),
         "--seed", str(SEED), "--good", "dissolution=sustained"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"bayes-cmo serve exited: {proc.stderr.read()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("bayes-cmo serve did not open its port within 90 s")
    yield f"http://127.0.0.1:{port}/"
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _query(capsys, evidence: str) -> float:
    capsys.readouterr()
    assert main(["query", "--evidence", evidence, "--target", "synergy", "--draws", str(DRAWS),
                 "--seed", str(SEED), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    return next(r["p"] for r in rows if r["state"] == "synergy")


def test_legal_agreements_present_shows_what_query_says(server, capsys, tmp_path):
    from playwright.sync_api import sync_playwright

    expected = _query(capsys, "legal_agreements=present")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(server)
            page.wait_for_selector("#p-synergy", timeout=60_000)
            before = page.inner_text("#p-synergy")
            assert page.inner_text("#change-synergy").startswith("change +0.0 pp")
            # open the paper's group that holds legal agreements, and set it to present
            page.locator(".accordion-item", has=page.locator("#set_legal_agreements")).locator(".accordion-button").click()
            page.select_option("#set_legal_agreements", "present")
            page.wait_for_function(
                "() => !document.querySelector('#change-synergy').innerText.startsWith('change +0.0')", timeout=30_000
            )
            shown = page.inner_text("#p-synergy")
            assert shown == f"{100 * expected:.1f}%" != before
            assert "good for the partnership" in page.inner_text("#outcome-row")
            assert f"mean of {DRAWS} draws" in page.inner_text("#estimate-note")  # which number is shown
            # what to measure next arrives after the outcomes, from the background task
            page.wait_for_selector("#best-next", timeout=60_000)
            assert "synergy: measure" in page.inner_text("#best-next").lower()
            # the chosen factor is outlined in the network, and a link's citation shows on demand
            assert page.locator("svg text", has_text="= present").count() == 1
            page.select_option("#link", "legal_agreements:initial_trust")
            page.wait_for_selector("#citation-text", timeout=10_000)
            assert "Results > Formalisation" in page.inner_text("#citation-text")
            # a scenario sets its factors in the controls, and the outcomes follow
            merger = _query(capsys, "entry_point=policy_directive,organisational_size=large")
            page.select_option("#scenario", "enforced_merger")
            page.wait_for_function(
                "() => document.querySelector('#set_entry_point').value === 'policy_directive'", timeout=30_000
            )
            page.wait_for_function(
                f"() => document.querySelector('#p-synergy').innerText === '{100 * merger:.1f}%'", timeout=30_000
            )
            assert page.input_value("#set_legal_agreements") == "?"  # the scenario leaves it unknown
            assert "bad for the partnership" in page.inner_text("#outcome-row")
            shot = Path(os.environ.get("BAYES_CMO_SCREENSHOT") or tmp_path / "page.png")
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
