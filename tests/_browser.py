"""Headless Chromium for the browser tests: Debian's ``chromium`` driven by Playwright's Python API.

Playwright's own browser download is not used (a fresh machine cannot fetch it); ``.ci/run`` installs Debian's
package and the tests launch it through ``executable_path``. Where either is missing, the test that asked for a
page is skipped and pytest's ``-rs`` summary says why.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

# The flags keep Chromium off the network (this machine refuses outside connections, and a sandboxed CI runner
# runs it as root, where the sandbox cannot start).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Where the system's Chromium is, or None."""
    return os.environ.get("WORKERSIM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser_page() -> Iterator[Any]:
    """A fresh Playwright ``Page`` in headless Chromium; the test is skipped with the reason when there is none."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright's Python package is not installed (pip install playwright)")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium on this machine: .ci/run installs Debian's chromium package with apt-get")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            yield page
        finally:
            browser.close()
