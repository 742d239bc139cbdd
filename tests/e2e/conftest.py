"""A live server on a free port and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import expect

from tests.conftest import served

# CI runs on a busy two-core box: a condition may take longer than Playwright's 5 s to
# come true there. Still a wait for the condition, with a wider deadline.
expect.set_options(timeout=15_000)

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not executable:
        pytest.fail("Chromium is missing: run scripts/ensure-chromium (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": executable, "args": ARGS}


@pytest.fixture
def server_url(app):
    """The app served over real HTTP from a thread, for the browser."""
    with served(app) as url:
        yield url


# -- the patient PWA ----------------------------------------------------------------------


@pytest.fixture
def browser_context_args(browser_context_args):
    # a phone: 390 × 844, touch, the size the screenshots use
    return {**browser_context_args, "viewport": {"width": 390, "height": 844}, "has_touch": True}


class PageErrors:
    """Uncaught exceptions and CSP refusals in a page: each one fails the test."""

    def __init__(self):
        self.errors: list[str] = []

    def watch(self, page):
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"console: {msg.text}")
                if msg.type == "error" and "Content Security Policy" in msg.text
                else None
            ),
        )
        return page


@pytest.fixture
def page_errors():
    watcher = PageErrors()
    yield watcher
    assert not watcher.errors, watcher.errors


@pytest.fixture
def pwa(page, page_errors):
    """The default page, watched for script errors and CSP refusals."""
    return page_errors.watch(page)


@pytest.fixture
def account(app):
    """A patient account, with an API client signed in on its own session."""
    from tests.factories import make_actor

    return make_actor(app, "patient")
