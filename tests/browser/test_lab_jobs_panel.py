"""The nbjobs JupyterLab extension in a real (headless) Chromium against a real ``jupyter lab``:
the Jobs panel fills live from a notebook cell's job as the cell's widget does, the completion
toast, "Normalize with nbjobs…" from the file browser through its dialog, Cancel, and the
Live/Offline badge across a server restart with the list caught up.

Needs Debian's ``/usr/bin/chromium``, Playwright for Python and the built extension
(``pip install -e .`` builds it). Screenshots go to ``$NBJOBS_ARTIFACTS/screenshots``.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.browser.lab import CHROMIUM, LabServer, chromium, screenshots_dir

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
expect = sync_api.expect

NOTEBOOK = "job.ipynb"
CELL_ROWS = 5_000
SMALL_CSV, SMALL_ROWS = "contacts.csv", 1_000
LARGE_CSV, LARGE_ROWS = "large.csv", 40_000
PANEL = "#nbjobs-panel"
FIRST_NAMES = ["Ann", "Robert", "Maria", "James", "Linda", "David", "Grace"]
LAST_NAMES = ["Lee", "Smith", "Garcia", "Johnson", "Brown"]

# The panel's row of a job, as numbers and texts the test can assert on.
READ_ROW = """
(jobId) => {
  const row = document.querySelector(`#nbjobs-panel .jp-nbjobs-job[data-job-id="${jobId}"]`);
  if (!row) return null;
  const text = (selector) => row.querySelector(selector)?.innerText.trim() ?? '';
  return {
    status: row.dataset.status,
    width: parseFloat(row.querySelector('.jp-nbjobs-progress-bar').style.width),
    percent: text('.jp-nbjobs-percent'),
    name: text('.jp-nbjobs-job-name'),
    counts: text('.jp-nbjobs-counts'),
    quality: text('.jp-nbjobs-quality'),
    times: text('.jp-nbjobs-times'),
    error: text('.jp-nbjobs-error'),
    actions: [...row.querySelectorAll('.jp-nbjobs-actions > *')].map(e => e.innerText.trim()),
    summary: !!row.querySelector('.jp-nbjobs-summary'),
  };
}
"""

# Records every width each panel bar and the notebook cell's widget bar show, from the moment
# they exist, so that a frame between two polls is not missed.
WATCH_BARS = """
() => {
  window.__panelWidths = {};
  window.__cellWidths = [];
  const push = (list, width) => { if (list[list.length - 1] !== width) list.push(width); };
  const seen = () => {
    for (const row of document.querySelectorAll('#nbjobs-panel .jp-nbjobs-job')) {
      const bar = row.querySelector('.jp-nbjobs-progress-bar');
      const id = row.dataset.jobId;
      push(window.__panelWidths[id] ??= [], parseFloat(bar.style.width));
    }
    const cell = document.querySelector(
      '.jp-Notebook .jp-Cell .jp-OutputArea .widget-hprogress .progress-bar');
    if (cell) push(window.__cellWidths, parseFloat(cell.style.width));
  };
  new MutationObserver(seen).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['style', 'class'],
  });
  seen();
}
"""


def _write_contacts(path: Path, rows: int) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["First", "Last", "Phone", "Email"])
        for i in range(rows):
            first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[i % len(LAST_NAMES)]
            phone, email = f"(650) 253-{i % 10000:04d}", f"{first}.{last}{i}@Example.com"
            writer.writerow([first, last, phone, email])


def _write_notebook(path: Path) -> None:
    source = (
        "import nbjobs, pandas as pd\n"
        f"phones = [f'(650) 253-{{i % 10000:04d}}' for i in range({CELL_ROWS})]\n"
        "df = pd.DataFrame({'Phone': phones})\n"
        "job = nbjobs.normalize(df, columns={'Phone': 'phone'}, name='cell-job')"
    )
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "submit",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
        ],
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
                "name": "python3",
            }
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook))


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """pytest-jupyter's autouse loop fixture closes the thread's current loop after each test:
    here that is Playwright's, running for the whole module. These tests get a loop of their own."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> None:
    """No in-process server here to clean up (pytest-jupyter's would run on Playwright's loop)."""


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[LabServer]:
    # 200-row chunks with a 0.1 s pause each: 5,000 rows take a few seconds, enough to watch.
    server = LabServer(tmp_path_factory.mktemp("lab"), chunk_size=200, chunk_delay=0.1)
    _write_contacts(server.root_dir / SMALL_CSV, SMALL_ROWS)
    _write_contacts(server.root_dir / LARGE_CSV, LARGE_ROWS)
    _write_notebook(server.root_dir / NOTEBOOK)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def page(lab, tmp_path_factory):
    with (
        sync_api.sync_playwright() as playwright,
        chromium(tmp_path_factory.mktemp("chromium-profile"), playwright) as context,
    ):
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.console_lines = []
        page.socketio_websockets = []
        page.on("console", lambda m: page.console_lines.append(f"{m.type}: {m.text}"))
        page.on(
            "websocket",
            lambda ws: "nbjobs/socket.io" in ws.url and page.socketio_websockets.append(ws.url),
        )
        page.goto(f"{lab.url}lab/tree/{NOTEBOOK}?reset&token={lab.token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.evaluate(WATCH_BARS)
        yield page


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request, lab):
    failed_before = request.session.testsfailed
    yield
    if request.session.testsfailed > failed_before and "page" in request.fixturenames:
        page = request.getfixturevalue("page")
        page.screenshot(path=screenshots_dir() / f"{request.node.name}-failure.png")
        print("browser console:", *page.console_lines[-40:], sep="\n  ")
        print("server log:", lab.log_tail(), sep="\n")


