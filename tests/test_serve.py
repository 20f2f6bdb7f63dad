"""`python -m governance serve --replicas 2`: real nginx in front of two real dashboard processes
reading read-only snapshots (governance/serve.py, writer.py, snapshots.py).

One module-scoped serve on a copy of the demo database: a page through the proxy, an import on
one process seen by the other, a process killed mid-session, the writer killed mid-import. Then
snapshot retention and the missing-nginx hint, without a server."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest

from governance import load, serve, snapshots, writer
from governance.periods import add_months, fmt_month
from tests.browser import metric_value, new_context, wait_for_app

ROOT = Path(__file__).resolve().parent.parent
READY = re.compile(r"看板已启动：http://\S+:(\d+)/ （2 个看板进程：端口 (\d+)、(\d+)；")
T1 = "T1 诉求量"


# ------------------------------------------------------------------------------ helpers

def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return []


def descendants(pid: int) -> dict[int, list[str]]:
    """Every process below `pid` (children, grandchildren …) with its command line."""
    parents = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            p = _ppid(int(d))
            if p is not None:
                parents[int(d)] = p
    found, todo = {}, [pid]
    while todo:
        parent = todo.pop()
        for child, p in parents.items():
            if p == parent and child not in found:
                found[child] = _cmdline(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def replica_pid(serve_pid: int, port: int) -> int:
    """The `streamlit run` process serve started on `port` (its command line names the port)."""
    for pid, cmd in descendants(serve_pid).items():
        if "streamlit" in cmd and "--server.port" in cmd and cmd[cmd.index("--server.port") + 1] == str(port):
            if alive(pid):
                return pid
    raise AssertionError(f"no replica process on port {port}")


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=3) as r:
            return r.status == 200
    except OSError:
        return False


def active_sessions(port: int) -> int:
    """Streamlit's own gauge, read on the replica's port directly (the proxy does not serve it)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/metrics", timeout=3) as r:
            text = r.read().decode()
    except OSError:
        return 0
    m = re.search(r"^active_sessions (\d+)", text, re.M)
    return int(m.group(1)) if m else 0


