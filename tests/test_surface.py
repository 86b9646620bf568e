"""Every Ultralytics name the plug-in touches or assumes (tests/surface.py) still fits this release.

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
from surface import ROOT, SURFACE, Touch, markdown_table, overrides, overrides_markdown, own_methods, plugin_subclasses

import _ultralytics_semseg_hook as hook

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
        f"Adapt ultralytics_semseg/compat.py or the row in tests/surface.py and docs/plugin.md."
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
    assert not unlisted, f"Ultralytics names used but not in tests/surface.py: {unlisted}"


def test_docs_table_matches_the_code():
    doc = (ROOT / "docs" / "plugin.md").read_text()
    rows = re.findall(r"^\| `(ultralytics[\w.]*)` \|", doc, flags=re.M)
    assert sorted(rows) == sorted(t.name for t in SURFACE), (
        f"docs/plugin.md lacks {sorted({t.name for t in SURFACE} - set(rows))}, "
        f"has extra {sorted(set(rows) - {t.name for t in SURFACE})}"
    )
    assert markdown_table() in doc, (
        "regenerate the table: cd tests && python -c 'from surface import *; print(markdown_table())'"
    )
    import ultralytics.models.yolo.model  # noqa: F401  (the task's modules, as the list is derived from them)

    assert overrides_markdown() in doc, (
        "regenerate the overrides list: cd tests && python -c 'from surface import *; print(overrides_markdown())'"
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
    for cls in plugin_subclasses():
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
        hooks = set(overrides(cls))  # overridden hooks are checked by test_every_override_fits_its_base
        own -= hooks
        read -= hooks
        inherited = {a for a in read - own - listed if any(hasattr(b, a) or a in _sources(b) for b in bases)}
        missing = sorted(a for a in inherited if not hasattr(torch.nn.Module, a))  # torch's own API is not ours to list
        if missing:
            unlisted[cls.__qualname__] = missing
    assert not unlisted, f"base-class attributes used but not in tests/surface.py: {unlisted}"


def _accepted(func) -> tuple[set[str], set[str], bool]:
    """(every named parameter, the required ones, whether it takes **kwargs) of `func`, without `self`."""
    params = list(inspect.signature(func).parameters.values())[1:]
    named = {p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    required = {p.name for p in params if p.name in named and p.default is p.empty}
    return named, required, any(p.kind == p.VAR_KEYWORD for p in params)


def override_problems() -> list[str]:
    """Overridden hooks whose signature no longer fits the Ultralytics method they replace."""
    problems = []
    for cls in plugin_subclasses():
        methods = own_methods(cls)
        for name, base in overrides(cls).items():
            if name == "__init__":  # the plug-in calls its constructors itself; Ultralytics calls the hooks
                continue
            ours, theirs = methods[name], inspect.getattr_static(base, name)
            if isinstance(ours, property) or not inspect.isfunction(theirs):
                continue
            (o_named, o_required, o_kwargs), (t_named, _, _) = _accepted(ours), _accepted(theirs)
            missing = sorted(t_named - o_named) if not o_kwargs else []  # Ultralytics may pass these
            unknown = sorted(o_required - t_named)  # ours needs these, Ultralytics' callers never pass them
            if missing or unknown:
                theirs_text = f"{base.__qualname__}.{name}({', '.join(sorted(t_named))})"
                problems.append(
                    f"{cls.__qualname__}.{name} vs {theirs_text}: does not take {missing}, requires {unknown}"
                )
    return problems


def _code_references() -> set[str]:
    """Names referenced in the plug-in's code (attributes, names, string constants), each method's references to its
    own name (a `super().name(...)` call) left out, docstrings and comments too."""
    found = set()

    def visit(node, inside: str | None) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside = node.name
        name = (node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else
                node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None)  # fmt: skip
        if name and name != inside:
            found.add(name)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    for f in [*sorted((ROOT / "ultralytics_semseg").rglob("*.py")), ROOT / "_ultralytics_semseg_hook.py"]:
        visit(ast.parse(f.read_text()), None)
    return found


def _ultralytics_attribute_references() -> set[str]:
    """Attribute names Ultralytics' engine, data and model code reads or assigns (`dataset.close_mosaic(...)`,
    `self.accumulate = ...`): the duck-typed hooks that no base class defines."""
    import ultralytics

    pkg = Path(ultralytics.__file__).parent
    files = [*pkg.glob("engine/*.py"), *pkg.glob("data/*.py"), *pkg.glob("nn/*.py"), *pkg.glob("models/yolo/*.py")]
    return {n.attr for f in files for n in ast.walk(ast.parse(f.read_text())) if isinstance(n, ast.Attribute)}


def orphan_methods() -> list[str]:
    """Methods of the plug-in's subclasses that override nothing in Ultralytics, that Ultralytics' code does not call
    by name and that no plug-in code calls: a hook that Ultralytics renamed or removed leaves its override dead."""
    used = _code_references() | _ultralytics_attribute_references()
    orphans = []
    for cls in plugin_subclasses():
        hooks = overrides(cls)  # once per class, not once per method
        orphans += [
            f"{cls.__qualname__}.{name}"
            for name in own_methods(cls)
            if name not in hooks and not (name.startswith("__") and name.endswith("__")) and name not in used
        ]
    return orphans


def test_every_override_fits_its_base():
    import ultralytics.models.yolo.model  # noqa: F401

    problems = override_problems()
    assert not problems, f"Ultralytics {VERSION}: overridden hooks changed: {problems}"


def test_no_override_became_an_orphan():
    import ultralytics.models.yolo.model  # noqa: F401

    orphans = orphan_methods()
    assert not orphans, f"Ultralytics {VERSION}: these methods override nothing and nothing calls them: {orphans}"


def test_the_derived_checks_catch_a_removed_or_re_signed_hook(monkeypatch):
    """The two checks above fail when a release removes a hook or gives it a new parameter."""
    from ultralytics.engine.trainer import BaseTrainer

    references = _ultralytics_attribute_references()
    # a release that renames the hook: gone from the base class and from the engine code that called it
    monkeypatch.delattr(BaseTrainer, "progress_string")
    monkeypatch.setitem(globals(), "_ultralytics_attribute_references", lambda: references - {"progress_string"})
    assert "SemSegTrainer.progress_string" in orphan_methods()
    monkeypatch.setattr(BaseTrainer, "get_validator", lambda self, new_argument: None)
    assert any(p.startswith("SemSegTrainer.get_validator") and "new_argument" in p for p in override_problems())
