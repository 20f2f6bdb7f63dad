"""Helpers for browser tests and screenshots: a real `streamlit run` on a free port and
Debian's Chromium driven by Playwright (no downloaded browser)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from governance import browser_bench

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    from governance.serve import free_port as loopback_port

    return loopback_port()


class ServerURL(str):
    """The base URL of a running server; .pid is its process (e.g. to read its memory)."""
    pid: int = 0


def rss_mb(pid: int) -> float:
    """Resident memory of a process (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@contextlib.contextmanager
def running_server(db_path: Path | None = None, env: dict | None = None, timeout: float = 90,
                   port: int | None = None, address: str = "127.0.0.1", args: tuple = ()):
    """Start `streamlit run app.py` on a free port (or `port`); yield its base URL; stop it afterwards.

    Without db_path a fresh demo database is built in a temporary folder. `address` is where it
    listens (the URL always uses 127.0.0.1); `args` are further `streamlit run` options.
    """
    from governance.demo import build_demo_database

    tmp = Path(tempfile.mkdtemp(prefix="gov-server-"))
    if db_path is None:
        db_path = tmp / "demo.duckdb"
        build_demo_database(db_path)
    port = port or free_port()
    proc_env = {**os.environ, "GOVERNANCE_DB": str(db_path), **(env or {})}
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false", *args],
        cwd=ROOT, env=proc_env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = ServerURL(f"http://127.0.0.1:{port}")
    base.pid = proc.pid
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError("streamlit exited:\n" + (tmp / "server.log").read_text())
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("streamlit did not answer /_stcore/health in time")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def launch_browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


TRACK_RUNS = browser_bench.TRACK_RUNS   # counts the script runs that have finished in this document
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
NOTHING_STALE = "() => document.querySelectorAll('[data-stale=\"true\"]').length === 0"
# while an element's code is still loading, Streamlit draws a grey placeholder (stSkeleton) in its place
NO_PLACEHOLDER = "() => !document.querySelector(\"[data-testid='stSkeleton']\")"


def new_context(browser, viewport=(1400, 900), **context_args):
    """A fresh browser context (no shared session) that counts the app's script runs."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN",
                                  **context_args)
    context.add_init_script(TRACK_RUNS)
    return context


def runs(page) -> int:
    """How many script runs have finished in the page's document (-1 if it was not opened by new_context)."""
    return page.evaluate("() => window.__stRuns ?? -1")


def wait_for_app(page, timeout: float = 60_000, after: int | None = None, quiet_ms: int = 750) -> None:
    """Wait until the script has finished running and the app has stayed idle for `quiet_ms`.

    A run can be followed by another (a page handover, st.rerun, a rerun the browser asks for), so an
    idle moment alone proves nothing: wait until no run has ended for `quiet_ms`, the app is idle,
    nothing on the page is stale and no element is still a placeholder waiting for its code. `after` is a run count taken (with runs()) before a click: a run
    that ended after it must be seen first, however late the server starts it."""
    deadline = time.monotonic() + timeout / 1000

    def left() -> float:
        return max(1_000.0, (deadline - time.monotonic()) * 1000)

    if after is not None and after >= 0:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            page.wait_for_function("n => (window.__stRuns ?? 0) > n", arg=after, timeout=min(left(), 20_000))
        except PlaywrightTimeout:
            # a run so short that React drew "running" and "notRunning" in one commit leaves no
            # attribute change to count (seen once in CI on a page switch): settle on idle below,
            # which still waits for the app to be idle, nothing stale, for quiet_ms
            pass
    while True:
        page.wait_for_selector(IDLE, timeout=left())
        page.wait_for_function(NOTHING_STALE, timeout=left())
        page.wait_for_function(NO_PLACEHOLDER, timeout=left())
        before = runs(page)
        page.wait_for_timeout(quiet_ms)
        if (page.locator(IDLE).count() == 1 and runs(page) == before and page.evaluate(NOTHING_STALE)
                and page.evaluate(NO_PLACEHOLDER)):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not settle")


def open_page(browser, url: str, viewport=(1400, 900), **context_args):
    """A fresh browser context (no shared session) on `url`, once the app has rendered."""
    page = new_context(browser, viewport, **context_args).new_page()
    page.goto(url)
    wait_for_app(page)
    return page


def expect_text(scope, text: str, timeout: float = 60_000, exact: bool | None = None):
    """Wait until `text` is shown in `scope` (a page or a locator); return its first match."""
    match = scope.get_by_text(text, exact=exact).first
    match.wait_for(timeout=timeout)
    return match


def text_containing(locator, *words: str, timeout: float = 60_000) -> str:
    """The inner text of `locator` once it contains every one of `words` (waits for a late render)."""
    from playwright.sync_api import expect

    for w in words:
        expect(locator).to_contain_text(w, timeout=timeout)
    return locator.inner_text()


def wait_for_charts(page, timeout: float = 60_000) -> None:
    """Wait until every Plotly chart on the page has drawn its SVG (its text is only then readable).
    A chart whose code is still loading is a placeholder, not yet a chart: wait for none to be left."""
    page.wait_for_function("""() => !document.querySelector("[data-testid='stSkeleton']")
        && [...document.querySelectorAll("[data-testid='stPlotlyChart']")].every(c => c.querySelector('.main-svg'))""",
                           timeout=timeout)


def metric_value(page, label: str, timeout: float = 60_000) -> str:
    """The value of the metric card whose label contains `label`, once that card is drawn.

    Reads one card by its own label (never a zip of all labels with all values, which can pair
    them wrongly while a rerun is still drawing the cards)."""
    value = page.locator("[data-testid='stMetric']").filter(has_text=label).first.locator("[data-testid='stMetricValue']")
    value.wait_for(timeout=timeout)
    return value.inner_text().strip()


def choose(page, label: str, option: str, sidebar: bool = False) -> None:
    """Pick `option` in the selectbox labelled `label` (Streamlit's combobox), then wait for the rerun."""
    scope = page.locator("[data-testid=stSidebar]") if sidebar else page
    box = scope.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.fill(option)          # the list is virtualised: filter it so the option is rendered
    done = runs(page)
    page.get_by_role("option", name=option, exact=True).first.click()
    page.wait_for_function("([el, v]) => el.value === v", arg=[box.element_handle(), option])
    wait_for_app(page, after=done)


def click(page, target) -> None:
    """Click `target` (a locator) and wait for the run that the click starts to finish."""
    done = runs(page)
    target.click()
    wait_for_app(page, after=done)


def open_tab(page, name: str) -> None:
    """Choose the tab `name` (ui.lazy_tabs: only the chosen tab runs) and wait for the run it starts;
    nothing to do if it is the chosen one already."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.get_attribute("aria-selected") != "true":
        click(page, tab)


def tab_names(page) -> list[str]:
    """The labels of the page's tabs, in order (empty for a page without)."""
    return [t.strip() for t in page.get_by_role("tab").all_inner_texts()]


def download(page, button_name: str) -> tuple[str, bytes]:
    """Click the download button named `button_name`; the file's suggested name and its bytes."""
    button = page.get_by_role("button", name=button_name)
    button.scroll_into_view_if_needed()
    with page.expect_download() as info:
        button.click()
    return info.value.suggested_filename, open(info.value.path(), "rb").read()


@contextlib.contextmanager
def oidc_provider(timeout: float = 60):
    """A real OpenID Connect provider for tests (oidc-provider-mock) on a free loopback port; yields its URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "oidc_provider_mock", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/.well-known/openid-configuration", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("oidc-provider-mock did not start")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def auth_secrets(folder: Path, port: int, provider: str) -> Path:
    """A secrets.toml with `[auth]` for a dashboard on `port` signing in at `provider`."""
    secrets = folder / "secrets.toml"
    secrets.write_text(f"""[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "test-only-cookie-secret-6f1c2a9b"
client_id = "governance-dashboard"
client_secret = "test-only-client-secret"
server_metadata_url = "{provider}/.well-known/openid-configuration"
""", encoding="utf-8")
    return secrets


@contextlib.contextmanager
def signin_server(db_path: Path, folder: Path):
    """A `streamlit run` in 登录模式 against a real OpenID Connect provider; yields (base URL, provider URL)."""
    port = free_port()
    with oidc_provider() as provider:
        secrets = auth_secrets(folder, port, provider)
        with running_server(db_path, port=port, args=("--secrets.files", str(secrets))) as base:
            yield base, provider


def sign_in(browser, base: str, provider: str, email: str, path: str = "", viewport=(1400, 900)):
    """A fresh browser context signed in as `email` through the provider's form."""
    page = new_context(browser, viewport).new_page()
    page.goto(f"{base}/{path}")
    wait_for_app(page)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{provider}/**", timeout=60_000)
    page.fill("input[name=sub]", email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{base}/**", timeout=60_000)
    wait_for_app(page)
    return page
