"""The contract of the plug-in with Ultralytics, as test data: every Ultralytics name the plug-in hooks, writes, wraps,
subclasses, reads or calls.

One row per name, with what the plug-in does with it and what it relies on. `tests/test_surface.py` checks every row
against the installed Ultralytics and fails with a message naming the row when a release changes it;
`docs/plugin.md` shows the same table. The hook methods the plug-in's subclasses override are not rows: the test
derives them from the class hierarchy and checks each against its Ultralytics base (`overrides_markdown` lists them
for the docs). This module is test data; nothing in the installed package reads it. Each row's fields say what is
checked:

- `params`: parameter names the callable must still accept, in any order.
- `types`: the value must be an instance of one of these type names (e.g. the containers the plug-in mutates).
- `sets`: attribute names the class's own code (any class of its MRO within Ultralytics) must still assign.
- `property`: the class attribute must be a property (the plug-in wraps its getter).
- `optional`: the name exists only in some releases; `ultralytics_semseg.compat` handles both cases.

`how` is one of: `hooks` (a module the start-up hook waits for), `writes` (mutates or rebinds it, or assigns the
attribute on Ultralytics' object), `wraps` (replaces it with a function calling the original), `subclasses`,
`reads` (an attribute of an Ultralytics object), `calls`.

Examples:
    >>> from surface import SURFACE
    >>> sum(t.how in {"writes", "wraps"} for t in SURFACE) > 10
    True
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Touch:
    """One Ultralytics name the plug-in relies on."""

    name: str  # dotted path: module, then attributes, e.g. 'ultralytics.engine.trainer.BaseTrainer.get_model'
    how: str
    where: str  # the plug-in module(s) that use it
    params: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()
    property: bool = False
    optional: bool = False


_T = "ultralytics.engine.trainer.BaseTrainer"
_V = "ultralytics.engine.validator.BaseValidator"
_P = "ultralytics.engine.predictor.BasePredictor"
_D = "ultralytics.data.base.BaseDataset"
_R = "ultralytics.engine.results"

SURFACE: tuple[Touch, ...] = (
    # --- registration: written or wrapped (registry.py, the start-up hook) ---
    Touch("ultralytics.cfg", "hooks", "_ultralytics_semseg_hook"),
    Touch("ultralytics.nn.tasks", "hooks", "_ultralytics_semseg_hook"),
    Touch("ultralytics.utils.callbacks.base", "hooks", "_ultralytics_semseg_hook"),
    Touch("ultralytics.engine.exporter", "hooks", "_ultralytics_semseg_hook"),
    Touch("ultralytics.engine.model", "hooks", "_ultralytics_semseg_hook"),
    Touch("ultralytics.models.yolo.model", "hooks", "_ultralytics_semseg_hook"),
    Touch("ultralytics.cfg.__init__", "hooks", "_ultralytics_semseg_hook.MAIN_TARGETS, registry.cfg_main_code"),
    Touch("ultralytics.engine.model.Model.tune", "wraps", "registry.patch_model, engine.tuner"),
    Touch("ultralytics.cfg.TASKS", "writes", "registry.patch_cfg", types=("tuple", "frozenset")),
    Touch("ultralytics.cfg.TASK2DATA", "writes", "registry.patch_cfg", types=("dict",)),
    Touch("ultralytics.cfg.TASK2MODEL", "writes", "registry.patch_cfg", types=("dict",)),
    Touch("ultralytics.cfg.TASK2METRIC", "writes", "registry.patch_cfg", types=("dict",)),
    Touch("ultralytics.cfg.TASK2CALIBRATIONDATA", "writes", "registry.patch_cfg", types=("dict",), optional=True),
    Touch("ultralytics.cfg.DEFAULT_CFG_DICT", "writes", "registry.patch_cfg", types=("dict",)),
    Touch("ultralytics.cfg.DEFAULT_CFG", "writes", "registry.patch_cfg", types=("IterableSimpleNamespace",)),
    Touch("ultralytics.cfg.entrypoint", "wraps", "_ultralytics_semseg_hook, cli", params=("debug",)),
    Touch("ultralytics.models.yolo.model.YOLO.__init__", "wraps", "registry.patch_yolo", params=("model", "task")),
    Touch("ultralytics.models.yolo.model.YOLO.task_map", "wraps", "registry.patch_yolo", property=True),
    Touch("ultralytics.nn.tasks.yaml_model_load", "wraps", "registry.patch_tasks, cfg, nn.model", params=("path",)),
    Touch("ultralytics.utils.callbacks.base.default_callbacks", "writes", "registry.patch_callbacks", types=("dict",)),
    Touch(
        "ultralytics.engine.exporter.Exporter.get_int8_calibration_dataloader",
        "wraps",
        "registry.patch_exporter",
        params=("prefix",),
    ),
    # --- what Ultralytics' engine calls on the task classes (task_map keys) ---
    Touch("ultralytics.engine.model.Model._smart_load", "reads", "registry.semseg_task_map", params=("key",)),
    # --- export hooks (engine/export.py) read the exporter's state ---
    Touch(
        "ultralytics.engine.exporter.Exporter", "reads", "engine.export", sets=("metadata", "file", "imgsz", "model")
    ),
    Touch("ultralytics.engine.exporter.Exporter.__init__", "reads", "engine.export", params=("cfg", "overrides")),
    Touch(
        "ultralytics.engine.exporter.Exporter",
        "writes",
        "engine.export (`output_shape`, after the dry run)",
        sets=("output_shape",),
    ),  # fmt: skip
    # --- model (nn/model.py, nn/head.py) ---
    Touch("ultralytics.nn.tasks.BaseModel", "subclasses", "nn.model"),
    Touch("ultralytics.nn.tasks.BaseModel._predict_once", "calls", "nn.model", params=("x",)),
    Touch("ultralytics.nn.tasks.BaseModel.info", "calls", "nn.model"),
    Touch("ultralytics.nn.tasks.BaseModel.load", "calls", "models.train", params=("weights", "verbose")),
    Touch("ultralytics.nn.tasks.parse_model", "calls", "nn.model", params=("d", "ch", "verbose")),
    Touch("ultralytics.nn.tasks.guess_model_scale", "calls", "cfg", params=("model_path",)),
    Touch("ultralytics.nn.modules.Conv", "calls", "nn.head", params=("c1", "c2", "k", "s", "act")),
    Touch("ultralytics.nn.modules.DWConv", "calls", "nn.head", params=("c1", "c2", "k", "s", "act")),
    Touch("ultralytics.utils.ops.make_divisible", "calls", "nn.model", params=("x", "divisor")),
    Touch("ultralytics.utils.torch_utils.initialize_weights", "calls", "nn.model", params=("model",)),
    # --- trainer (models/train.py) ---
    Touch(
        _T,
        "subclasses",
        "models.train",
        sets=(
            "device",
            "args",
            "data",
            "model",
            "save_dir",
            "test_loader",
            "train_loader",
            "callbacks",
            "loss_names",
            "epoch",
            "start_epoch",
            "optimizer",
            "resume",
            "stride",
            "ema",
            "wdir",
            "last",
            "best",
            "csv",
        ),
    ),  # fmt: skip
    Touch(f"{_T}.on_plot", "calls", "models.train, models.val", params=("name", "data")),
    Touch("ultralytics.engine.trainer.check_amp", "writes", "compat.trainer_amp_check", params=("model",)),
    Touch("ultralytics.utils.checks.check_amp", "calls", "models.train (off CUDA)", params=("model",)),
    # --- validator (models/val.py) ---
    Touch(
        _V,
        "subclasses",
        "models.val",
        sets=("args", "data", "dataloader", "device", "save_dir", "speed", "stride", "training"),
    ),  # fmt: skip
    Touch(f"{_V}.on_plot", "calls", "models.val", params=("name", "data")),
    # --- predictor (models/predict.py) ---
    Touch(
        _P,
        "subclasses",
        "models.predict",
        sets=("args", "model", "imgsz", "batch", "results", "save_dir", "txt_path", "dataset"),
    ),  # fmt: skip
    Touch("ultralytics.nn.autobackend.AutoBackend", "reads", "models.predict, compat", sets=("format",)),
    Touch(
        "ultralytics.nn.backends.base.BaseBackend",
        "reads",
        "models.predict",
        sets=("stride", "names", "dynamic"),
        optional=True,
    ),  # fmt: skip
    Touch(
        "ultralytics.nn.backends.base.BaseBackend.apply_metadata",
        "reads",
        "engine.export (metadata keys)",
        params=("metadata",),
        optional=True,
    ),
    Touch(
        "ultralytics.nn.backends.openvino.OpenVINOBackend",
        "writes",
        "compat.openvino_fp32",
        sets=("compile_model", "ov_compiled_model"),
        optional=True,
    ),  # fmt: skip
    # --- results (engine/results.py) ---
    Touch(
        f"{_R}.Results",
        "subclasses",
        "engine.results",
        sets=("orig_img", "orig_shape", "names", "path", "_keys", "save_dir", "speed"),
    ),
    Touch(f"{_R}.BaseTensor", "subclasses", "engine.results", sets=("data", "orig_shape")),
    Touch(f"{_R}.BaseTensor.__init__", "subclasses", "engine.results", params=("data", "orig_shape")),
    Touch(f"{_R}.Masks.__init__", "subclasses", "engine.results", params=("masks", "orig_shape")),
    # --- data (data/*) ---
    Touch(
        _D,
        "subclasses",
        "data.dataset",
        sets=(
            "im_files",
            "labels",
            "ni",
            "prefix",
            "imgsz",
            "cache",
            "augment",
            "transforms",
            "rect",
            "batch",
            "batch_shapes",
            "cv2_flag",
            "stride",
            "img_path",
            "im_hw",
        ),
    ),  # fmt: skip
    Touch(
        f"{_D}.__init__",
        "subclasses",
        "data.dataset, data.build",
        params=(
            "img_path",
            "imgsz",
            "cache",
            "augment",
            "hyp",
            "prefix",
            "rect",
            "batch_size",
            "stride",
            "pad",
            "fraction",
            "channels",
        ),
    ),  # fmt: skip
    Touch(f"{_D}._ImageCache", "calls", "data.dataset", params=("images",)),
    Touch(f"{_D}.load_image", "calls", "data.dataset", params=("i", "rect_mode")),
    Touch(
        f"{_D}.get_img_files",
        "calls",
        "data.check (unbound, on an object with the prefix and fraction it reads)",
        params=("img_path",),
        sets=(),
    ),  # fmt: skip
    Touch("ultralytics.data.augment.Compose", "calls", "data.dataset", params=("transforms",)),
    Touch("ultralytics.data.augment.RandomHSV", "calls", "data.dataset", params=("hgain", "sgain", "vgain")),
    Touch(
        "ultralytics.data.build.build_dataloader",
        "calls",
        "models.train, models.val, engine.export",
        params=("dataset", "batch", "workers", "shuffle", "rank", "drop_last"),
    ),  # fmt: skip
    Touch(
        "ultralytics.data.utils.check_det_dataset",
        "calls",
        "data.build, data.check",
        params=("dataset", "autodownload", "split"),
    ),  # fmt: skip
    Touch("ultralytics.data.utils.get_hash", "calls", "data.dataset", params=("paths",)),
    Touch("ultralytics.data.utils.load_dataset_cache_file", "calls", "data.dataset", params=("path",)),
    Touch(
        "ultralytics.data.utils.save_dataset_cache_file",
        "calls",
        "data.dataset",
        params=("prefix", "path", "x", "version"),
    ),  # fmt: skip
    Touch("ultralytics.data.utils.img2label_paths", "calls", "data.formats", params=("img_paths",)),
    Touch("ultralytics.data.utils.IMG_FORMATS", "reads", "data.utils", types=("set", "frozenset")),
    # --- utilities ---
    Touch("ultralytics.utils.DEFAULT_CFG", "reads", "models.train, models.predict"),
    Touch("ultralytics.utils.LOGGER", "calls", "several", types=("Logger",)),
    Touch("ultralytics.utils.RANK", "reads", "models.train, models.val", types=("int",)),
    Touch("ultralytics.utils.LOCAL_RANK", "reads", "data.dataset", types=("int",)),
    Touch("ultralytics.utils.NUM_THREADS", "reads", "data.dataset, data.formats", types=("int",)),
    Touch("ultralytics.utils.TQDM", "calls", "data.dataset, data.formats, convert"),
    Touch("ultralytics.utils.YAML.load", "calls", "cfg", params=("file",)),
    Touch("ultralytics.utils.colorstr", "calls", "models.val, models.train"),
    Touch("ultralytics.utils.imread", "calls", "data.dataset", params=("filename", "flags")),
    Touch("ultralytics.utils.checks.check_file", "calls", "cfg.resolve_data_yaml", params=("file", "hard")),
    Touch("ultralytics.utils.ops.scale_masks", "calls", "utils.ops", params=("masks", "shape", "ratio_pad")),
    Touch("ultralytics.utils.plotting.colors", "calls", "utils.plotting"),
    Touch(
        "ultralytics.utils.torch_utils.torch_distributed_zero_first", "calls", "models.train", params=("local_rank",)
    ),  # fmt: skip
    Touch("ultralytics.utils.torch_utils.unwrap_model", "calls", "models.train", params=("m",)),
    # --- further hooks and helpers (reliability work: exact resume, predict summary) ---
    Touch("ultralytics.engine.trainer.BaseTrainer.add_callback", "calls", "models.train", params=("event", "callback")),
    # --- tuner, metrics export, results (export/tuner work) ---
    Touch("ultralytics.engine.tuner.Tuner", "calls", "engine.tuner"),
    Touch("ultralytics.utils.tuner.run_ray_tune", "calls", "engine.tuner"),
    Touch("ultralytics.engine.results.Boxes", "calls", "engine.results"),
    Touch("ultralytics.utils.DataExportMixin", "subclasses", "utils.metrics"),
    Touch("ultralytics.utils.SimpleClass", "subclasses", "utils.metrics"),
    Touch("ultralytics.nn.autobackend.check_class_names", "calls", "models.predict", params=("names",)),
    # --- issue 21: atomic checkpoints and results.csv, run-folder lock, named checkpoint errors (models/train.py) ---
    Touch(
        "ultralytics.engine.trainer.strip_optimizer",
        "writes",
        "compat.trainer_strip_optimizer",
        params=("f", "s", "updates"),
    ),
    Touch("ultralytics.cfg.get_save_dir", "calls", "models.train", params=("args",)),
)


def markdown_table() -> str:
    """The rows as the Markdown table of docs/plugin.md."""
    lines = ["| Ultralytics name | how | where (ultralytics_semseg.…) | relied on |", "| --- | --- | --- | --- |"]
    for t in SURFACE:
        relied = [
            *([f"params {', '.join(t.params)}"] if t.params else []),
            *([f"a {' or '.join(t.types)}"] if t.types else []),
            *([f"sets {', '.join(t.sets)}"] if t.sets else []),
            *(["a property"] if t.property else []),
            *(["optional (compat)"] if t.optional else []),
        ]
        lines.append(f"| `{t.name}` | {t.how} | {t.where} | {'; '.join(relied) or 'exists'} |")
    return "\n".join(lines) + "\n"


def plugin_subclasses() -> list[type]:
    """The plug-in's classes that subclass an Ultralytics class, in file order."""
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


