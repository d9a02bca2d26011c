"""Browser tests of the portal: Playwright's sync API driving Debian's Chromium
(/usr/bin/chromium, installed by .ci/run; never a browser Playwright downloads) against a real
`moorage serve` process on loopback, with one private endpoint (pe1) so a connection can be
approved. Full-page screenshots go to tests/e2e/artifacts/ (gitignored) for people to look at."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Error,
    Page,
    ViewportSize,
    sync_playwright,
)

from tests.support.management import Management
from tests.support.server import Server, free_port
from tests.support.tools import require

ARTIFACTS = Path(__file__).parent / "artifacts"
PE1 = "127.0.0.5"
"""pe1's listener: another loopback address on the public listener's port."""
DESKTOP: ViewportSize = {"width": 1280, "height": 900}

# As the machine notes say: headless without a GPU or a sandbox (CI runs as root), and nothing
# that reaches out (the network is closed: background services would only fail, noisily).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The screenshot folder, emptied once per run so every picture in it is from this run."""
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server for the module, with private endpoint pe1 on PE1."""
    port = free_port()
    data = tmp_path_factory.mktemp("portal") / "data"
    srv = Server(data, port, extra_args=["--private-endpoint", f"pe1={PE1}:{port}"]).start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def mgmt(server: Server) -> Iterator[Management]:
    """The management API as the owner, to set up what a test does not do in the browser and
    to read back what the browser changed."""
    m = Management(server)
    yield m
    m.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium. launch() gives it a new, empty --user-data-dir of Playwright's making
    (removed on close); each test then has its own context (cookies, storage)."""
    executable = require("chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Dialogs:
    """The page's one dialog listener: it notes the type of every dialog raised and answers it.
    A confirmation is accepted (as a person who meant to click would); a beforeunload warning
    ("Leave site?") is answered with `leave`: True leaves, False stays on the page. A test that
    checks the warning sets `leave` and reads `seen` (a second listener could not answer a
    dialog this one has already answered)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.leave = True

    def __call__(self, dialog: Dialog) -> None:
        self.seen.append(dialog.type)
        if dialog.type == "beforeunload" and not self.leave:
            dialog.dismiss()
        else:
            dialog.accept()


@pytest.fixture
def dialogs() -> Dialogs:
    return Dialogs()


@pytest.fixture
def page(browser: Browser, server: Server, artifacts: Path, dialogs: Dialogs) -> Iterator[Page]:
    """A fresh, signed-out page on the server, its dialogs answered by `dialogs`. A script
    error or a Content-Security-Policy violation fails the test, since either means a page
    works differently than it reads."""
    context = browser.new_context(viewport=DESKTOP, base_url=server.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            problems.append(f"{tab.url}: {message.text}")

    def page_error(error: Error) -> None:
        problems.append(f"{tab.url}: script error: {error.message}")

    tab.on("console", console)
    tab.on("pageerror", page_error)
    tab.on("dialog", dialogs)
    try:
        yield tab
    finally:
        context.close()
    assert not problems, "\n".join(problems)
