"""Every Ultralytics name the plug-in touches or assumes (ultralytics_semseg/surface.py) still fits this release.

A failure names the Ultralytics name, what the plug-in does with it and where, so that a new Ultralytics release that
moves, renames or re-signs something shows up here first, one failing row per change.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest
import torch
import ultralytics

import _ultralytics_semseg_hook as hook
from ultralytics_semseg.surface import SURFACE, Touch, markdown_table

ROOT = Path(__file__).resolve().parents[1]
VERSION = ultralytics.__version__


def resolve(name: str):
    """Import the longest module prefix of a dotted `name`, then follow attributes; KeyError/AttributeError if gone."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = inspect.getattr_static(obj, attr) if isinstance(obj, type) else getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(name)


def _sources(cls: type) -> str:
    """Source of the Ultralytics classes in the MRO of `cls`."""
    return "\n".join(inspect.getsource(c) for c in cls.__mro__ if c.__module__.startswith("ultralytics."))


def _problem(t: Touch) -> str | None:
    """What no longer fits for row `t`, or None."""
    import ultralytics.models.yolo.model  # noqa: F401  (runs every patch of the start-up hook)

    try:
        obj = resolve(t.name)
    except (ImportError, AttributeError) as e:
        return None if t.optional else f"not found ({type(e).__name__}: {e})"
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if t.how == "wraps":
        func = obj.fget if isinstance(obj, property) else obj
        if not hasattr(func, "__wrapped__"):
            return f"the plug-in's wrapper is not in place (start-up hook error: {hook.error})"
        obj = inspect.unwrap(func)
    if t.property and not isinstance(
        inspect.getattr_static(resolve(t.name.rsplit(".", 1)[0]), t.name.rsplit(".")[-1]), property
    ):
        return "is no longer a property"
    if t.types and type(obj).__name__ not in t.types:
        return f"is a {type(obj).__name__}, expected {' or '.join(t.types)}"
    if t.params:
        try:
            params = inspect.signature(obj).parameters
        except (TypeError, ValueError) as e:
            return f"has no signature ({e})"
        missing = [p for p in t.params if p not in params]
        if missing:
            return f"no longer takes {missing}; its signature is {inspect.signature(obj)}"
    if t.sets:
        src = _sources(obj)
        missing = [a for a in t.sets if not re.search(rf"\bself\.{a}\b[^\n]*?(?<![=!<>])=(?!=)", src)]
        if missing:
            return f"no longer sets self.{', self.'.join(missing)}"
    return None


@pytest.mark.parametrize("touch", SURFACE, ids=[t.name.removeprefix("ultralytics.") for t in SURFACE])
def test_surface_row_fits_this_release(touch):
    problem = _problem(touch)
    assert problem is None, (
        f"Ultralytics {VERSION}: {touch.name} ({touch.how} by ultralytics_semseg {touch.where}) {problem}. "
        f"Adapt ultralytics_semseg/compat.py or the row in ultralytics_semseg/surface.py and docs/plugin.md."
    )


def test_start_up_hook_reported_nothing():
    import ultralytics.models.yolo.model  # noqa: F401

    assert hook.error is None, f"Ultralytics {VERSION}: the plug-in failed to load: {hook.error}"
    assert {*hook.TARGETS, *hook.MAIN_TARGETS} == {t.name for t in SURFACE if t.how == "hooks"}


def _imported_ultralytics_names() -> dict[str, str]:
    """Every `ultralytics...` name imported by the plug-in's code -> the file importing it."""
    names = {}
    files = [*sorted((ROOT / "ultralytics_semseg").rglob("*.py")), ROOT / "_ultralytics_semseg_hook.py"]
    for f in files:
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ultralytics":
                names.update({f"{node.module}.{a.name}": f.name for a in node.names})
            elif isinstance(node, ast.Import):
                names.update({a.name: f.name for a in node.names if a.name.split(".")[0] == "ultralytics"})
    return names


def test_every_imported_ultralytics_name_is_listed():
    """Code that starts using a new Ultralytics name must add it to the surface table."""
    listed = {t.name for t in SURFACE}
    unlisted = {
        n: f
        for n, f in _imported_ultralytics_names().items()
        if not any(x == n or x.startswith(n + ".") for x in listed)
    }
    assert not unlisted, f"Ultralytics names used but not in ultralytics_semseg/surface.py: {unlisted}"


