"""Child process of tests/test_faults.py: the `yolo` command, SIGKILLed at one point of the run's atomic saves.

Usage: python _save_kill.py STEP NAME N yolo-args...

STEP 'write': when the temporary file of NAME (e.g. last.pt) has been written, before it is flushed and renamed.
STEP 'rename': just before the temporary file of NAME is renamed into place. N counts the occurrences in this process.
"""

import os
import signal
import sys

step, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.argv = ["yolo", *sys.argv[4:]]

import ultralytics_semseg.engine.checkpoints as checkpoints  # noqa: E402
import ultralytics_semseg.utils.files as files  # noqa: E402

seen = 0
patched = type(os)("os")
patched.__dict__.update(os.__dict__)


def _count(target: str) -> None:
    global seen
    if os.path.basename(target).startswith(f".{name}.") or os.path.basename(target) == name:
        seen += 1
        if seen == n:
            os.kill(os.getpid(), signal.SIGKILL)


def fsync(fd):
    if step == "write":
        _count(os.readlink(f"/proc/self/fd/{fd}"))
    return os.fsync(fd)


def replace(src, dst):
    if step == "rename":
        _count(str(dst))
    return os.replace(src, dst)


patched.fsync, patched.replace = fsync, replace
checkpoints.os = files.os = patched  # the modules whose saves rename and flush

from ultralytics_semseg.cli import main  # noqa: E402

main(sys.argv[1:])