def _open_panel(page) -> None:
    tab = page.locator(f'.lm-TabBar-tab[data-id="{PANEL.lstrip("#")}"]')
    if not page.locator(PANEL).is_visible():
        tab.click()
    expect(page.locator(PANEL)).to_be_visible()


def _row(page, job_id: int, condition: str, timeout: float = 60_000) -> dict:
    """Waits until the panel row of ``job_id`` satisfies ``condition`` (JS on ``r``)."""
    handle = page.wait_for_function(
        f"() => {{ const r = ({READ_ROW})({job_id}); return r && ({condition}) && r; }}",
        polling=50,
        timeout=timeout,
    )
    return handle.json_value()


def _top_job_id(page, name: str) -> int:
    row = page.locator(f"{PANEL} .jp-nbjobs-job", has_text=name).first
    expect(row).to_be_visible(timeout=60_000)
    return int(row.get_attribute("data-job-id"))


def _assert_filled_live(widths: list[float], what: str) -> None:
    between = [w for w in widths if 0 < w < 100]
    assert len(between) >= 2, f"{what} did not show intermediate progress: {widths}"
    assert widths == sorted(widths) and widths[-1] == 100, f"{what}: {widths}"


def test_notebook_job_fills_the_cell_and_the_panel_live(lab, page):
    _open_panel(page)
    badge = page.locator(f"{PANEL} .jp-nbjobs-badge")
    expect(badge).to_have_text("Live")
    # Closing and reopening the panel never opens a second connection.
    for _ in range(3):
        page.locator('.lm-TabBar-tab[data-id="nbjobs-panel"]').click()
        page.locator('.lm-TabBar-tab[data-id="nbjobs-panel"]').click()
    expect(page.locator(PANEL)).to_be_visible()
    expect(badge).to_have_text("Live")

    # Shift+Enter before the kernel is connected advances without running the cell.
    page.wait_for_function(
        r"() => /\(ipykernel\)[\s|]*Idle/.test("
        "document.querySelector('#jp-main-statusbar')?.innerText ?? '')",
        timeout=60_000,
    )
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.keyboard.press("Shift+Enter")

    job_id = _top_job_id(page, "cell-job")
    mid = _row(page, job_id, "r.status !== 'queued' && r.width > 0", timeout=60_000)
    page.screenshot(path=screenshots_dir() / "panel-mid-progress.png")
    assert mid["status"] in ("running", "completed"), mid
    done = _row(page, job_id, "['completed', 'failed', 'cancelled'].includes(r.status)")
    assert done["status"] == "completed", done
    assert done["width"] == 100 and done["percent"] == "100%", done
    assert done["counts"].startswith(f"{CELL_ROWS:,} / {CELL_ROWS:,} rows"), done
    assert re.match(r"started .+ · \d", done["times"]), done
    # The completed event carries the output URL; the re-read job adds the invalid rows' URL.
    done = _row(page, job_id, "r.actions.length === 2")
    assert done["actions"] == ["Output CSV", "Invalid rows"], done

    # The completion toast, with its actions.
    toast = page.locator(".Toastify__toast", has_text=f"Job #{job_id} completed successfully!")
    expect(toast).to_be_visible()
    expect(toast.get_by_role("button", name="Open panel")).to_be_visible()
    expect(toast.get_by_role("button", name="Download")).to_be_visible()
    page.screenshot(path=screenshots_dir() / "panel-completed-toast.png")
    page.locator('.lm-TabBar-tab[data-id="filebrowser"]').click()
    expect(page.locator(PANEL)).to_be_hidden()
    toast.get_by_role("button", name="Open panel").click()
    expect(page.locator(PANEL)).to_be_visible()

    # The cell's widget and the panel both filled step by step, never backwards.
    page.wait_for_function("() => window.__cellWidths.at(-1) === 100", timeout=30_000)
    _assert_filled_live(page.evaluate("() => window.__cellWidths"), "the cell's widget")
    _assert_filled_live(page.evaluate(f"() => window.__panelWidths['{job_id}']"), "the panel's bar")

    # The download link is a working, authenticated link to the output.
    href = page.locator(
        f'{PANEL} .jp-nbjobs-job[data-job-id="{job_id}"] .jp-nbjobs-download-output'
    ).get_attribute("href")
    response = page.request.get(href)
    assert response.ok, response.status
    assert response.text().splitlines()[0].startswith("Phone,Phone_normalized")
    assert page.socketio_websockets == [page.socketio_websockets[0]], page.socketio_websockets


