"""`python -m governance serve --replicas N [--port 8501] [--db PATH] [--address ADDR]`.

One Streamlit server is one Python process and uses about one core. With N ≥ 2 this starts:
- the primary database checked (the demo one built if it is the default and missing) and a first
  read-only snapshot published (governance/snapshots.py);
- N `streamlit run app.py` processes on free loopback ports, each reading the newest snapshot and
  handing writes to the writer (governance/writer.py), all with the same server cookie secret (so a
  session moved to another process keeps its XSRF cookie; sign-in's own cookie_secret comes from the
  shared .streamlit/secrets.toml);
- Debian's nginx on the public port: websocket proxying, sticky sessions (a `gov_replica` cookie
  hashed onto the processes), headers that stop other sites from framing the pages, Streamlit's own
  JavaScript bundles served by nginx from a copy on disk (compressed, cached by the browser), not by
  the processes running the pages, /_stcore/metrics not served;
- a watch loop: every process's /_stcore/health is polled; a process that dies or stops answering
  is taken out of nginx and restarted, and put back once it answers again.
Ctrl-C or SIGTERM stops everything it started. `--replicas 1` runs `streamlit run app.py` as it is,
without nginx or snapshots.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from governance import db, snapshots, writer

HEALTH_EVERY = 2.0
COOKIE = "gov_replica"
NGINX_HINT = ("找不到 nginx。多进程模式（--replicas 2 及以上）用 nginx 把访问分给各个看板进程，请先安装："
              "Debian/Ubuntu 上运行 sudo apt-get install nginx-light（或 nginx），然后重试；"
              "也可以用 --replicas 1 以单进程方式启动。")


def say(message: str) -> None:
    """serve's messages, flushed at once: its stdout is often a pipe or a file (systemd's journal, a
    log, `| tee`), where print alone would hold the ready line back in Python's buffer."""
    print(message, flush=True)


