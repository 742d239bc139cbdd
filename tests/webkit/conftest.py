"""Safari's engine: Debian's WebKitGTK (MiniBrowser, driven by WebKitWebDriver through
Selenium) on a virtual X display, against the app served over real HTTP.

WebKitWebDriver has no offline switch, so the phone goes offline the way it does on a
train: the server stops answering. `live_server.stop()` closes the listening socket and
every open connection; `live_server.start()` serves the same app and database again on
the same port, so the page's origin (and its service worker) is unchanged.
"""

from __future__ import annotations

import os
import select
import shutil
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait
from selenium.webdriver.webkitgtk.service import Service
from werkzeug.serving import ThreadedWSGIServer

from tests.conftest import closing_iterators
from tests.factories import PASSWORD

INSTALL = "run scripts/ensure-webkit (apt-get install webkit2gtk-driver xvfb)"
# what Debian's container images set when no locale is installed; WebKit then reports
# navigator.language as "C" (with no LANG at all it says "en-US" instead)
NO_LOCALE = {"LANG": "C.UTF-8"}
WAIT = 30.0  # seconds for anything a person would see; generous for a loaded 2-core box


# -- the display ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def display(tmp_path_factory):
    """A private Xvfb; its number is chosen by Xvfb (-displayfd), so runs never collide."""
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        pytest.fail(f"Xvfb is missing: {INSTALL}")
    log = tmp_path_factory.mktemp("xvfb") / "xvfb.log"
    read, write = os.pipe()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [xvfb, "-displayfd", str(write), "-nolisten", "tcp", "-screen", "0", "1280x1024x24"],
            pass_fds=(write,),
            stdout=out,
            stderr=out,
        )
    os.close(write)
    try:
        # Xvfb writes the number it took once it accepts connections
        ready, _, _ = select.select([read], [], [], 30)
        number = os.read(read, 32).decode().strip() if ready else ""
        if not number:
            pytest.fail(f"Xvfb did not start: {log.read_text()[-2000:]}")
        _wait_until(lambda: _x_accepts(number), 10, "Xvfb to accept connections")
        yield f":{number}"
    finally:
        os.close(read)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _x_accepts(number: str) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(f"/tmp/.X11-unix/X{number}")
        except OSError:
            return False
        return True


def _wait_until(probe: Callable, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.05)  # a poll interval, not a wait for time to pass
    return value


# -- the server -----------------------------------------------------------------------


class _Server(ThreadedWSGIServer):
    """Remembers its open connections, so stopping can cut them: a browser would
    otherwise keep talking to a stopped server over a kept-alive connection."""

    def __init__(self, *args, **kwargs):
        self.connections: set[socket.socket] = set()
        self.guard = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        with self.guard:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.guard:
            self.connections.discard(request)
        super().shutdown_request(request)

    def cut_connections(self) -> None:
        with self.guard:
            open_now = list(self.connections)
        for conn in open_now:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its handler


class LiveServer:
    """The app over HTTP on one port for the whole test, stopped and started at will."""

    def __init__(self, app):
        self.app = app
        self.port = 0  # the first start takes a free port; later starts reuse it
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self._server is None, "already serving"
        # SO_REUSEADDR (set by http.server) lets the port be bound again at once
        server = _Server("127.0.0.1", self.port, closing_iterators(self.app))
        self.port = server.server_port
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Refuse every connection from now on, like a phone with no network."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()  # the accept loop has ended when this returns
        server.cut_connections()
        server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def live_server(app):
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


# -- the phone ------------------------------------------------------------------------


