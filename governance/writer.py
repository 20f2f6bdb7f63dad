"""One writer at a time for the primary database, and the hand-over of writes from dashboard processes.

With `python -m governance serve --replicas N`, dashboard processes read snapshots
(governance/snapshots.py) and never open the primary file. A write asked for on a page (import,
undo, demo removal, users, saved mappings, 每月一题) is handed to a short-lived writer: a
subprocess `python -m governance write-call --db PRIMARY` that reads the request from its stdin,
waits for the writer lock, opens the primary read-write, runs the same function the single-process
dashboard runs, checkpoints, closes, publishes a snapshot and answers on its stdout.

Why a subprocess per write rather than a long-lived writer serving a queue: nothing has to be kept
alive or supervised between writes (the primary file is closed whenever nobody writes); a writer
killed mid-import takes only its own uncommitted transaction with it and releases the lock as its
process ends; and a `python -m governance import …` typed by hand is the very same kind of writer,
taking the same lock (it waits its turn) and publishing the same way. The price is about a second
of start-up per write, small beside an import's checking.

The lock is an flock on `<primary>.writer.lock`; it is released by the kernel when its holder dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

from governance import db, snapshots

# the writes a dashboard process may hand over, by name (the request names one; nothing else runs)
OPS = {
    "import_file": ("governance.importer", "import_file"),
    "import_workbook": ("governance.importer", "import_workbook"),
    "undo": ("governance.importer", "undo"),
    "remove_demo_data": ("governance.importer", "remove_demo_data"),
    "save_mapping": ("governance.importer", "save_mapping"),
    "add_user": ("governance.access", "add_user"),
    "remove_user": ("governance.access", "remove_user"),
    "adopt": ("governance.problems", "adopt"),
    "close": ("governance.problems", "close"),
}
MAX_REQUEST_BYTES = 512 * 1024 * 1024   # an upload (server.maxUploadSize) plus its arguments
WRITE_TIMEOUT = 1800.0


def lock_path(primary: Path | str) -> Path:
    return Path(str(Path(primary).resolve()) + ".writer.lock")


@contextlib.contextmanager
def exclusive(primary: Path | str, on_wait=None, timeout: float | None = None):
    """Hold the writer lock of `primary` (waiting for another writer to finish; `on_wait()` is called
    once if it has to wait). Raises db.DatabaseError after `timeout` seconds of waiting."""
    path = lock_path(primary)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() > deadline:
                        raise db.DatabaseError(f"另一个写入（导入、撤销等）已进行超过 {timeout:.0f} 秒，本次写入未执行，请稍后重试。")
                    time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)   # closing the descriptor releases the flock


# --- serving marker: whether dashboard processes read snapshots of this primary right now ------

def marker(primary: Path | str) -> Path:
    return snapshots.folder(primary) / f"{Path(primary).stem}.serving"


def is_served(primary: Path | str) -> bool:
    """True while a `serve --replicas N` (N ≥ 2) reads snapshots of this primary."""
    try:
        pid = int(marker(primary).read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        return False
    return pid > 0 and Path(f"/proc/{pid}").exists()


def checkpoint_and_publish(con, primary: Path | str) -> Path:
    """After a committed write: make the file complete on its own, close it, publish a snapshot."""
    con.execute("CHECKPOINT")
    con.close()
    return snapshots.publish(primary)


# --- the dashboard's side: hand a write over ---------------------------------------------------

class WriterFailed(db.DatabaseError):
    pass


def call(primary: Path | str, op: str, *args, **kwargs):
    """Run the write `op` (a name in OPS) as `fn(con, *args, **kwargs)` in a writer subprocess on
    the primary; returns what the function returned, or raises what it raised, once the snapshot
    with the write in it is published."""
    if op not in OPS:
        raise ValueError(f"unknown write {op!r}")
    payload = pickle.dumps((op, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
    env = dict(os.environ)
    env["GOVERNANCE_DB"] = str(Path(primary).resolve())
    try:
        proc = subprocess.run([sys.executable, "-m", "governance", "write-call", "--db", str(primary)],
                              input=payload, capture_output=True, timeout=WRITE_TIMEOUT, cwd=db.ROOT, env=env)
    except subprocess.TimeoutExpired as exc:
        raise WriterFailed(f"写入超过 {WRITE_TIMEOUT / 60:.0f} 分钟没有完成，已停止；数据库未做任何修改。") from exc
    if proc.returncode != 0 or not proc.stdout:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise WriterFailed("写入进程意外退出，数据库未做任何修改" + ("：" + " ".join(tail)[-300:] if tail else "。"))
    status, value = pickle.loads(proc.stdout)
    if status == "error":
        raise value
    return value


# --- the writer's side: `python -m governance write-call --db PRIMARY` -------------------------

def _fresh_actor(con, actor):
    """A signed-in user's role and scope as the primary says now, not as their session remembers."""
    from governance import access

    if not isinstance(actor, access.Actor) or actor.mode != "login":
        return actor
    user = access.find_user(con, actor.email)
    if user is None:
        raise access.AccessError("您的账号已不在用户名单中，本次写入未执行。")
    return access.actor_for(user, mode="login")


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return db.DatabaseError(str(exc))


def _lighten(value):
    """What the page needs of an import's reports, without the parsed rows (it shows only counts)."""
    if isinstance(value, tuple):
        return tuple(_lighten(v) for v in value)
    for r in getattr(value, "reports", None) or []:
        _lighten(r)
    if hasattr(value, "rows") and not isinstance(value, type):
        try:
            value.rows = None
        except AttributeError:
            pass
    return value


def serve_request(primary: Path | str, stdin, stdout) -> int:
    """Read one request from `stdin`, run it under the writer lock, answer on `stdout`."""
    import importlib

    data = stdin.read(MAX_REQUEST_BYTES + 1)
    if len(data) > MAX_REQUEST_BYTES:
        print("写入请求过大，未执行。", file=sys.stderr)
        return 2
    op, args, kwargs = pickle.loads(data)   # from the dashboard process that started us (same user, same machine)
    if op not in OPS:
        print(f"未知的写入 {op!r}，未执行。", file=sys.stderr)
        return 2
    module, name = OPS[op]
    fn = getattr(importlib.import_module(module), name)
    try:
        with exclusive(primary, timeout=WRITE_TIMEOUT):
            con = db.connect(primary)
            try:
                args = tuple(_fresh_actor(con, a) for a in args)
                kwargs = {k: _fresh_actor(con, v) for k, v in kwargs.items()}
                result = fn(con, *args, **kwargs)
            except BaseException:
                con.close()
                raise
            if kwargs.get("dry_run"):
                con.close()
            else:
                checkpoint_and_publish(con, primary)
        answer = ("ok", _lighten(result))
    except Exception as exc:   # the function's own refusals (AccessError, ImportRefused, …) go back as they are
        answer = ("error", _picklable(exc))
    stdout.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
    stdout.flush()
    return 0


def write_call_main(primary: Path | str) -> int:
    out = sys.stdout.buffer
    sys.stdout = io.TextIOWrapper(sys.stderr.buffer, encoding="utf-8", line_buffering=True)  # prints go to stderr
    return serve_request(primary, sys.stdin.buffer, out)
