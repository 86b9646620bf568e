"""Start-up hook of ultralytics-semseg: registers the `semseg` task the moment Ultralytics is imported.

Ultralytics has no plug-in discovery, so the wheel ships `ultralytics_semseg.pth`, whose one line imports this module
at interpreter start. It must cost next to nothing there: it imports no module (`sys` is loaded already), defines a
finder and puts it first on `sys.meta_path`. The plug-in package itself is imported only when one of the Ultralytics
modules in `TARGETS` has run its own body; then the function named there in `ultralytics_semseg.registry` patches it.

Whatever goes wrong in the plug-in (a syntax or import error in any of its modules, a patch that no longer fits an
Ultralytics release, a hook target that moved) is reported once per process on stderr, naming the file and line, and
switches the plug-in off: Ultralytics and its other tasks keep working, and `yolo semseg ...` says that the semseg
plug-in failed to load. The module lives outside the `ultralytics_semseg` package so that it still works when that
package is broken.
"""

import sys

# Ultralytics module -> function of ultralytics_semseg.registry that patches it right after its body has run
TARGETS = {
    "ultralytics.cfg": "patch_cfg",
    "ultralytics.nn.tasks": "patch_tasks",
    "ultralytics.utils.callbacks.base": "patch_callbacks",
    "ultralytics.engine.exporter": "patch_exporter",
    "ultralytics.engine.model": "patch_model",
    "ultralytics.models.yolo.model": "patch_yolo",
}
# Modules that `python -m` runs as __main__ (runpy executes a code object, no exec_module) -> function of the registry
# that returns the code to run instead (Ultralytics' tuner starts its trials with `python -m ultralytics.cfg.__init__`)
MAIN_TARGETS = {"ultralytics.cfg.__init__": "cfg_main_code"}
DEBUG_ENV = "YOLO_SEMSEG_DEBUG"  # set to 1 for full tracebacks instead of one-line error blocks

_done = set()  # targets already handled in this process
_busy = set()  # targets being looked up by the other finders (re-entrancy guard)
error = None  # the first failure of the plug-in in this process, as a one-line message; None while all is well


def _location(e):
    """'file, line N' of an exception: the offending line of a SyntaxError, else the deepest frame of the plug-in."""
    if isinstance(e, SyntaxError) and e.filename:
        return f"{e.filename}, line {e.lineno}"
    import traceback

    frames = traceback.extract_tb(e.__traceback__)
    ours = [f for f in frames if "ultralytics_semseg" in f.filename] or frames
    return f"{ours[-1].filename}, line {ours[-1].lineno}" if ours else "unknown location"


def fail(e, what="load"):
    """Record and report the first failure of the plug-in (later ones are consequences of it and stay silent)."""
    global error
    if error is not None:
        return
    msg = e.msg if isinstance(e, SyntaxError) else e  # str(SyntaxError) repeats a shortened location
    error = f"{type(e).__name__}: {msg} ({_location(e)})"
    sys.stderr.write(
        f"ultralytics-semseg: the semseg plug-in failed to {what}, the 'semseg' task is unavailable and the other "
        f"tasks are unaffected.\n  {error}\n  Fix or reinstall the package (pip install --force-reinstall "
        f"ultralytics-semseg); set {DEBUG_ENV}=1 for the full traceback.\n"
    )
    if debug():
        import traceback

        traceback.print_exception(type(e), e, e.__traceback__)


def debug():
    """True when `YOLO_SEMSEG_DEBUG` asks for full tracebacks."""
    import os

    return os.environ.get(DEBUG_ENV, "").lower() in {"1", "true", "yes", "on"}