def find_nginx() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None)


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _upload_mb() -> int:
    import tomllib

    try:
        cfg = tomllib.loads((db.ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
        return int(cfg.get("server", {}).get("maxUploadSize", 200))
    except Exception:
        return 200


def static_copy() -> Path | None:
    """A copy of Streamlit's own JavaScript, CSS and fonts (its `static/static` folder) that nginx can
    serve itself, in a world-readable temporary folder: started as root, nginx's workers run as
    `nobody`, who cannot read a Python installed under /root. None if it cannot be made (nginx then
    asks the processes, as before)."""
    import streamlit

    source = Path(streamlit.__file__).resolve().parent / "static" / "static"
    folder = None
    try:
        folder = Path(tempfile.mkdtemp(prefix="governance-static-"))
        folder.chmod(0o755)
        shutil.copytree(source, folder / "static")
        for d, _, files in os.walk(folder):
            os.chmod(d, 0o755)
            for f in files:
                os.chmod(os.path.join(d, f), 0o644)
        return folder
    except OSError:
        if folder is not None:   # a copy that failed half-way (a full disk) is not left behind
            shutil.rmtree(folder, ignore_errors=True)
        return None


def nginx_config(run_dir: Path, address: str, port: int, backends: list[int], static_dir: Path | None = None) -> str:
    """The nginx configuration: `backends` are the loopback ports of the processes that answer now.
    With `static_dir` (see static_copy), nginx serves Streamlit's bundles (/static/: content-hashed
    names, about 130 files and 9 MB for a fresh browser) from disk, compressed, instead of every
    browser of a class asking the Python processes that run the pages."""
    listen = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=3s;" for p in backends)
    temp = "\n".join(f"    {kind}_temp_path {run_dir / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    headers = ("        add_header X-Frame-Options SAMEORIGIN always;\n"
               "        add_header Content-Security-Policy \"frame-ancestors 'self'\" always;\n"
               "        add_header X-Content-Type-Options nosniff always;\n"
               "        add_header Referrer-Policy same-origin always;\n")
    static = "" if static_dir is None else f"""        location /static/ {{
            alias {static_dir}/static/;
            # add_header in a location replaces the server's: the same headers again, and the names
            # are content-hashed, so a browser keeps them
{headers.replace("        add_header", "            add_header")}            add_header Cache-Control "public, max-age=31536000, immutable" always;
        }}
"""
    return f"""# written by python -m governance serve; regenerated when a process goes or comes back
worker_processes 1;
pid {run_dir / 'nginx.pid'};
error_log {run_dir / 'nginx-error.log'} warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temp}
    types {{ text/html html; text/css css; application/javascript js mjs; application/json json;
            image/svg+xml svg; image/png png; image/gif gif; font/woff2 woff2; }}
    server_tokens off;
    client_max_body_size {_upload_mb() + 2}m;
    gzip on;
    gzip_min_length 1024;
    gzip_types text/css application/javascript application/json image/svg+xml;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
    # sticky sessions: a browser without the cookie gets a random key, kept in the cookie; the key
    # is hashed onto the processes (consistent hashing: a process going away moves only its own)
    map $cookie_{COOKIE} $gov_route {{ '' $request_id; default $cookie_{COOKIE}; }}
    map $cookie_{COOKIE} $gov_set_cookie {{ '' '{COOKIE}=$request_id; Path=/; HttpOnly; SameSite=Lax'; default ''; }}
    upstream dashboard {{
        hash $gov_route consistent;
{servers}
        keepalive 16;
    }}
    server {{
        listen {listen};
{headers}        add_header Set-Cookie $gov_set_cookie always;
        location = /_stcore/metrics {{ return 404; }}
{static}        location / {{
            proxy_pass http://dashboard;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 1d;
            proxy_send_timeout 1d;
            proxy_next_upstream error timeout http_502 http_503 http_504;
            proxy_connect_timeout 3s;
            # stream bodies both ways instead of spooling them to temporary files (an upload goes
            # straight to its process; nginx's workers may not be able to write the run folder)
            proxy_request_buffering off;
            proxy_max_temp_file_size 0;
        }}
    }}
}}
"""


def _healthy(port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=timeout) as r:
            return r.status == 200
    except OSError:
        return False


def cookie_secret(primary: Path) -> str:
    """One server cookie secret for every process of this database, kept across restarts."""
    path = snapshots.folder(primary) / f"{primary.stem}.cookie_secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def prepare_primary(primary: Path, log=print) -> Path:
    """Check (or build, for the default demo database) the primary and publish a first snapshot."""
    from governance.demo import build_demo_database

    with writer.exclusive(primary, on_wait=lambda: log("另一个写入正在进行，等待它结束……")):
        if not primary.exists():
            if not db.is_default_path(primary):
                raise db.DatabaseError(f"找不到数据库文件 {primary}。请检查路径，或用 python -m governance demo --db 路径 生成演示数据库。")
            log(f"首次启动：正在生成演示数据库 {primary}（约需几秒）……")
            build_demo_database(primary)
        con = db.connect(primary)   # schema, default settings, fresh rollups
        snapshots.remove_stale_temporaries(primary)
        started = time.monotonic()
        snap = writer.checkpoint_and_publish(con, primary)
        log(f"已发布只读快照 {snap.name}（{snap.stat().st_size / 1e6:,.0f} MB，{time.monotonic() - started:.1f} 秒）")
    return snap


class Replica:
    def __init__(self, index: int, port: int, cmd: list[str], env: dict, log_path: Path):
        self.index, self.port, self.cmd, self.env, self.log_path = index, port, cmd, env, log_path
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def start(self) -> None:
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.cmd, cwd=db.ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        self.started = time.monotonic()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def streamlit_cmd(port: int, address: str, extra: list[str] | None = None) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(db.ROOT / "app.py"), "--server.port", str(port),
            "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false",
            *(extra or [])]


def serve(replicas: int, port: int, primary: Path, address: str = "127.0.0.1", log=say,
          run_dir: Path | None = None) -> int:
    primary = Path(primary).resolve()
    if replicas < 1:
        log("--replicas 至少为 1。")
        return 2
    if replicas == 1:   # exactly `streamlit run app.py`, on this database
        env = {**os.environ, "GOVERNANCE_DB": str(primary)}
        env.pop("GOVERNANCE_READ_SNAPSHOTS", None)
        cmd = streamlit_cmd(port, address)
        os.execve(cmd[0], cmd, env)
    nginx = find_nginx()
    if nginx is None:
        log(NGINX_HINT)
        return 1
    own_run_dir = run_dir is None
    run_dir = Path(run_dir or tempfile.mkdtemp(prefix="governance-serve-"))
    run_dir.mkdir(parents=True, exist_ok=True)
    prepare_primary(primary, log)
    mark = writer.marker(primary)
    mark.write_text(str(os.getpid()))

    secret = cookie_secret(primary)
    env = {**os.environ, "GOVERNANCE_DB": str(primary), "GOVERNANCE_READ_SNAPSHOTS": "1",
           "GOVERNANCE_PUBLIC_ADDRESS": address, "STREAMLIT_SERVER_COOKIE_SECRET": secret}
    reps = []
    for i in range(replicas):
        p = free_port()
        reps.append(Replica(i, p, streamlit_cmd(p, "127.0.0.1"), env,
                            run_dir / f"replica-{i + 1}.log"))
    stopping = {"flag": False}

    def stop(signum=None, frame=None):
        stopping["flag"] = True

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    nginx_proc = None
    static_dir = None
    conf = run_dir / "nginx.conf"
    try:
        for r in reps:
            r.start()
        static_dir = static_copy()
        deadline = time.monotonic() + 120
        while not all(_healthy(r.port) for r in reps):
            if stopping["flag"]:
                return 0
            dead = [r for r in reps if not r.alive()]
            if dead or time.monotonic() > deadline:
                bad = dead[0] if dead else reps[0]
                tail = bad.log_path.read_text(encoding="utf-8", errors="replace")[-600:] if bad.log_path.exists() else ""
                log(f"看板进程未能启动：{tail}")
                return 1
            time.sleep(0.3)
        up = [r.port for r in reps]
        conf.write_text(nginx_config(run_dir, address, port, up, static_dir))
        nginx_proc = subprocess.Popen([nginx, "-p", str(run_dir), "-c", str(conf), "-e", str(run_dir / "nginx-error.log"),
                                       "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      start_new_session=True)
        time.sleep(0.5)
        if nginx_proc.poll() is not None:
            log("nginx 未能启动：" + nginx_proc.stderr.read().decode("utf-8", "replace")[-400:])
            return 1
        shown = "localhost" if address in ("127.0.0.1", "::1") else address
        log(f"看板已启动：http://{shown}:{port}/ （{replicas} 个看板进程：端口 {'、'.join(map(str, up))}；"
            f"nginx；数据库 {primary}；按 Ctrl-C 停止）")
        while not stopping["flag"]:
            time.sleep(HEALTH_EVERY)
            if nginx_proc.poll() is not None:
                log("nginx 意外退出，正在停止所有看板进程。")
                return 1
            now = []
            for r in reps:
                if not r.alive():
                    log(f"看板进程 {r.index + 1}（端口 {r.port}）已退出，正在重启。")
                    r.start()
                elif _healthy(r.port):
                    now.append(r.port)
                elif time.monotonic() - r.started > 120:
                    log(f"看板进程 {r.index + 1}（端口 {r.port}）不再响应 /_stcore/health，正在重启。")
                    r.stop()
                    r.start()
            if now and now != up:
                up = now
                conf.write_text(nginx_config(run_dir, address, port, up, static_dir))
                os.kill(nginx_proc.pid, signal.SIGHUP)   # reload: the processes answering now
        return 0
    finally:
        if nginx_proc is not None and nginx_proc.poll() is None:
            nginx_proc.terminate()
            try:
                nginx_proc.wait(10)
            except subprocess.TimeoutExpired:
                nginx_proc.kill()
        for r in reps:
            r.stop()
        try:
            if mark.read_text().strip() == str(os.getpid()):
                mark.unlink()
        except FileNotFoundError:
            pass
        for s, h in old.items():
            signal.signal(s, h)
        if own_run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)
        if static_dir is not None:
            shutil.rmtree(static_dir, ignore_errors=True)
        log("已停止。")
