"""Files a run writes: atomic replacement, named disk-full errors, checkpoint integrity and the run-folder lock.

- `atomic_write_bytes` / `AtomicPath`: a file is written to a temporary file in its own folder, flushed to disk and
  renamed over the old one, so a kill at any moment leaves either the old file or the new one, never half of one.
- `disk_full`: turns "no space left" (ENOSPC, EDQUOT, and EFBIG from a file size limit) into a `DiskFullError` naming
  the file and what was being written.
- `checkpoint_problem` / `require_intact_checkpoint`: a truncated or unreadable `.pt` is a named error that lists the
  intact checkpoints beside it.
- `RunLock`: `<run folder>/.semseg.lock` names the run writing there (pid, host, command); a second run into the same
  folder refuses, naming it; the lock dies with its process, so a killed run leaves none that counts.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

_HELD: dict[str, RunLock] = {}  # run-folder locks this process holds, by lock file path
FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
TMP_SUFFIX = ".partial"


class DiskFullError(OSError):
    """No space left (or a file size limit reached) while writing a file of a run; the message names both."""


class CorruptCheckpointError(ValueError):
    """A checkpoint file that cannot be read (truncated by a kill or an interrupted copy); names the intact ones."""


class RunFolderBusyError(FileExistsError):
    """Another live run writes into the same run folder."""


def _tmp_path(path: Path) -> Path:
    """The temporary file beside `path` that `atomic_write_bytes` renames into place (hidden, pid-stamped)."""
    return path.with_name(f".{path.name}.{os.getpid()}{TMP_SUFFIX}")


@contextlib.contextmanager
def disk_full(path: str | Path, what: str, intact: str = "") -> Iterator[None]:
    """Within the block, an `OSError` for a full disk (or a file size limit) becomes a `DiskFullError`.

    Args:
        path (str | Path): The file being written.
        what (str): What it is, for the message, e.g. 'checkpoint' or 'results CSV'.
        intact (str): What is left as it was, e.g. 'the previous last.pt is intact'.

    Raises:
        DiskFullError: "no space left on the device of <folder> while writing the <what> <file> ...".
    """
    try:
        yield
    except DiskFullError:
        raise
    except OSError as e:
        if e.errno not in FULL_ERRNOS:
            raise
        path = Path(path)
        cause = "a file size limit (ulimit -f) was reached" if e.errno == errno.EFBIG else os.strerror(e.errno)
        err = DiskFullError(
            f"no space left on the device of {path.parent} while writing the {what} {path} ({cause})"
            f"{'; ' + intact if intact else ''}. Free some space there, or write the run elsewhere with project=..."
        )
        err.errno = e.errno
        raise err from None


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, flushed and renamed into place.

    On any error the temporary file is removed and `path` is left as it was.

    Examples:
        >>> import tempfile
        >>> f = Path(tempfile.mkdtemp()) / "last.pt"
        >>> atomic_write_bytes(f, b"new"); f.read_bytes()
        b'new'
    """
    path = Path(path)
    tmp = _tmp_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_output(path: str | Path, data: bytes, what: str, intact: str = "") -> None:
    """`atomic_write_bytes`, with a full disk raised as a `DiskFullError` that names the file and `what` it is.

    Raises:
        DiskFullError: When the disk is full (or a file size limit is reached); `path` is left as it was.
    """
    with disk_full(path, what, intact=intact):
        atomic_write_bytes(path, data)


class AtomicPath(type(Path())):
    """A `Path` whose `write_bytes` is `atomic_write_bytes`; paths joined to it (`p / 'x'`) are AtomicPaths too."""

    what = "checkpoint"

    def write_bytes(self, data: bytes) -> int:
        """Write `data` atomically (temporary file + rename); return the number of bytes written.

        Raises:
            DiskFullError: When the disk is full, naming this file; the file is left as it was.
        """
        intact = f"{self.name} is as it was before" if self.exists() else f"no {self.name} was written"
        write_output(self, data, self.what, intact=intact)
        return len(data)


def remove_stale_partials(folder: str | Path) -> list[Path]:
    """Remove temporary files of `atomic_write_bytes` left in `folder` by processes that are gone; return them."""
    removed = []
    for p in Path(folder).glob(f".*{TMP_SUFFIX}"):
        pid = p.name[: -len(TMP_SUFFIX)].rsplit(".", 1)[-1]
        if pid.isdigit() and not pid_alive(int(pid)):
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed


# Checkpoints ----------------------------------------------------------------------------------------------------------