def test_docs_table_matches_the_code():
    doc = (ROOT / "docs" / "plugin.md").read_text()
    rows = re.findall(r"^\| `(ultralytics[\w.]*)` \|", doc, flags=re.M)
    assert sorted(rows) == sorted(t.name for t in SURFACE), (
        f"docs/plugin.md lacks {sorted({t.name for t in SURFACE} - set(rows))}, "
        f"has extra {sorted(set(rows) - {t.name for t in SURFACE})}"
    )
    assert markdown_table() in doc, (
        "regenerate the table: python -c 'from ultralytics_semseg.surface import *; print(markdown_table())'"
    )


def test_ci_runs_the_suite_on_the_floor_release_and_the_newest():
    """`.ci/run` is the README's test command, and that command tests pyproject's floor release, then the newest
    when it is another release (the version check names the floor)."""
    floor = re.search(r'"ultralytics>=([\d.]+),<[\d.]+"', (ROOT / "pyproject.toml").read_text())[1]
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"\*\*Tests\*\*.*?```bash\n(.+?)\n```", readme, flags=re.S)[1]
    assert (ROOT / ".ci" / "run").read_text().rstrip().splitlines()[-1] == command
    _, rest = command.split(f'"ultralytics=={floor}"', 1)
    assert rest.startswith(" && python -m pytest -q && "), command  # the floor
    version = "$(python -c 'import ultralytics as u; print(u.__version__)')"
    assert f'-U -e . ultralytics && {{ [ "{version}" = {floor} ] || python -m pytest -q; }}' in rest, command


def _plugin_subclasses() -> list[type]:
    """The plug-in's classes that subclass an Ultralytics class."""
    out = []
    for f in sorted((ROOT / "ultralytics_semseg").rglob("*.py")):
        name = ".".join(f.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        if name.endswith("__main__"):
            continue
        for obj in vars(importlib.import_module(name)).values():
            ultralytics_base = isinstance(obj, type) and any(
                c.__module__.startswith("ultralytics.") for c in obj.__mro__
            )
            if ultralytics_base and obj.__module__ == name:
                out.append(obj)
    return out


def _self_attributes(cls: type) -> tuple[set[str], set[str]]:
    """(attributes read as `self.x`, attributes assigned as `self.x = ...`) in the class body of `cls`."""
    tree = ast.parse(_dedent(cls))
    read, written = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            (written if isinstance(node.ctx, ast.Store) else read).add(node.attr)
    return read, written


def _dedent(cls: type) -> str:
    import textwrap

    return textwrap.dedent(inspect.getsource(cls))


def test_every_base_class_attribute_the_plugin_uses_is_listed():
    """`self.x` of a plug-in subclass that comes from an Ultralytics base class is a row or in a row's `sets`."""
    rows = {t.name: t for t in SURFACE}
    unlisted = {}
    for cls in _plugin_subclasses():
        ours = [c for c in cls.__mro__ if c.__module__.startswith("ultralytics_semseg")]
        bases = [c for c in cls.__mro__ if c.__module__.startswith("ultralytics.")]
        own = set().union(*(vars(c) for c in ours))
        read = set()
        for c in ours:
            r, w = _self_attributes(c)
            read |= r
            own |= w
        listed = set()
        for b in bases:
            full = f"{b.__module__}.{b.__qualname__}"
            listed |= {n.rsplit(".", 1)[1] for n in rows if n.startswith(full + ".")}
            listed |= set(rows[full].sets) if full in rows else set()
        for b in bases:  # rows may name the class where Ultralytics defines it, e.g. ultralytics.data.base.BaseDataset
            listed |= {n.rsplit(".", 1)[1] for n in rows if n.rsplit(".", 1)[0].endswith("." + b.__qualname__)}
        overridden = {n for c in ours for n in vars(c) if callable(vars(c)[n]) and any(n in vars(b) for b in bases)}
        read |= overridden - {"__init__", "__call__"} - set(vars(torch.nn.Module))  # overrides are listed too
        own -= overridden
        inherited = {a for a in read - own - listed if any(hasattr(b, a) or a in _sources(b) for b in bases)}
        missing = sorted(a for a in inherited if not hasattr(torch.nn.Module, a))  # torch's own API is not ours to list
        if missing:
            unlisted[cls.__qualname__] = missing
    assert not unlisted, f"base-class attributes used but not in ultralytics_semseg/surface.py: {unlisted}"