def own_methods(cls: type) -> dict[str, object]:
    """Methods and properties defined in the plug-in's classes of `cls`'s MRO (the nearest definition wins)."""
    out = {}
    for c in reversed([c for c in cls.__mro__ if c.__module__.startswith("ultralytics_semseg")]):
        out.update({n: v for n, v in vars(c).items() if inspect.isfunction(v) or isinstance(v, property)})
    return out


def overrides(cls: type) -> dict[str, type]:
    """Method name -> the nearest Ultralytics base class of `cls` that defines it, for each method `cls` overrides."""
    bases = [c for c in cls.__mro__ if c.__module__.startswith("ultralytics.")]
    return {n: next(b for b in bases if n in vars(b)) for n in own_methods(cls) if any(n in vars(b) for b in bases)}


def overrides_markdown() -> str:
    """The overridden hooks per plug-in class, as the list in docs/plugin.md."""
    lines = []
    for cls in plugin_subclasses():
        found = overrides(cls)
        if found:
            per_base = {}
            for n, b in found.items():
                per_base.setdefault(f"{b.__module__}.{b.__qualname__}", []).append(f"`{n}`")
            where = "; ".join(f"`{b}`: {', '.join(sorted(ns))}" for b, ns in per_base.items())
            lines.append(
                f"- `{cls.__module__.removeprefix('ultralytics_semseg.')}.{cls.__qualname__}` overrides {where}"
            )
    return "\n".join(lines) + "\n"