def wait_until(predicate, timeout: float, what: str, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def t1_expected(path: Path, first: dt.date | None = None) -> int:
    """T1 of the tickets page for all communities from `first` (default: the page's default, the
    last 12 months of the data) to the last month, counted straight from the file."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        last = con.execute("SELECT max(received_at) FROM tickets").fetchone()[0]
        last_month = dt.date(last.year, last.month, 1)
        first = first or add_months(last_month, -11)
        return con.execute("SELECT count(*) FROM tickets WHERE received_at >= ? AND received_at < ?",
                           [first, add_months(last_month, 1)]).fetchone()[0]
    finally:
        con.close()


def last_month(path: Path) -> dt.date:
    con = duckdb.connect(str(path), read_only=True)
    try:
        last = con.execute("SELECT max(received_at) FROM tickets").fetchone()[0]
        return dt.date(last.year, last.month, 1)
    finally:
        con.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot_files(primary: Path) -> dict[str, str]:
    return {p.name: sha256(p) for _, p in snapshots.listing(primary)}


def primary_state(primary: Path) -> tuple[int, str]:
    """(tickets, data_version) of the primary, read when no writer holds it."""
    with writer.exclusive(primary, timeout=120):
        con = duckdb.connect(str(primary), read_only=True)
        try:
            n = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
            version = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0]
        finally:
            con.close()
    return n, version


def start_import(primary: Path, csv_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "governance", "import", str(csv_path), "--table", "tickets",
                             "--db", str(primary)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


# ------------------------------------------------------------------------------ the server

@pytest.fixture(scope="module")
def served(demo_db_master, tmp_path_factory):
    """serve --replicas 2 on a copy of the demo database; stopped with SIGTERM afterwards, and
    then every process it started must be gone."""
    work = tmp_path_factory.mktemp("serve")
    primary = work / "demo.duckdb"
    shutil.copy(demo_db_master, primary)
    port = serve.free_port()
    log_path = work / "serve.log"
    log = open(log_path, "w")
    copies_before = set(Path(tempfile.gettempdir()).glob("governance-static-*"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "GOVERNANCE_READ_SNAPSHOTS")}
    proc = subprocess.Popen([sys.executable, "-m", "governance", "serve", "--replicas", "2", "--port", str(port),
                             "--db", str(primary)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        def ready():
            if proc.poll() is not None:
                raise AssertionError(f"serve exited ({proc.returncode}):\n{log_path.read_text()}")
            return READY.search(log_path.read_text())
        m = wait_until(ready, 180, "serve's ready line")
        assert int(m.group(1)) == port
        info = {"proc": proc, "primary": primary, "port": port, "base": f"http://127.0.0.1:{port}",
                "replicas": [int(m.group(2)), int(m.group(3))], "log": log_path, "work": work}
        yield info
    finally:
        started = descendants(proc.pid)
        ports = [port, *info["replicas"]] if "info" in locals() else [port]
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            for pid in started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            raise AssertionError("serve did not stop within 60 s of SIGTERM")
    assert rc == 0, log_path.read_text()
    assert "已停止。" in log_path.read_text()
    assert any("nginx" in " ".join(c) for c in started.values()), started
    assert sum("streamlit" in c for c in started.values()) == 2, started
    wait_until(lambda: not any(alive(pid) for pid in started), 15, "serve's processes to be gone")
    assert not any(listening(p) for p in ports)
    assert not writer.marker(primary).exists()
    # the copy of Streamlit's bundles nginx served is removed with it
    assert set(Path(tempfile.gettempdir()).glob("governance-static-*")) <= copies_before


@pytest.mark.browser
def test_a_page_through_the_proxy(served, browser):
    """/tickets through nginx shows the demo's T1; the framing headers are set, /_stcore/metrics
    is not served, the sticky-session cookie is given."""
    expected = t1_expected(snapshots.newest(served["primary"]))
    assert expected == t1_expected(served["primary"])
    context = new_context(browser)
    try:
        page = context.new_page()
        response = page.goto(f"{served['base']}/tickets")
        assert response.status == 200 and response.headers["x-frame-options"] == "SAMEORIGIN"
        wait_for_app(page)
        assert page.get_by_text("Page not found").count() == 0
        assert page.locator("[data-testid='stException']").count() == 0
        assert metric_value(page, T1) == f"{expected:,}"
        cookies = {c["name"]: c for c in context.cookies()}
        assert "gov_replica" in cookies and re.fullmatch(r"[0-9a-f]{32}", cookies["gov_replica"]["value"])
        assert cookies["gov_replica"]["httpOnly"]
    finally:
        context.close()

    with urllib.request.urlopen(f"{served['base']}/", timeout=10) as r:
        assert r.status == 200
        assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in r.headers["Content-Security-Policy"]
        assert r.headers["Server"] == "nginx"          # it really went through the proxy
        assert "gov_replica=" in (r.headers["Set-Cookie"] or "")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{served['base']}/_stcore/metrics", timeout=10)
    assert err.value.code == 404
    # … while each process does answer it on its own port (so the 404 is the proxy's doing)
    for p in served["replicas"]:
        with urllib.request.urlopen(f"http://127.0.0.1:{p}/_stcore/metrics", timeout=10) as r:
            assert r.status == 200


def test_streamlit_bundles_come_from_nginx_not_the_processes(served):
    """/static/ (Streamlit's JavaScript, CSS and fonts) is answered by nginx from its own copy,
    compressed and cacheable, with the framing headers: it still answers with both dashboard
    processes stopped (SIGSTOP), and the bytes are the installed Streamlit's."""
    import gzip

    import streamlit

    static = Path(streamlit.__file__).resolve().parent / "static"
    chunk = re.search(r'src="\./(static/js/index\.[^"]+\.js)"', (static / "index.html").read_text()).group(1)
    pids = [pid for pid, cmd in descendants(served["proc"].pid).items() if "streamlit" in cmd]
    assert len(pids) == 2, pids
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        req = urllib.request.Request(f"{served['base']}/{chunk}", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.status == 200
            assert r.headers["Content-Encoding"] == "gzip"
            assert "immutable" in r.headers["Cache-Control"]
            assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
            assert r.headers["Content-Type"].startswith("application/javascript")
            body = gzip.decompress(r.read())
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    assert body == (static / chunk).read_bytes()


@pytest.mark.browser
def test_an_import_on_one_process_is_seen_by_the_other(served, browser, tmp_path):
    a, b = served["replicas"]
    primary = served["primary"]
    before_snaps = snapshots.listing(primary)
    newest = before_snaps[-1][1]
    before = t1_expected(newest)
    n = 57
    csv_path = load.write_ticket_csv(newest, tmp_path / "诉求-副本.csv", n, prefix="SRVA")

    context = new_context(browser)
    try:
        page_b = context.new_page()
        page_b.goto(f"http://127.0.0.1:{b}/tickets")
        wait_for_app(page_b)
        assert metric_value(page_b, T1) == f"{before:,}"

        times: dict = {}
        # its own Playwright and Chromium: in a thread, outside this test's Playwright event loop
        t = threading.Thread(target=load.import_in_browser, args=(f"http://127.0.0.1:{a}", csv_path, times, 180_000))
        t.start()
        t.join(300)
        assert not t.is_alive(), "the import in the browser did not finish"
        assert "error" not in times, times
        assert "done" in times

        after_snaps = snapshots.listing(primary)
        assert after_snaps[-1][0] > before_snaps[-1][0]          # a new snapshot was published
        assert after_snaps[-1][1].exists() and after_snaps[-1][1] != newest
        assert t1_expected(after_snaps[-1][1]) == before + n
        assert primary_state(primary)[0] == t1_count_all(newest) + n

        from playwright.sync_api import expect
        page_b.reload()
        wait_for_app(page_b)
        value = page_b.locator("[data-testid='stMetric']").filter(has_text=T1).first.locator(
            "[data-testid='stMetricValue']")
        expect(value).to_have_text(f"{before + n:,}", timeout=60_000)
    finally:
        context.close()


def t1_count_all(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM tickets").fetchone()[0]
    finally:
        con.close()


@pytest.mark.browser
def test_a_process_killed_mid_session(served, browser):
    """SIGKILL the process that serves an open page: the page goes on (on the other process),
    serve restarts the killed one, and both answer again."""
    ports = served["replicas"]
    newest = snapshots.newest(served["primary"])
    expected = t1_expected(newest)
    # the sessions of earlier tests' (closed) pages are gone first
    wait_until(lambda: sum(active_sessions(p) for p in ports) == 0, 30, "no open sessions")
    context = new_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{served['base']}/tickets")
        wait_for_app(page)
        assert metric_value(page, T1) == f"{expected:,}"
        counts = wait_until(lambda: (c := {p: active_sessions(p) for p in ports}) and sum(c.values()) == 1 and c,
                            30, "the page's session on one process")
        victim = next(p for p, c in counts.items() if c == 1)
        other = next(p for p in ports if p != victim)
        pid = replica_pid(served["proc"].pid, victim)
        log_before = served["log"].read_text()

        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not alive(pid), 10, "the killed process to be gone")
        # the page reconnects by itself (through nginx, to whichever process answers)
        wait_until(lambda: active_sessions(other) + active_sessions(victim) >= 1, 90,
                   "the page to reconnect to a dashboard process")
        wait_for_app(page, timeout=90_000)
        assert metric_value(page, T1) == f"{expected:,}"
        # and it is still usable: reload it, then open another period in the same tab (same cookie)
        page.reload()
        wait_for_app(page)
        assert page.locator("[data-testid='stException']").count() == 0
        assert metric_value(page, T1) == f"{expected:,}"
        last = last_month(newest)
        first = add_months(last, -2)
        page.goto(f"{served['base']}/tickets?from={fmt_month(first)}&to={fmt_month(last)}")
        wait_for_app(page)
        assert metric_value(page, T1) == f"{t1_expected(newest, first):,}"
        restarted = f"（端口 {victim}）已退出，正在重启。"
        wait_until(lambda: restarted in served["log"].read_text()[len(log_before):], 30,
                   "serve to report the restart")
        wait_until(lambda: all(healthy(p) for p in ports), 150, "both processes healthy again")
        new_pid = replica_pid(served["proc"].pid, victim)
        assert new_pid != pid
    finally:
        context.close()
    # the proxy still answers with both behind it
    with urllib.request.urlopen(f"{served['base']}/_stcore/health", timeout=10) as r:
        assert r.status == 200


def test_the_writer_killed_mid_import(served, tmp_path):
    primary = served["primary"]
    folder = snapshots.folder(primary)
    big = load.write_ticket_csv(snapshots.newest(primary), tmp_path / "诉求-大.csv", 300_000, prefix="BIG")
    state_before = primary_state(primary)
    files_before = snapshot_files(primary)

    proc = start_import(primary, big)
    time.sleep(1.5)
    assert proc.poll() is None, "the import finished (or failed) before it could be killed: " + proc.communicate()[1]
    os.kill(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert "已导入" not in out and "已发布" not in out

    assert primary_state(primary) == state_before          # nothing of the killed import is in the primary
    assert snapshot_files(primary) == files_before         # no snapshot published, none changed

    small = load.write_ticket_csv(snapshots.newest(primary), tmp_path / "诉求-小.csv", 25, prefix="AFTERKILL")
    done = subprocess.run([sys.executable, "-m", "governance", "import", str(small), "--table", "tickets",
                           "--db", str(primary)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "已发布只读快照" in done.stdout, done.stdout
    n, version = primary_state(primary)
    assert n == state_before[0] + 25 and version != state_before[1]
    after = snapshots.listing(primary)
    assert after[-1][1].name not in files_before
    assert t1_count_all(after[-1][1]) == n                  # the new snapshot holds the new tickets
    assert not [p.name for p in folder.iterdir() if p.name.startswith(snapshots.TMP_PREFIX)]
    assert len(after) <= snapshots.KEEP + 2                 # retention keeps up (open ones may linger)


# ------------------------------------------------------------------------------ no server

def _small_db(path: Path, rows: int = 1000) -> Path:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t AS SELECT range AS i, 'x' || range AS s FROM range(?)", [rows])
    con.execute("CHECKPOINT")
    con.close()
    return path


HOLD = """import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("SELECT count(*) FROM t").fetchone()[0], flush=True)
sys.stdin.readline()
con.close()
print("closed", flush=True)
sys.stdin.readline()
"""


def test_snapshot_retention(tmp_path):
    primary = _small_db(tmp_path / "small.duckdb")
    published = [snapshots.publish(primary) for _ in range(5)]
    assert [p.name for p in published] == [f"small-{i:06d}.duckdb" for i in range(1, 6)]
    assert [seq for seq, _ in snapshots.listing(primary)] == [3, 4, 5]
    assert not published[0].exists() and not published[1].exists()
    assert snapshots.newest(primary) == published[-1]

    oldest = published[2]          # small-000003, the oldest one kept
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(oldest)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "1000"        # it has the snapshot open
        assert snapshots.in_use(oldest)
        assert not snapshots.in_use(published[3])
        snapshots.publish(primary)                                # 6: 3 is past the last three but open
        assert [seq for seq, _ in snapshots.listing(primary)] == [3, 4, 5, 6]
        assert oldest.exists()
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "closed"       # closed, the process still alive
        assert holder.poll() is None and not snapshots.in_use(oldest)
        snapshots.publish(primary)                                # 7: now 3 and 4 go
        assert [seq for seq, _ in snapshots.listing(primary)] == [5, 6, 7]
        assert not oldest.exists()
    finally:
        holder.stdin.close()
        holder.wait(10)

    def half_then_fail(src, dst):
        data = Path(src).read_bytes()
        with open(dst, "wb") as f:
            f.write(data[: len(data) // 2])
        raise OSError("disk full (test)")

    names = sorted(p.name for p in snapshots.folder(primary).iterdir())
    with pytest.raises(OSError, match="disk full"):
        snapshots.publish(primary, copy=half_then_fail)
    assert sorted(p.name for p in snapshots.folder(primary).iterdir()) == names   # nothing new, no temporary
    assert snapshots.newest(primary).name == "small-000007.duckdb"
    assert snapshots.publish(primary).name == "small-000008.duckdb"                # and the next one works
    # a published snapshot is a complete database
    con = duckdb.connect(str(snapshots.newest(primary)), read_only=True)
    try:
        assert con.execute("SELECT count(*), sum(i) FROM t").fetchone() == (1000, sum(range(1000)))
    finally:
        con.close()


def test_stale_temporary_of_a_dead_writer_is_removed(tmp_path):
    primary = _small_db(tmp_path / "small.duckdb", rows=10)
    snapshots.publish(primary)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = snapshots.folder(primary) / f"{snapshots.TMP_PREFIX}{int(dead.stdout)}-000002.duckdb"
    stale.write_bytes(b"half a copy")
    snapshots.publish(primary)
    assert not stale.exists()
    assert [seq for seq, _ in snapshots.listing(primary)] == [1, 2]


def test_serve_without_nginx_prints_the_install_hint(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(serve, "find_nginx", lambda: None)
    primary = _small_db(tmp_path / "p.duckdb", rows=1)
    rc = serve.serve(2, serve.free_port(), primary)
    assert rc == 1
    out = capsys.readouterr().out
    assert "找不到 nginx" in out and "apt-get install nginx" in out and "--replicas 1" in out
    assert not snapshots.folder(primary).exists()              # nothing was started or published


def test_a_publish_after_a_write_rewrites_only_what_changed_in_the_oldest_snapshot(tmp_path):
    primary = _small_db(tmp_path / "small.duckdb", rows=3_000_000)
    for _ in range(3):
        snapshots.publish(primary)
    assert snapshots.last_publish["how"] == "full copy"   # fewer than three before: nothing to reuse
    oldest = snapshots.listing(primary)[0][1]
    con = duckdb.connect(str(primary))
    con.execute("INSERT INTO t SELECT range, 'y' || range FROM range(3000000, 3000100)")
    con.execute("CHECKPOINT")
    con.close()
    new = snapshots.publish(primary)
    assert snapshots.last_publish["how"] == "in place"
    assert 0 < snapshots.last_publish["written"] < primary.stat().st_size
    assert not oldest.exists() and new.name.endswith("-000004.duckdb")
    assert sha256(new) == sha256(primary)                     # byte for byte the primary
    assert [seq for seq, _ in snapshots.listing(primary)] == [2, 3, 4]

    # the oldest snapshot open in another process is never rewritten: a full copy instead
    held = snapshots.listing(primary)[0][1]
    before = sha256(held)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(held)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "3000000"   # snapshot 2: before the insert
        con = duckdb.connect(str(primary))
        con.execute("DELETE FROM t WHERE i < 10")
        con.execute("CHECKPOINT")
        con.close()
        new = snapshots.publish(primary)
        assert snapshots.last_publish["how"] == "full copy"  # the one retention would remove is open
        assert held.exists() and sha256(held) == before
        assert sha256(new) == sha256(primary)
        assert [seq for seq, _ in snapshots.listing(primary)] == [2, 3, 4, 5]
    finally:
        holder.stdin.close()
        holder.wait(10)


def test_a_bundle_copy_that_fails_half_way_is_removed(tmp_path, monkeypatch):
    """static_copy on a disk that fills up half-way: no copy, nginx asks the processes, and nothing
    of the half-made copy is left in the temporary folder."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    real = shutil.copytree

    def fills_up(src, dst, **kw):
        real(Path(src) / "js", Path(dst) / "js")          # part of the files arrive
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copytree", fills_up)
    assert serve.static_copy() is None
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(shutil, "copytree", real)
    folder = serve.static_copy()
    try:
        assert folder is not None and folder.parent == tmp_path and any((folder / "static" / "js").iterdir())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
