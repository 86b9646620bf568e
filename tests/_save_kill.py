"""Child process of tests/test_faults.py: the `yolo` command, SIGKILLed at one point of the run's atomic saves.

Usage: python _save_kill.py STEP NAME N yolo-args...

STEP 'write': when the temporary file of NAME (e.g. last.pt) has been written, before it is flushed and renamed.
STEP 'rename': just before the temporary file of NAME is renamed into place. N counts the occurrences in this process.
"""

import os
import signal
import sys


def main() -> None:
    """Patch the saves' flush and rename to SIGKILL this process at the N-th one of NAME, then run `yolo`."""
    step, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sys.argv = ["yolo", *sys.argv[4:]]

    import ultralytics_semseg.engine.checkpoints as checkpoints
    import ultralytics_semseg.utils.files as files

    seen = 0
    patched = type(os)("os")
    patched.__dict__.update(os.__dict__)

    def _count(target: str) -> None:
        nonlocal seen
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

    from ultralytics_semseg.cli import main as yolo_main

    yolo_main(sys.argv[1:])


if __name__ == "__main__":  # a script, not a test module: pytest's doctest collection imports it
    main()
