"""What the plug-in adds to Ultralytics: every change is additive and leaves the other tasks untouched.

Called by the start-up hook (`_ultralytics_semseg_hook.TARGETS`) right after the target Ultralytics module has run its
body. A patch that raises switches the whole plug-in off with one message (see the hook); docs/plugin.md lists every
Ultralytics name touched here and tests/test_surface.py checks each of them.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import sys
from pathlib import Path
from types import ModuleType

from ultralytics_semseg.constants import DEFAULT_DATA, DEFAULT_MODEL, IGNORE, METRIC, TASK

# Inference options of the task's validator and predictor, added to Ultralytics' argument table so that the CLI and
# get_cfg() accept them. None keeps the feature off; other tasks never read them.
CFG_KEYS = {
    "slide_window": None,  # sliding-window crop (int or [h, w], multiples of 32) on the letterboxed input
    "slide_stride": None,  # window step (default 2/3 of the crop)
    "tta_scales": None,  # input scales for augment=True (default [0.75, 1.0, 1.25], each also flipped)
    "return_conf": False,  # predict: per-pixel confidence (max softmax) in result.semseg.conf
    "return_probs": False,  # predict: (nc, H, W) probabilities in result.semseg.probs
    "class_conf": None,  # predict: min confidence, one float or one per class; lower pixels -> low_conf_label
    "low_conf_label": IGNORE,  # predict: label of low-confidence pixels (255 = ignore, or a background class id)
    "export_output": None,  # what an exported graph returns, see nn/outputs.py EXPORT_OUTPUTS (default classmap)
    # Training augmentation of semseg datasets (data/augment.py); other tasks never read them either
    "cat_max_ratio": None,  # redraw a training crop (up to 10x) while one class covers >= this share of it, e.g. 0.75
    "contrast": 0.0,  # contrast jitter in [1 - contrast, 1 + contrast] with p=0.5; 0 = off, 0.5 = mmseg's range
    "rare_class_sampling": 0.0,  # rare-class sampling temperature (DAFormer RCS; semseg default 1.0); 0 = uniform order
    "dice": 0.0,  # weight of the soft Dice term added to the cross-entropy (semseg training); 0 = off
    "bias_calibration": False,  # after training, fit per-class logit offsets on the train split (semseg default True)
    "cls_pw": 0.0,  # class-weight power; Ultralytics' own key since mid-2026 8.4 releases, added only where missing
}


def patch_cfg(cfg: ModuleType) -> None:
    """Add `semseg` to the CLI task tuple and the per-task default tables (the hook also wraps `entrypoint`)."""
    if TASK not in cfg.TASKS:
        cfg.TASKS = type(cfg.TASKS)((*cfg.TASKS, TASK))  # entrypoint() reads the module global at call time
    cfg.TASK2DATA.setdefault(TASK, DEFAULT_DATA)
    cfg.TASK2MODEL.setdefault(TASK, DEFAULT_MODEL)
    cfg.TASK2METRIC.setdefault(TASK, METRIC)
    if hasattr(cfg, "TASK2CALIBRATIONDATA"):
        cfg.TASK2CALIBRATIONDATA.setdefault(TASK, DEFAULT_DATA)
    for key, value in CFG_KEYS.items():
        if key not in cfg.DEFAULT_CFG_DICT:
            cfg.DEFAULT_CFG_DICT[key] = value
            setattr(cfg.DEFAULT_CFG, key, value)


def cfg_main_code(code):
    """Code that runs the entrypoint of the imported, patched `ultralytics.cfg`, for `cfg/__init__.py` run as a script.

    `python -m ultralytics.cfg.__init__` (how Ultralytics' tuner starts its trials) runs `cfg/__init__.py` a second
    time as `__main__`: a fresh copy whose task tables `patch_cfg` never saw ("Invalid 'task=semseg'"). The patched
    module's entrypoint is what that file's `__main__` block calls.
    """
    return compile("import ultralytics.cfg\nultralytics.cfg.entrypoint(debug='')\n", code.co_filename, "exec")


def semseg_task_map() -> dict:
    """Classes behind the `semseg` task, imported on first use."""
    from ultralytics_semseg.models.predict import SemSegPredictor
    from ultralytics_semseg.models.train import SemSegTrainer
    from ultralytics_semseg.models.val import SemSegValidator
    from ultralytics_semseg.nn.model import SemSegModel

    return {"model": SemSegModel, "trainer": SemSegTrainer, "validator": SemSegValidator, "predictor": SemSegPredictor}


def patch_yolo(module: ModuleType) -> None:
    """Teach `ultralytics.YOLO` the `semseg` task: task map entry plus model-name resolution.

    The task classes are imported here, so that a broken module of the plug-in is reported once, when Ultralytics'
    YOLO is imported, instead of surfacing later as "model does not support 'predict' mode".
    """
    yolo = module.YOLO
    if getattr(yolo, "_semseg_patched", False):
        return
    semseg_task_map()  # import every module of the task now
    task_map = yolo.task_map
    if not isinstance(task_map, property):
        raise TypeError(f"YOLO.task_map is a {type(task_map).__name__}, the plug-in expects a property")

    @property
    @functools.wraps(task_map.fget)
    def patched_task_map(self) -> dict:
        tm = task_map.fget(self)
        if TASK not in tm and (getattr(self, "task", None) == TASK):
            tm = {**tm, TASK: semseg_task_map()}
        return tm

    init = yolo.__init__
    signature = inspect.signature(init)

    @functools.wraps(init)
    def patched_init(self, *args, **kwargs):
        """YOLO.__init__ with semseg model names resolved; only the parameter names `model` and `task` are assumed."""
        from ultralytics_semseg.cfg import resolve_model

        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        bound.arguments["model"], bound.arguments["task"] = resolve_model(
            bound.arguments["model"], bound.arguments["task"]
        )
        require_intact_semseg_checkpoint(bound.arguments["model"], bound.arguments["task"])
        init(*bound.args, **bound.kwargs)

    yolo.task_map = patched_task_map
    yolo.__init__ = patched_init
    yolo._semseg_patched = True


def require_intact_semseg_checkpoint(model, task: str | None) -> None:
    """Name a truncated or corrupt semseg `.pt` (and the intact checkpoints beside it) before Ultralytics unpickles it.

    Semseg means: `task='semseg'`, a `yolo semseg ...` command line, or a run folder whose args.yaml says so. Other
    tasks' files keep Ultralytics' own error.

    Raises:
        CorruptCheckpointError: See `ultralytics_semseg.utils.files.require_intact_checkpoint`.
    """
    if not isinstance(model, (str, Path)) or Path(model).suffix != ".pt" or not Path(model).is_file():
        return
    from _ultralytics_semseg_hook import semseg_requested
    from ultralytics_semseg.utils.files import checkpoint_problem, require_intact_checkpoint

    if checkpoint_problem(model) is None:
        return
    args = Path(model).resolve().parent.parent / "args.yaml"
    semseg_run = False
    with contextlib.suppress(OSError):
        semseg_run = f"task: {TASK}" in args.read_text(errors="replace")
    if task == TASK or semseg_requested(sys.argv[1:]) or semseg_run:
        require_intact_checkpoint(model)


def patch_callbacks(base: ModuleType) -> None:
    """Add the export hooks and the predict memory check to every new model's callbacks; they act on semseg only."""
    from ultralytics_semseg.engine import export
    from ultralytics_semseg.utils import memory

    for module, event in ((export, "on_export_start"), (export, "on_export_end"), (memory, "on_predict_batch_start")):
        hooks = base.default_callbacks[event]
        if not any(getattr(h, "__module__", "") == module.__name__ for h in hooks):
            hooks.append(getattr(module, event))


def _route_to_semseg(cls: type, name: str, is_semseg, impl: str) -> None:
    """Wrap `cls.<name>` so that semseg objects run `impl` and all others Ultralytics' original method.

    `impl` is 'module:function', called with the same arguments. Idempotent.
    """
    original = getattr(cls, name)
    if getattr(original, "_semseg", False):
        return

    @functools.wraps(original)
    def routed(self, *args, **kwargs):
        if is_semseg(self):
            import importlib

            module, fn = impl.split(":")
            return getattr(importlib.import_module(module), fn)(self, *args, **kwargs)
        return original(self, *args, **kwargs)

    routed._semseg = True
    setattr(cls, name, routed)


def patch_exporter(module: ModuleType) -> None:
    """INT8 calibration for semseg models reads semseg datasets (Ultralytics' builds detection datasets)."""
    _route_to_semseg(
        module.Exporter,
        "get_int8_calibration_dataloader",
        lambda exporter: getattr(exporter.model, "task", None) == TASK,
        "ultralytics_semseg.engine.export:calibration_loader",
    )


def patch_model(module: ModuleType) -> None:
    """`Model.tune` on a semseg model uses the task's defaults and search space (engine/tuner.py)."""
    _route_to_semseg(
        module.Model, "tune", lambda model: getattr(model, "task", None) == TASK, "ultralytics_semseg.engine.tuner:tune"
    )


def patch_tasks(tasks: ModuleType) -> None:
    """Allow-list our checkpoint classes before any checkpoint is loaded (see nn/model.py).

    Also lets `yaml_model_load` (which `YOLO(...)` calls) load our packaged model names robustly.
    """
    load = tasks.yaml_model_load
    if not getattr(load, "_semseg", False):

        @functools.wraps(load)
        def yaml_model_load(path):
            from ultralytics_semseg.cfg import is_packaged_model, load_model_yaml

            return load_model_yaml(path) if is_packaged_model(path) else load(path)

        yaml_model_load._semseg = True
        tasks.yaml_model_load = yaml_model_load

    if "ultralytics_semseg.nn.model" not in sys.modules:  # already importing: it registers itself when done
        importlib.import_module("ultralytics_semseg.nn.model")
