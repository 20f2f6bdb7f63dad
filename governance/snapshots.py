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
has open read-only, so a file whose write lock can be taken is open nowhere). The oldest one, instead
of being removed, becomes the next snapshot: renamed to a temporary name and brought up to date in
place, writing only the pieces that changed (a full copy of the province database is 1.3 GB).
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


def _fsync_file(path: Path) -> int:
    """fsync a file or folder; returns its size."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return path.stat().st_size


def _fsync_dir(d: Path) -> None:
    _fsync_file(d)


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


CHUNK = 1 << 20


def update_in_place(src: Path, dst: Path) -> int:
    """Make `dst` byte-identical to `src` by rewriting only the 1 MB pieces that differ (an import
    changes a few percent of a DuckDB file: 61 of 1,172 MB for 100,000 tickets into the province
    database), then fsync it. Returns the bytes written."""
    written = 0
    with open(src, "rb") as fs, open(dst, "r+b") as fd:
        offset = 0
        while True:
            new = fs.read(CHUNK)
            if not new:
                break
            fd.seek(offset)
            if fd.read(len(new)) != new:
                fd.seek(offset)
                fd.write(new)
                written += len(new)
            offset += len(new)
        fd.truncate(offset)
        fd.flush()
        os.fsync(fd.fileno())
    return written


def _full_copy(src: Path, dst: Path) -> int:
    shutil.copyfile(src, dst)
    return _fsync_file(dst)


def _recyclable(primary: Path, keep: int, tmp: Path) -> bool:
    """Turn the oldest snapshot that retention would remove anyway into `tmp` (renamed first, so no
    reader can open it any more, then checked for readers that opened it before); False if none."""
    snaps = listing(primary)
    if keep <= 0 or len(snaps) < keep:
        return False
    for _, old in snaps[:len(snaps) - keep + 1]:
        if in_use(old):
            continue
        try:
            os.rename(old, tmp)
        except FileNotFoundError:
            continue
        if in_use(tmp):    # a reader opened it between the check and the rename: leave it as it was
            os.rename(tmp, old)
            continue
        return True
    return False


last_publish: dict = {}   # how the last publish went (for the benchmark and the log)


def publish(primary: Path | str, keep: int = KEEP, copy=None) -> Path:
    """Publish the (checkpointed, closed) primary file as the next snapshot and remove old snapshots
    nobody reads. The caller holds the writer lock. Returns the new snapshot's path. If the copy
    fails, nothing is published and the error is raised.

    The new snapshot is the oldest one retention would remove (when no process has it open), brought
    up to date in place under a temporary name, so only what changed since is written; otherwise (or
    with `copy`, a function(src, dst)) a full copy."""
    primary = Path(primary).resolve()
    d = folder(primary)
    d.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(primary)
    snaps = listing(primary)
    seq = (snaps[-1][0] + 1) if snaps else 1
    tmp = d / f"{TMP_PREFIX}{os.getpid()}-{seq:06d}.duckdb"
    final = d / f"{primary.stem}-{seq:06d}.duckdb"
    started = time.monotonic()
    try:
        if copy is None and _recyclable(primary, keep, tmp):
            how, written = "in place", update_in_place(primary, tmp)
        elif copy is None:
            how, written = "full copy", _full_copy(primary, tmp)
        else:
            copy(primary, tmp)
            how, written = "full copy", _fsync_file(tmp)
        os.rename(tmp, final)
        _fsync_dir(d)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    last_publish.update(how=how, written=written, seconds=time.monotonic() - started, path=final)
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

