"""Read-only snapshots of the primary database, for several dashboard processes at once.

A DuckDB file is opened either by one read-write process or by many read-only ones. With
`python -m governance serve --replicas N`, the primary file (data/governance.duckdb) is opened only
by the writer of the moment (governance/writer.py); after each committed write the writer publishes
a copy here, and every dashboard process reads the newest copy read-only.

Publishing: CHECKPOINT and close the primary (the writer does), copy it to a temporary name in the
snapshots folder, fsync, rename it atomically to `<stem>-<sequence>.duckdb`, fsync the folder. A
reader lists the folder and opens the highest sequence: a name without the temporary prefix is
always a complete file, so a copy that failed half-way is never seen. The last KEEP snapshots are
kept; older ones are removed once no process has them open (DuckDB holds a read lock on a file it
has open read-only, so a file whose write lock can be taken is open nowhere).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
from pathlib import Path

KEEP = 3
TMP_PREFIX = ".tmp-"


def folder(primary: Path | str) -> Path:
    """Where the snapshots of `primary` live: a `snapshots` folder beside it."""
    return Path(primary).resolve().parent / "snapshots"


def _pattern(primary: Path | str) -> re.Pattern:
    return re.compile(re.escape(Path(primary).stem) + r"-(\d{6,})\.duckdb$")


def listing(primary: Path | str) -> list[tuple[int, Path]]:
    """(sequence, path) of every published snapshot of `primary`, oldest first."""
    d = folder(primary)
    pat = _pattern(primary)
    try:
        names = os.listdir(d)
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        m = pat.match(name)
        if m:
            found.append((int(m.group(1)), d / name))
    return sorted(found)


def newest(primary: Path | str) -> Path | None:
    snaps = listing(primary)
    return snaps[-1][1] if snaps else None


def in_use(path: Path) -> bool:
    """True if some process has `path` open in DuckDB (it holds a lock we cannot take)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temporaries(primary: Path | str) -> list[Path]:
    """Temporary copies left by a writer that died mid-copy (its process is gone)."""
    d = folder(primary)
    gone = []
    if not d.is_dir():
        return gone
    for p in d.iterdir():
        if not p.name.startswith(TMP_PREFIX):
            continue
        m = re.match(re.escape(TMP_PREFIX) + r"(\d+)-", p.name)
        pid = int(m.group(1)) if m else None
        if pid is not None and pid != os.getpid() and Path(f"/proc/{pid}").exists():
            continue   # another writer's copy in progress (cannot happen under the writer lock, but never remove it)
        p.unlink(missing_ok=True)
        gone.append(p)
    return gone


def publish(primary: Path | str, keep: int = KEEP, copy=shutil.copyfile) -> Path:
    """Copy the (checkpointed, closed) primary file into the snapshots folder under the next
    sequence number and remove old snapshots nobody reads. The caller holds the writer lock.
    Returns the new snapshot's path. If the copy fails, nothing is published and the error is raised."""
    primary = Path(primary).resolve()
    d = folder(primary)
    d.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(primary)
    snaps = listing(primary)
    seq = (snaps[-1][0] + 1) if snaps else 1
    tmp = d / f"{TMP_PREFIX}{os.getpid()}-{seq:06d}.duckdb"
    final = d / f"{primary.stem}-{seq:06d}.duckdb"
    try:
        copy(primary, tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, final)
        _fsync_dir(d)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    prune(primary, keep)
    return final


def prune(primary: Path | str, keep: int = KEEP) -> list[Path]:
    """Remove snapshots older than the newest `keep` that no process has open; returns the removed."""
    removed = []
    snaps = listing(primary)
    for _, path in snaps[:-keep] if keep > 0 else snaps:
        if in_use(path):
            continue
        path.unlink(missing_ok=True)
        Path(str(path) + ".wal").unlink(missing_ok=True)
        removed.append(path)
    return removed


def wait_for_newer(primary: Path | str, than: Path | None, timeout: float = 30.0) -> Path | None:
    """The newest snapshot once it is newer than `than` (or None at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        now = newest(primary)
        if now is not None and now != than:
            return now
        if time.monotonic() > deadline:
            return None
        time.sleep(0.1)