class Phone:
    """A WebKit page with the few things a test does on it: open a screen, find what a
    person sees (displayed elements only), type, tap, and wait for a condition."""

    def __init__(self, driver):
        self.driver = driver

    def open(self, url: str) -> None:
        self.driver.get(url)

    def go(self, route: str) -> None:
        """Follow an in-app link (#/route), as the app's own links do."""
        self.driver.execute_script("location.hash = arguments[0]", route)

    def run(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def wait(self, probe: Callable, what: str, timeout: float = WAIT):
        """Until probe() is truthy, or fail saying what was awaited; returns its value."""

        last_error: list[WebDriverException] = []

        def attempt(_driver):
            try:
                return probe()
            except WebDriverException as exc:  # stale: the page re-rendered or navigated
                last_error[:] = [exc]
                return False  # under us: ask again

        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(attempt)
        except TimeoutException:
            why = f" (last: {type(last_error[0]).__name__})" if last_error else ""
            raise TimeoutException(f"waited {timeout:g} s for {what}{why}") from None

    def _shown(self, xpath: str) -> list[WebElement]:
        return [e for e in self.driver.find_elements(By.XPATH, xpath) if e.is_displayed()]

    def find(self, xpath: str, what: str, timeout: float = WAIT) -> WebElement:
        return self.wait(lambda: next(iter(self._shown(xpath)), None), what, timeout)

    def field(self, label: str) -> WebElement:
        """The control a visible <label> names (its text before any hint), or an aria-label."""
        text = _literal(label)

        def control():
            for lab in self._shown(
                f"//label[normalize-space(text()[1])={text} or normalize-space(.)={text}]"
            ):
                target = lab.get_attribute("for")
                found = (
                    self.driver.find_elements(By.ID, target)
                    if target
                    else lab.find_elements(By.XPATH, ".//input|.//textarea|.//select")
                )
                shown = [e for e in found if e.is_displayed()]
                if shown:
                    return shown[0]
            return next(iter(self._shown(f"//*[@aria-label={text}]")), None)

        return self.wait(control, f"a field labelled {label!r}")

    def button(self, name: str) -> WebElement:
        return self.find(f"//button[normalize-space(.)={_literal(name)}]", f"a {name!r} button")

    def link(self, name: str) -> WebElement:
        return self.find(f"//a[normalize-space(.)={_literal(name)}]", f"a {name!r} link")

    def top_bar_link(self, name: str) -> WebElement:
        return self.find(
            f"//header//a[normalize-space(.)={_literal(name)}]", f"{name!r} in the top bar"
        )

    def route(self) -> str:
        return self.run("return location.hash")

    def wait_route(self, route: str) -> None:
        self.wait(lambda: self.route() == route, f"the app to show {route}")

    def in_app(self) -> None:
        """Signed in, on Today, with the app's main navigation shown."""
        self.wait_route("#/today")
        self.find("//nav[@aria-label='Main']", "the app's main navigation")

    def fill(self, label: str, value: str) -> None:
        element = self.field(label)
        element.clear()
        element.send_keys(value)

    def tap(self, element: WebElement) -> None:
        element.click()

    def heading(self, contains: str, timeout: float = WAIT) -> WebElement:
        return self.find(
            f"//h1[contains(normalize-space(.), {_literal(contains)})]",
            f"a page heading with {contains!r}",
            timeout,
        )

    def text_shown(self, contains: str, timeout: float = WAIT) -> WebElement:
        """The innermost displayed element whose text contains these words."""
        words = _literal(contains)
        return self.find(
            f"//body//*[contains(normalize-space(.), {words})]"
            f"[not(*[contains(normalize-space(.), {words})])]",
            f"the words {contains!r}",
            timeout,
        )

    def status_shown(self, contains: str) -> WebElement:
        """A live status line (role="status") that says these words."""
        return self.find(
            f"//*[@role='status'][contains(normalize-space(.), {_literal(contains)})]",
            f"a status saying {contains!r}",
        )

    def entry(self, text: str) -> WebElement:
        """The journal list's item that shows this text."""
        return self.find(
            f"//ul[@id='entry-list']/li[contains(normalize-space(.), {_literal(text)})]",
            f"the entry {text!r} in the list",
        )

    def status_line(self) -> str:
        return self.driver.find_element(By.ID, "sync-status").text

    # -- the device's own state -------------------------------------------------------

    def wait_for_worker(self) -> None:
        """The service worker controls the page and has cached the shell."""
        self.wait(
            lambda: self.run("return navigator.serviceWorker.controller !== null"),
            "the service worker to control the page",
        )

    def outbox_size(self) -> int | None:
        return self.driver.execute_async_script(OUTBOX_SIZE)

    def wait_synced(self) -> None:
        self.wait(lambda: self.outbox_size() == 0, "an empty outbox")
        self.wait(lambda: self.status_line() == "All synced", "'All synced' in the top bar")

    def sign_in(self, base_url: str, email: str, password: str = PASSWORD) -> None:
        self.open(base_url + "/#/signin")
        self.fill("Email", email)
        self.fill("Password", password)
        self.tap(self.button("Sign in"))
        self.in_app()
        self.wait_synced()


# arguments[0] is the callback WebDriver hands an async script
OUTBOX_SIZE = """const done = arguments[arguments.length - 1];
const open = indexedDB.open('between');
open.onerror = () => done(null);
open.onsuccess = () => {
  const db = open.result;
  if (!db.objectStoreNames.contains('outbox')) { db.close(); return done(null); }
  const request = db.transaction('outbox').objectStore('outbox').count();
  request.onsuccess = () => { done(request.result); db.close(); };
  request.onerror = () => { done(null); db.close(); };
};"""


def _literal(text: str) -> str:
    """An XPath 1.0 string literal for any text (XPath has no escapes)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    parts = text.split("'")
    return "concat(" + ', "\'", '.join(f"'{p}'" for p in parts) + ")"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # so a phone's teardown knows whether the test failed, and can say what it showed
    report = yield
    setattr(item, f"webkit_{report.when}", report)
    return report


def _describe(driver, shot: Path) -> str:
    """What the phone showed when a test failed: its address, words, and a screenshot."""
    try:
        driver.save_screenshot(str(shot))
        url = driver.current_url
        words = driver.execute_script("return document.body.innerText")
    except WebDriverException as exc:
        return f"(the phone could not be asked: {exc.msg})"
    return f"{url}\n{words}\nscreenshot: {shot}"


@pytest.fixture
def make_phone(display, tmp_path, request):
    """Phones on the private display; each a fresh WebKit profile, quit after the test.

    The driver's environment has no locale of its own (LANG=C.UTF-8, as in a bare Debian
    container), so WebKit reports navigator.language "C"; `locale` sets one instead.
    """
    driver_path = shutil.which("WebKitWebDriver")
    if not driver_path:
        pytest.fail(f"WebKitWebDriver is missing: {INSTALL}")
    made = []

    def make(locale: dict[str, str] | None = None) -> Phone:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("LANG", "LANGUAGE") and not k.startswith("LC_")
        }
        env.update(locale or NO_LOCALE, DISPLAY=display)
        log = Path(tmp_path) / f"webkit-{len(made)}.log"
        service = Service(executable_path=driver_path, env=env, log_output=str(log))
        with warnings.catch_warnings():
            # Selenium's own WebKitGTK driver still passes the address the deprecated way
            warnings.filterwarnings("ignore", "setting remote_server_addr", DeprecationWarning)
            driver = webdriver.WebKitGTK(options=webdriver.WebKitGTKOptions(), service=service)
        made.append(driver)
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(WAIT)
        # a phone's width; MiniBrowser's window cannot be made narrower than about 450 px
        driver.set_window_rect(width=390, height=844)
        return Phone(driver)

    yield make
    call = getattr(request.node, "webkit_call", None)
    if call is not None and call.failed:
        for n, driver in enumerate(made):
            print(f"-- phone {n} showed:\n{_describe(driver, Path(tmp_path) / f'phone-{n}.png')}")
    for driver in made:
        try:
            driver.quit()
        except WebDriverException:
            pass  # the browser already went; nothing left to close


@pytest.fixture
def phone(make_phone) -> Phone:
    return make_phone()


@pytest.fixture
def account(app):
    """A patient account, with an API client signed in on its own session."""
    from tests.factories import make_actor

    return make_actor(app, "patient")