def test_file_browser_action_starts_a_job_through_the_dialog(lab, page):
    detected = requests.post(
        f"{lab.api}/detect", json={"path": SMALL_CSV}, headers=lab.headers
    ).json()
    page.locator('.lm-TabBar-tab[data-id="filebrowser"]').click()
    item = page.locator(".jp-DirListing-item", has_text=SMALL_CSV)
    item.click(button="right")
    page.locator(".lm-Menu-item", has_text="Normalize with nbjobs…").click()

    dialog = page.locator(".jp-Dialog")
    expect(dialog.locator("select.jp-nbjobs-type")).to_have_count(len(detected["columns"]))
    # Every column shows the type the server detected, and offers every field type and "skip".
    expected: dict[str, object] = {}
    for column in detected["columns"]:
        select = dialog.locator(f'select[data-column="{column["name"]}"]')
        expect(select).to_have_value(column["type"])
        options = select.locator("option").all_inner_texts()
        assert set(detected["fields"]) | {"skip"} <= set(options), options
        expected[column["name"]] = column["type"]
    # The user takes the suggested First + Last -> Name: its parts are skipped, as they go
    # into it; then changes the Email column to "text".
    suggested = [(s["name"], s["from"]) for s in detected["suggestions"]]
    assert suggested == [("Name", ["First", "Last"])], detected
    dialog.locator('input.jp-nbjobs-suggestion[data-name="Name"]').check()
    for part in ("First", "Last"):
        expect(dialog.locator(f'select[data-column="{part}"]')).to_have_value("skip")
        del expected[part]
    expected["Name"] = {"type": "name", "from": ["First", "Last"]}
    dialog.locator('select[data-column="Email"]').select_option("text")
    expected["Email"] = "text"
    page.screenshot(path=screenshots_dir() / "normalize-dialog.png")
    dialog.get_by_role("button", name="Start job").click()
    expect(dialog).to_be_hidden()

    # The panel opens and shows the new job live, to completion.
    expect(page.locator(PANEL)).to_be_visible()
    job_id = max(
        int(n)
        for n in page.locator(f"{PANEL} .jp-nbjobs-job").evaluate_all(
            "rows => rows.map(r => r.dataset.jobId)"
        )
    )
    done = _row(page, job_id, "['completed', 'failed', 'cancelled'].includes(r.status)")
    assert done["name"] == SMALL_CSV and done["status"] == "completed", done
    assert done["counts"].startswith(f"{SMALL_ROWS:,} / {SMALL_ROWS:,} rows"), done
    job = lab.job(job_id)
    assert job["columns"] == expected, (job["columns"], expected)
    # The per-column summary of the completed job, from the re-read job.
    _row(page, job_id, "r.summary")
    summary = page.locator(f'{PANEL} .jp-nbjobs-job[data-job-id="{job_id}"] .jp-nbjobs-summary')
    summary.locator("summary").click()
    columns = summary.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.column)")
    assert sorted(columns) == sorted(c["column"] for c in job["summary"]), columns
    page.screenshot(path=screenshots_dir() / "file-browser-job.png")


def test_cancel_a_running_job_from_the_panel(lab, page):
    _open_panel(page)
    job_id = lab.submit(LARGE_CSV, {"Phone": "phone"})["jobId"]
    # A job started elsewhere (REST here) appears from its first event.
    _row(page, job_id, "r.status === 'running' && r.width > 0")
    page.locator(f'{PANEL} .jp-nbjobs-job[data-job-id="{job_id}"] .jp-nbjobs-cancel').click()
    cancelled = _row(page, job_id, "r.status !== 'running'")
    assert cancelled["status"] == "cancelled", cancelled
    assert "Cancel" not in cancelled["actions"], cancelled
    assert 0 < cancelled["width"] < 100, cancelled
    assert lab.job(job_id)["status"] == "cancelled"
    page.screenshot(path=screenshots_dir() / "panel-cancelled.png")


