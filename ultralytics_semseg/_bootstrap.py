"""Post-import hook that plugs the `semseg` task into Ultralytics without importing it early.

Ultralytics has no plug-in discovery, so the package ships a one-line `.pth` file that imports this module at
interpreter start. It only puts a finder on `sys.meta_path`; nothing from torch or Ultralytics is imported until
Ultralytics is imported by the user. Right after one of the target modules has executed its own body, the matching
function in `ultralytics_semseg.registry` adds the `semseg` entries. Any failure is logged and swallowed so that
Python start-up and the other Ultralytics tasks can never break because of this plug-in.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import warnings

# module name -> name of the patch function in ultralytics_semseg.registry
_TARGETS = {
    "ultralytics.cfg": "patch_cfg",
    "ultralytics.models.yolo.model": "patch_yolo",
    "ultralytics.nn.tasks": "patch_safe_globals",
    "ultralytics.utils.callbacks.base": "patch_callbacks",
    "ultralytics.engine.exporter": "patch_exporter",
    "ultralytics.engine.model": "patch_model",
}
# modules that `python -m` runs as __main__ (runpy executes a code object, no exec_module): registry function that
# returns the code to run instead
_MAIN_TARGETS = {"ultralytics.cfg.__init__": "cfg_main_code"}
_done: set[str] = set()


def _apply(module_name: str) -> None:
    """Run the patch for `module_name` once, never raising."""
    if module_name in _done or module_name not in _TARGETS:
        return
    _done.add(module_name)
    try:
        from ultralytics_semseg import registry

        getattr(registry, _TARGETS[module_name])(sys.modules[module_name])
    except Exception as e:  # a broken plug-in must not break Ultralytics
        warnings.warn(f"ultralytics-semseg: could not register with {module_name}: {e!r}", stacklevel=2)


class _PatchingLoader(importlib.abc.Loader):
    """Delegate to the real loader, then apply the plug-in patch to the freshly executed module."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        _apply(module.__name__)

    def get_code(self, fullname: str):
        code = self.loader.get_code(fullname)
        if fullname not in _MAIN_TARGETS:
            return code
        try:
            from ultralytics_semseg import registry

            return getattr(registry, _MAIN_TARGETS[fullname])(code)
        except Exception as e:  # a broken plug-in must not break Ultralytics
            warnings.warn(f"ultralytics-semseg: could not register with {fullname}: {e!r}", stacklevel=2)
            return code

    def __getattr__(self, name: str):  # get_source, is_package, ... for tools that introspect loaders
        return getattr(self.loader, name)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Answer only for the target modules, and only to wrap the loader found by the other finders."""

    _busy: set[str] = set()

    def find_spec(self, fullname: str, path=None, target=None):
        if (fullname not in _TARGETS and fullname not in _MAIN_TARGETS) or fullname in _done or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
        finally:
            self._busy.discard(fullname)
        if spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = _PatchingLoader(spec.loader)
        return spec


def install() -> None:
    """Install the finder once and patch target modules that are already imported."""
    if not any(isinstance(f, _PostImportFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _PostImportFinder())
    for name in _TARGETS:
        if name in sys.modules and getattr(sys.modules[name], "__spec__", None) is not None:
            _apply(name)