def apply(name):
    """Patch the freshly executed Ultralytics module `name` (once), recording any failure instead of raising."""
    if name in _done or name not in TARGETS:
        return
    _done.add(name)
    module = sys.modules[name]
    if name == "ultralytics.cfg":
        module.entrypoint = _wrap_entrypoint(module.entrypoint)
    if error is not None:
        return
    try:
        from ultralytics_semseg import registry

        getattr(registry, TARGETS[name])(module)
    except Exception as e:  # a broken plug-in must never break Ultralytics
        fail(e, "load" if isinstance(e, (ImportError, SyntaxError)) else f"register with {name}")
    if name == "ultralytics.models.yolo.model":  # Ultralytics is fully imported now
        check_targets()


def check_targets():
    """Report a hook target that this Ultralytics release does not have (its patch would otherwise never run)."""
    if error is not None:
        return
    import importlib.util

    for name in TARGETS:
        if name not in _done and name not in sys.modules and importlib.util.find_spec(name) is None:
            fail(ModuleNotFoundError(f"hook target module '{name}' not found in this Ultralytics release"), "load")
            return


def semseg_requested(argv):
    """True if a command line asks for the semseg task or a semseg model."""
    return any(a in {"semseg", "task=semseg"} or (a.startswith("model=") and "semseg" in a) for a in argv)


def _wrap_entrypoint(entrypoint):
    """`yolo ...`: load the whole plug-in first; semseg runs print clean errors (see ultralytics_semseg.cli)."""
    if getattr(entrypoint, "_semseg", False):
        return entrypoint

    def semseg_entrypoint(*args, **kwargs):
        if error is None:
            try:  # noqa: SIM105  (no contextlib import in the start-up hook)
                import ultralytics.models.yolo.model  # noqa: F401  (runs the remaining patches)
            except Exception:  # Ultralytics' own import error: let its entrypoint show it as usual
                pass
            check_targets()
        if error is not None:
            if semseg_requested(sys.argv[1:]):
                sys.stderr.write(
                    "ultralytics-semseg: cannot run 'semseg' because the plug-in did not load (see above).\n"
                )
                raise SystemExit(1)
            return entrypoint(*args, **kwargs)
        from ultralytics_semseg.cli import run

        return run(entrypoint, *args, **kwargs)

    semseg_entrypoint._semseg = True
    semseg_entrypoint.__wrapped__ = entrypoint
    semseg_entrypoint.__doc__ = entrypoint.__doc__
    return semseg_entrypoint


class _Loader:
    """Delegates to Ultralytics' real loader, then patches the module it has just executed."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        apply(module.__name__)

    def get_code(self, fullname):
        code = self.loader.get_code(fullname)
        if fullname not in MAIN_TARGETS or error is not None:
            return code
        try:
            from ultralytics_semseg import registry

            return getattr(registry, MAIN_TARGETS[fullname])(code)
        except Exception as e:  # a broken plug-in must never break Ultralytics
            fail(e, f"register with {fullname}")
            return code

    def __getattr__(self, name):  # get_source, is_package, resource readers ... for tools that introspect loaders
        return getattr(self.loader, name)


class Finder:
    """Answers only for the `TARGETS`, and only to wrap the loader that the other finders return."""

    def find_spec(self, fullname, path=None, target=None):
        if (fullname not in TARGETS and fullname not in MAIN_TARGETS) or fullname in _done or fullname in _busy:
            return None
        _busy.add(fullname)
        try:
            for finder in sys.meta_path:
                find = getattr(finder, "find_spec", None)
                spec = None if finder is self or find is None else find(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
        finally:
            _busy.discard(fullname)
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _Loader(spec.loader)
        return spec


def install():
    """Put the finder first on `sys.meta_path` (once) and patch the targets that are imported already."""
    if not any(type(f).__name__ == "Finder" and type(f).__module__ == __name__ for f in sys.meta_path):
        sys.meta_path.insert(0, Finder())
    for name in TARGETS:
        spec = getattr(sys.modules.get(name), "__spec__", None)
        # a module still executing its body (e.g. ultralytics.engine.model importing ultralytics.cfg, which imports
        # this plug-in) is patched by the finder's loader when it is done
        if spec is not None and not getattr(spec, "_initializing", False) and not isinstance(spec.loader, _Loader):
            apply(name)


install()
