"""The demo notebook in JupyterLab, in a real (headless) Chromium: running its cells shows the
nbjobs progress widget, the bar passes through intermediate percentages while the server works,
ends green at 100%, and the Live badge is up.

Needs Debian's ``/usr/bin/chromium`` and Playwright for Python (``.ci/run`` installs both);
``playwright install`` is never used. Screenshots go to ``$NBJOBS_ARTIFACTS/screenshots``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.lab import CHROMIUM, CHROMIUM_FLAGS, REPO, LabServer, screenshots_dir

NOTEBOOK = REPO / "notebooks" / "quickstart.ipynb"
# quickstart.ipynb: markdown, build DataFrame (5,000 rows), markdown, submit the job.
CELLS_TO_RUN = 4
SUBMIT_CELL = 3
TOTAL_ROWS = "5,000"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@contextlib.contextmanager
def jupyter_lab(workdir: Path) -> Iterator[tuple[str, str, Path]]:
    """``jupyter lab`` serving a copy of the demo notebook; yields (url, token, log path).

    Jobs are slowed (200-row chunks, 0.1 s pause each) so that the 5,000 rows take a few
    seconds: long enough for a browser to see the bar part-way.
    """
    server = LabServer(workdir, chunk_size=200, chunk_delay=0.1)
    shutil.copy(NOTEBOOK, server.root_dir / NOTEBOOK.name)
    server.start()
    try:
        yield server.url, server.token, server.log_path
    finally:
        server.stop()


# In the page: the submit cell's widget, as numbers the test can assert on. ipywidgets renders
# IntProgress as .widget-hprogress > .progress > .progress-bar (width = value %, and
# .progress-bar-success for bar_style="success"). nbjobs' JobProgress is
# VBox([HBox([title, badge]), HBox([bar, counts]), error]); the counts end with "NN%".
READ_WIDGET = """
(index) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[index];
  const bar = cell && cell.querySelector('.jp-OutputArea .widget-hprogress .progress-bar');
  if (!bar) return null;
  const box = bar.closest('.widget-hbox');
  const widget = box.parentElement;
  const heading = widget.firstElementChild;  // HBox([title, badge])
  const [title, badge] = heading.querySelectorAll(':scope > .widget-html');
  return {
    width: parseFloat(bar.style.width),
    success: bar.classList.contains('progress-bar-success'),
    failed: bar.classList.contains('progress-bar-danger'),
    counts: box.innerText.trim(),
    title: title.innerText.trim(),
    badge: badge.innerText.trim(),
    error: widget.lastElementChild.innerText.trim(),
  };
}
"""

# Records every width the bar shows, from the moment it exists, so that a fast frame between two
# polls is not missed.
WATCH_BAR = """
(index) => {
  window.__nbjobsWidths = [];
  const seen = () => {
    const cell = document.querySelectorAll('.jp-Notebook .jp-Cell')[index];
    const bar = cell && cell.querySelector('.jp-OutputArea .widget-hprogress .progress-bar');
    if (!bar) return;
    const width = parseFloat(bar.style.width);
    const widths = window.__nbjobsWidths;
    if (widths[widths.length - 1] !== width) widths.push(width);
  };
  new MutationObserver(seen).observe(document.body, {
    subtree: true, childList: true, attributes: true, attributeFilter: ['style', 'class'],
  });
  seen();
}
"""


def test_demo_notebook_fills_the_bar_live_in_jupyterlab(tmp_path):
    with (
        jupyter_lab(tmp_path) as (url, token, log_path),
        sync_api.sync_playwright() as playwright,
    ):
        # A persistent context on a fresh directory: Playwright's way to pass --user-data-dir.
        browser = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        page = browser.new_page()
        page.set_default_timeout(30_000)
        console: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        try:
            page.goto(f"{url}lab/tree/{NOTEBOOK.name}?reset&token={token}")
            _run_demo_cells(page)
            _check_live_progress(page)
        except Exception:
            page.screenshot(path=screenshots_dir() / "quickstart-failure.png", full_page=True)
            print("browser console:", *console[-40:], sep="\n  ")
            print("server log:", log_path.read_text()[-4000:], sep="\n")
            raise
        finally:
            browser.close()


def _run_demo_cells(page) -> None:
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=45_000)
    # Shift+Enter before the kernel is connected advances without running the cell. The
    # toolbar's execution indicator says "idle" before any kernel exists; the status bar's
    # "Python 3 (ipykernel) | Idle" appears only once the started kernel has answered.
    page.wait_for_function(
        r"() => /\(ipykernel\)[\s|]*Idle/.test("
        "document.querySelector('#jp-main-statusbar')?.innerText ?? '')",
        timeout=45_000,
    )
    page.evaluate(WATCH_BAR, SUBMIT_CELL)
    cells = page.locator(".jp-Notebook .jp-Cell")
    cells.first.click()
    for index in range(CELLS_TO_RUN):
        # As a person would: press Shift+Enter on a cell once it is the active one, and let the
        # cells before the submit cell finish (keys pressed in a hurry can be lost).
        cell = cells.nth(index)
        sync_api.expect(cell).to_have_class(re.compile(r"\bjp-mod-active\b"))
        page.keyboard.press("Shift+Enter")
        if index < SUBMIT_CELL and "jp-CodeCell" in (cell.get_attribute("class") or ""):
            sync_api.expect(cell.locator(".jp-InputPrompt")).to_have_text(
                re.compile(r"\[\d+\]"), timeout=30_000
            )


def _wait_widget(page, condition: str, timeout: float) -> dict:
    """Waits until ``condition`` (JS, on the widget state ``w``) holds; returns that state."""
    handle = page.wait_for_function(
        f"() => {{ const w = ({READ_WIDGET})({SUBMIT_CELL}); return w && ({condition}) && w; }}",
        polling=50,
        timeout=timeout,
    )
    return handle.json_value()


def _check_live_progress(page) -> None:
    # Part-way: a bar between 20% and 100% (stopping at the first value above 0 would also pass
    # a bar that jumps from 0 to done in the last few events). Done first means it never filled.
    mid = _wait_widget(page, "w.success || w.failed || (w.width >= 20 && w.width < 100)", 45_000)
    page.screenshot(path=screenshots_dir() / "quickstart-mid-progress.png")
    assert not mid["failed"], f"the job failed: {mid}"
    assert not mid["success"], f"the bar went to done without showing progress: {mid}"
    assert f"/ {TOTAL_ROWS} rows" in mid["counts"], mid
    shown = int(re.search(r"(\d+)%", mid["counts"]).group(1))
    assert 0 < shown < 100, mid
    assert mid["title"].endswith("· running"), mid
    assert mid["badge"] == "Live", mid

    # Done: a full green bar, the final counts, the Live badge.
    done = _wait_widget(page, "w.success || w.failed", 60_000)
    page.screenshot(path=screenshots_dir() / "quickstart-completed.png")
    assert not done["failed"], f"the job failed: {done}"
    assert done["width"] == 100, done
    assert f"{TOTAL_ROWS} / {TOTAL_ROWS} rows" in done["counts"], done
    assert done["counts"].endswith("100%"), done
    assert re.fullmatch(r"Job #\d+ · contacts · completed", done["title"]), done
    assert done["badge"] == "Live", done

    # Filled step by step, never backwards: several intermediate widths, in order.
    widths = page.evaluate("() => window.__nbjobsWidths")
    between = [w for w in widths if 0 < w < 100]
    assert len(between) >= 3, widths
    assert widths == sorted(widths) and widths[-1] == 100, widths
