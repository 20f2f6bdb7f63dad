"""Helpers for browser tests and screenshots: a real `streamlit run` on a free port and
Debian's Chromium driven by Playwright (no downloaded browser)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until the script has finished running (Streamlit's own e2e tests do the same)."""
    done = "[data-testid='stApp'][data-test-script-state='notRunning']"
    page.wait_for_selector(done, timeout=timeout)
    # a handover or rerun can start right after; wait until nothing is stale and the app is idle again
    page.wait_for_function("() => document.querySelectorAll('[data-stale=\"true\"]').length === 0", timeout=timeout)
    page.wait_for_timeout(500)
    page.wait_for_selector(done, timeout=timeout)


def open_page(browser, url: str, viewport=(1400, 900), **context_args):
    """A fresh browser context (no shared session) on `url`, once the app has rendered."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN",
                                  **context_args)
    page = context.new_page()
    page.goto(url)
    wait_for_app(page)
    return page


def wait_for_charts(page, timeout: float = 60_000) -> None:
    """Wait until every Plotly chart on the page has drawn its SVG (its text is only then readable)."""
    page.wait_for_function("""() => [...document.querySelectorAll("[data-testid='stPlotlyChart']")]
        .every(c => c.querySelector('.main-svg'))""", timeout=timeout)


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
    page.get_by_role("option", name=option, exact=True).first.click()
    page.wait_for_function("([el, v]) => el.value === v", arg=[box.element_handle(), option])
    page.wait_for_timeout(200)
    wait_for_app(page)


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


@contextlib.contextmanager
def signin_server(db_path: Path, folder: Path):
    """A `streamlit run` in 登录模式 against a real OpenID Connect provider; yields (base URL, provider URL)."""
    port = free_port()
    with oidc_provider() as provider:
        secrets = folder / "secrets.toml"
        secrets.write_text(f"""[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "test-only-cookie-secret-6f1c2a9b"
client_id = "governance-dashboard"
client_secret = "test-only-client-secret"
server_metadata_url = "{provider}/.well-known/openid-configuration"
""", encoding="utf-8")
        with running_server(db_path, port=port, args=("--secrets.files", str(secrets))) as base:
            yield base, provider


def sign_in(browser, base: str, provider: str, email: str, path: str = "", viewport=(1400, 900)):
    """A fresh browser context signed in as `email` through the provider's form."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/{path}")
    wait_for_app(page)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{provider}/**", timeout=60_000)
    page.fill("input[name=sub]", email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{base}/**", timeout=60_000)
    wait_for_app(page)
    return page