def test_a_failed_job_is_announced_with_its_message(lab, page):
    _open_panel(page)
    expect(page.locator(f"{PANEL} .jp-nbjobs-badge")).to_have_text("Live", timeout=60_000)
    # A row with too many fields past the first 16 MiB block, the part a submission checks:
    # the job is accepted, then fails in its worker.
    broken = lab.root_dir / "broken.csv"
    _write_contacts(broken, 330_000)
    broken.write_bytes(broken.read_bytes() + b"Zoe,Lee,(650) 253-0000,zoe@example.com,x,y\n")
    job_id = lab.submit(broken.name, {"Phone": "phone"})["jobId"]

    toast = page.locator(".Toastify__toast", has_text=f"Job #{job_id} failed: ")
    expect(toast).to_be_visible(timeout=60_000)
    expect(toast).to_contain_text("Malformed CSV")
    expect(toast.get_by_role("button", name="Open panel")).to_be_visible()
    failed = _row(page, job_id, "r.status === 'failed' && r.error")
    assert "Malformed CSV" in failed["error"], failed
    assert failed["actions"] == [], failed
    page.screenshot(path=screenshots_dir() / "panel-failed-toast.png")


def test_badge_goes_offline_with_the_server_and_the_list_catches_up(lab, page):
    _open_panel(page)
    badge = page.locator(f"{PANEL} .jp-nbjobs-badge")
    expect(badge).to_have_text("Live")
    running = lab.submit(LARGE_CSV, {"Phone": "phone"})["jobId"]
    _row(page, running, "r.status === 'running' && r.width > 0")
    # The row says how fast the job goes and how long is left (job:progress extras).
    _row(page, running, r"/ · [0-9,]+ rows\/s · .+ left$/.test(r.counts)")
    # ... and each typed column's share of valid values so far.
    _row(page, running, r"/^Phone \d+\.\d% valid$/.test(r.quality)")

    lab.stop()
    expect(badge).to_have_text("Offline")
    expect(badge).to_have_attribute("data-state", "offline")
    expect(page.locator(f"{PANEL} .jp-nbjobs-reconnect")).to_be_visible()
    page.screenshot(path=screenshots_dir() / "panel-offline.png")
    # Nothing told the page that the server stopped the job.
    assert page.evaluate(f"({READ_ROW})({running})")["status"] == "running"

    lab.start()  # same port, data and token
    finished = lab.submit(SMALL_CSV, {"Phone": "phone"})["jobId"]
    # Automatic reconnection (attempts 1, 2, 4, 8, 16 s apart) brings the badge back.
    expect(badge).to_have_text("Live", timeout=60_000)
    expect(page.locator(f"{PANEL} .jp-nbjobs-reconnect")).to_be_hidden()
    # The re-read list shows what happened meanwhile: the stopped job is interrupted (no event
    # ever says so), and the job submitted while the page was offline is there and completes.
    interrupted = _row(page, running, "r.status !== 'running'")
    assert interrupted["status"] == "interrupted", interrupted
    assert "submit it again" in interrupted["error"], interrupted
    done = _row(page, finished, "['completed', 'failed'].includes(r.status)")
    assert done["status"] == "completed", done
    page.screenshot(path=screenshots_dir() / "panel-caught-up.png")


def test_after_giving_up_reconnect_brings_back_what_finished_meanwhile(lab, page):
    _open_panel(page)
    badge = page.locator(f"{PANEL} .jp-nbjobs-badge")
    expect(badge).to_have_text("Live", timeout=60_000)
    lab.stop()
    expect(badge).to_have_text("Offline")
    # Five attempts 1, 2, 4, 8 and 16 s apart (31 s in all), then it stops trying.
    expect(page.locator(f"{PANEL} .jp-nbjobs-state-detail")).to_have_text(
        "gave up reconnecting", timeout=90_000
    )
    page.screenshot(path=screenshots_dir() / "panel-gave-up.png")

    lab.start()
    job_id = lab.submit(SMALL_CSV, {"Phone": "phone"})["jobId"]
    deadline = time.monotonic() + 60
    while lab.job(job_id)["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert lab.job(job_id)["status"] == "completed"
    # No automatic attempt is left: the page knows nothing of the job until Reconnect.
    expect(badge).to_have_text("Offline")
    assert page.evaluate(f"({READ_ROW})({job_id})") is None

    # JupyterLab's own "Server Connection Error" dialog may cover the page meanwhile.
    lost = page.locator(".jp-Dialog", has_text="Server Connection Error")
    if lost.count():
        lost.get_by_role("button", name="Close").click()
    page.locator(f"{PANEL} .jp-nbjobs-reconnect").click()
    expect(badge).to_have_text("Live")
    done = _row(page, job_id, "true")
    assert done["status"] == "completed" and done["width"] == 100, done
    assert done["actions"] == ["Output CSV", "Invalid rows"], done
    page.screenshot(path=screenshots_dir() / "panel-reconnected.png")
