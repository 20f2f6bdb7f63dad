"""Sign-in across processes: `serve --replicas 2` in 登录模式 against a real OpenID Connect provider.

Every dashboard process reads the same secrets (the same `[auth] cookie_secret`) and gets the same
server cookie secret from `serve`, so a browser signed in through nginx stays signed in when its
process dies and nginx sends it to the other one. (Streamlit's user cookie also records the origin
it was set for, so only the public address counts: a process's own loopback port is another origin.)
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from governance import access, db
from tests.browser import auth_secrets, expect_text, free_port, oidc_provider, sign_in, text_containing, wait_for_app
from tests.test_serve import healthy, replica_pid

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "admin@example.org"


def _wait_ready(proc, log: Path, timeout: float = 180) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        m = re.search(r"看板已启动：\S+ （\d+ 个看板进程：端口 ([\d、]+)", text)
        if m:
            return [int(p) for p in m.group(1).split("、")]
        if proc.poll() is not None:
            raise AssertionError("serve exited:\n" + text)
        time.sleep(0.3)
    raise AssertionError("serve did not start:\n" + log.read_text(encoding="utf-8", errors="replace"))


@pytest.fixture(scope="module")
def login_serve(demo_db_master, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve_signin")
    path = folder / "demo.duckdb"
    shutil.copy(demo_db_master, path)
    con = db.connect(path)
    access.add_user(con, access.cli_actor(con), ADMIN, "admin", "全部", name="张管理")
    con.close()
    port = free_port()
    log = folder / "serve.log"
    with oidc_provider() as provider:
        secrets = auth_secrets(folder, port, provider)
        env = {**os.environ, "STREAMLIT_SECRETS_FILES": str(secrets), "PYTHONUNBUFFERED": "1"}
        with log.open("w") as out:
            proc = subprocess.Popen([sys.executable, "-m", "governance", "serve", "--replicas", "2", "--port", str(port),
                                     "--db", str(path)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        try:
            replicas = _wait_ready(proc, log)
            yield f"http://127.0.0.1:{port}", replicas, provider, proc.pid
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(60)


def _wait_healthy(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not healthy(port):
        assert time.monotonic() < deadline, f"process on port {port} not back"
        time.sleep(0.5)


def test_a_signed_in_session_stays_signed_in_when_its_process_dies(login_serve, browser):
    base, replicas, provider, serve_pid = login_serve
    assert len(replicas) == 2
    page = sign_in(browser, base, provider, ADMIN, "tickets")
    text_containing(page.locator("[data-testid='stSidebar']"), "张管理")
    expect_text(page.locator("[data-testid='stMain']"), "诉求量")
    # kill each process in turn: whichever one served the session, one of the two reloads lands on
    # the other process, which must accept the sign-in cookie made by the first
    for port in replicas:
        for other in replicas:   # one process down at a time (the one killed before is back)
            _wait_healthy(other)
        time.sleep(4)            # and nginx has stopped counting its earlier failure (fail_timeout=3s)
        os.kill(replica_pid(serve_pid, port), signal.SIGKILL)
        page.reload()
        wait_for_app(page)
        text_containing(page.locator("[data-testid='stSidebar']"), "张管理")
        expect_text(page.locator("[data-testid='stMain']"), "诉求量")
        assert page.get_by_role("button", name="登录", exact=True).count() == 0
    for port in replicas:   # serve restarted both
        _wait_healthy(port)
    page.context.close()


def test_not_signed_in_sees_only_the_sign_in_screen_through_nginx(login_serve, browser):
    from tests.browser import open_page

    base = login_serve[0]
    page = open_page(browser, f"{base}/tickets")
    page.get_by_role("button", name="登录").wait_for(timeout=60_000)
    assert "诉求量" not in page.locator("body").inner_text()
    page.context.close()