def checkpoint_problem(path: str | Path) -> str | None:
    """Why a `.pt` file cannot be a complete checkpoint, or None (also for legacy non-zip files, which torch judges).

    PyTorch checkpoints are zip archives; a file cut short lacks the archive's central directory at its end, and a
    damaged one fails the CRC check of its records.

    Examples:
        >>> checkpoint_problem("runs/semseg/train/weights/last.pt")  # doctest: +SKIP
        'the file ends before the end of its zip archive (12582912 bytes; truncated)'
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as e:
        return f"cannot be read ({type(e).__name__}: {e})"
    if not size:
        return "the file is empty (0 bytes)"
    if head != b"PK\x03\x04":
        return None if head[:1] == b"\x80" else f"not a PyTorch checkpoint (its {size} bytes are no zip archive)"
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        return f"the file ends before the end of its zip archive ({size} bytes; truncated: {e})"
    return f"its record {bad} is damaged (CRC mismatch)" if bad else None


def intact_checkpoints(folder: str | Path, exclude: str | Path | None = None) -> list[Path]:
    """The complete `.pt` files of a weights folder (last.pt, best.pt, epochN.pt), newest first."""
    exclude = Path(exclude).resolve() if exclude else None
    files = [p for p in Path(folder).glob("*.pt") if p.resolve() != exclude and not p.name.startswith(".")]
    ok = [p for p in files if checkpoint_problem(p) is None]
    return sorted(ok, key=lambda p: p.stat().st_mtime, reverse=True)


def require_intact_checkpoint(path: str | Path) -> None:
    """Raise a `CorruptCheckpointError` naming the file, the problem and the intact checkpoints in its folder.

    Raises:
        CorruptCheckpointError: For a truncated, empty or damaged checkpoint file.
    """
    path = Path(path)
    problem = checkpoint_problem(path)
    if problem is None:
        return
    intact = intact_checkpoints(path.parent, exclude=path)
    if intact:
        when = [f"{p.name} ({time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(p.stat().st_mtime))})" for p in intact]
        hint = f"Intact checkpoints in {path.parent}, newest first: {', '.join(when)}. Use one, e.g. model={intact[0]}."
    else:
        hint = f"No other intact checkpoint in {path.parent}; copy the file again, or train anew."
    raise CorruptCheckpointError(f"{path}: truncated or corrupt checkpoint: {problem}. {hint}")


# Run-folder lock ------------------------------------------------------------------------------------------------------


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists on this machine (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    return True


class RunLock:
    """`<folder>/.semseg.lock`: which process writes into a run folder; a second live run there is refused.

    The lock file records the pid, host, start time and command of the run holding it. Where the OS has `flock`
    (Linux, macOS) the lock is an advisory lock on that file, which the kernel drops the moment its process ends, so a
    killed run never leaves it stale. Elsewhere the file's existence is the lock and its pid is checked for life: a
    lock of a process that is gone is taken over.

    Examples:
        >>> import tempfile
        >>> with RunLock(tempfile.mkdtemp()) as lock:
        ...     lock.owner()["pid"] == os.getpid()
        True
    """

    NAME = ".semseg.lock"

    def __init__(self, folder: str | Path):
        """Lock file path of `folder`; nothing is written until `acquire`."""
        self.folder = Path(folder)
        self.path = self.folder / self.NAME
        self.fd: int | None = None

    def owner(self) -> dict | None:
        """What the lock file says about the run holding it (None without a readable one)."""
        try:
            return json.loads(self.path.read_text() or "null")
        except (OSError, ValueError):
            return None

    def _busy(self, owner: dict | None) -> RunFolderBusyError:
        who = (
            f"pid {owner.get('pid')} on {owner.get('host')}, started {owner.get('started')} ({owner.get('command')})"
            if owner
            else "a process that has not written its name yet"
        )
        return RunFolderBusyError(
            f"{self.folder} is in use by another run: {who}. Two runs writing into one folder would mix their "
            f"checkpoints and results.csv. Wait for it to finish, give this run another name=..., or leave out "
            f"exist_ok=True to get a new folder. (Lock file: {self.path}; it is released when that run ends, also "
            f"when it is killed.)"
        )

    def acquire(self) -> RunLock:
        """Take the lock.

        Raises:
            RunFolderBusyError: If a live run holds it, naming its pid, host, start time and command.
        """
        import sys

        self.folder.mkdir(parents=True, exist_ok=True)
        earlier = _HELD.pop(str(self.path), None)
        if earlier is not None:  # this process's own earlier run there (e.g. one that failed while setting up)
            earlier.release()
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": " ".join(sys.argv)[:300],
        }
        try:
            import fcntl
        except ImportError:  # Windows: the file is the lock, its pid tells whether it is stale
            owner = self.owner()
            if owner and owner.get("pid") != os.getpid() and pid_alive(int(owner.get("pid", 0))):
                raise self._busy(owner) from None
            self.path.write_text(json.dumps(info))
            self.fd = -1
            _HELD[str(self.path)] = self
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise self._busy(self.owner()) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info).encode())
        self.fd = fd
        _HELD[str(self.path)] = self
        return self

    def release(self) -> None:
        """Drop the lock if this process holds it (the file stays, empty, so that no other run locks a stale copy)."""
        if self.fd is None:
            return
        if _HELD.get(str(self.path)) is self:
            del _HELD[str(self.path)]
        with contextlib.suppress(OSError):
            if self.fd >= 0:
                os.ftruncate(self.fd, 0)
                os.close(self.fd)
            else:
                self.path.unlink()
        self.fd = None

    def __enter__(self) -> RunLock:
        """Acquire."""
        return self.acquire()

    def __exit__(self, *exc) -> None:
        """Release."""
        self.release()
