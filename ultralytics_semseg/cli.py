"""The command line: `yolo semseg ...` errors as one clean block, and the `yolo-semseg` / `python -m` entry points.

The start-up hook wraps Ultralytics' `entrypoint` (the `yolo` command) so that it calls `run` below. A user mistake
in a semseg run (a missing or malformed file, a wrong model name, a dataset without usable images: any `OSError`,
`ValueError` or `SyntaxError`, also when Ultralytics wraps it in a `RuntimeError`) ends with one error block on
stderr and exit status 1, without a Python traceback; set `YOLO_SEMSEG_DEBUG=1` to get the traceback. Other tasks'
runs and programming errors (`TypeError`, `AttributeError`, ...) keep Ultralytics' behaviour. The Python API is not
affected: it raises the exception, with the same message.

`yolo-semseg` and `python -m ultralytics_semseg` run the same command line where `.pth` files are not processed (e.g.
`python -S`, some embedded interpreters).

Examples:
    $ python -m ultralytics_semseg semseg train data=synthetic-streets.yaml epochs=3 imgsz=256
    $ yolo-semseg semseg predict model=runs/semseg/train/weights/best.pt source=street.jpg
    $ YOLO_SEMSEG_DEBUG=1 yolo semseg train data=broken.yaml  # full traceback
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

from _ultralytics_semseg_hook import DEBUG_ENV, debug, semseg_requested

# Exception types that mean "the input is wrong", not "the code is wrong"
USER_ERRORS = (OSError, ValueError, SyntaxError, LookupError)


def _chain(e: BaseException) -> list[BaseException]:
    """The exception and the ones it was raised from or during, outermost first."""
    out = []
    while e is not None and e not in out:
        out.append(e)
        e = e.__cause__ or e.__context__
    return out


def _from_semseg(e: BaseException) -> bool:
    """True if the task's code is in the traceback of `e` or of an exception it chains.

    This module and `registry` do not count: their wrappers sit in the call chain of every task's runs.
    """
    package = Path(__file__).parent
    wrappers = {str(package / "cli.py"), str(package / "registry.py")}
    for x in _chain(e):
        tb = x.__traceback__
        while tb is not None:
            f = tb.tb_frame.f_code.co_filename
            if f.startswith(str(package)) and f not in wrappers:
                return True
            tb = tb.tb_next
    return False


def is_user_error(e: BaseException, argv: list[str] | None = None) -> bool:
    """True for a user mistake in a semseg run: printed as an error block instead of a traceback."""
    argv = sys.argv[1:] if argv is None else argv
    semseg = semseg_requested(argv) or _from_semseg(e)
    return semseg and any(isinstance(x, USER_ERRORS) for x in _chain(e))


def error_block(e: BaseException) -> str:
    """What the user sees: the message of the outermost exception (which names the file and the fix)."""
    msg = str(e).strip() or repr(e)
    if isinstance(e, KeyError) and len(e.args) == 1:
        msg = str(e.args[0])
    lines = msg.splitlines()
    body = "\n".join(["  " + x if i else x for i, x in enumerate(lines)])
    return f"semseg error: {body}\n  (run again with {DEBUG_ENV}=1 for the Python traceback)\n"


def with_default_source(argv: list[str]) -> list[str]:
    """`argv` of a `yolo semseg predict` without `source=` plus the task's default source (`default_predict_source`).

    Ultralytics' default, its bus.jpg and zidane.jpg, are photos that the task's default model has never seen;
    other commands are returned unchanged.
    """
    if not semseg_requested(argv) or not {"predict", "mode=predict"} & set(argv):
        return argv
    if any(a.startswith("source=") for a in argv):
        return argv
    from ultralytics.utils import LOGGER

    from ultralytics_semseg.cfg import default_predict_source

    source = default_predict_source()
    LOGGER.warning(f"'source' argument is missing. Using the built-in dataset's validation images 'source={source}'.")
    return [*argv, f"source={source}"]


def run(entrypoint: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call Ultralytics' `entrypoint`, turning a semseg user error into an error block and exit status 1.

    A `yolo semseg predict` without `source=` gets the task's default source first (`with_default_source`; a
    command line passed as `entrypoint(debug="yolo ...")` is left as it is).
    """
    try:
        if not (kwargs.get("debug") or args):
            sys.argv[1:] = with_default_source(sys.argv[1:])
        return entrypoint(*args, **kwargs)
    except Exception as e:
        if debug() or not is_user_error(e):
            raise
        sys.stdout.flush()
        sys.stderr.write(error_block(e))
        raise SystemExit(1) from None


def main(argv: list[str] | None = None) -> None:
    """Register the task, then run Ultralytics' (wrapped) `entrypoint` on `argv` (default: `sys.argv[1:]`)."""
    import ultralytics_semseg

    ultralytics_semseg.register()
    import ultralytics.cfg  # the hook adds `semseg` to its task tables and wraps `entrypoint`

    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    ultralytics.cfg.entrypoint()


if __name__ == "__main__":
    main()
