"""The plug-in's surface on Ultralytics: every Ultralytics name the plug-in writes, wraps, calls, subclasses or assumes.

One row per name, with what the plug-in does with it and what it relies on. `tests/test_surface.py` checks every row
against the installed Ultralytics and fails with a message naming the row when a release changes it;
`docs/plugin.md` shows the same table. Each row's `expects` says what is checked:

- `params`: parameter names the callable (or overridden hook) must still accept, in any order.
- `types`: the value must be an instance of one of these type names (e.g. the containers the plug-in mutates).
- `sets`: attribute names the class's own code (any class of its MRO within Ultralytics) must still assign.
- `property`: the class attribute must be a property (the plug-in wraps its getter).
- `optional`: the name exists only in some releases; `ultralytics_semseg.compat` handles both cases.

`how` is one of: `writes` (mutates or rebinds it), `wraps` (replaces it with a function calling the original),
`subclasses`, `overrides` (a hook method that Ultralytics' base class calls), `calls`, `reads` (an attribute of an
Ultralytics object), `hooks` (a module the start-up hook waits for).

Examples:
    >>> from ultralytics_semseg.surface import SURFACE
    >>> sum(t.how in {"writes", "wraps"} for t in SURFACE) > 10
    True
"""

from __future__ import annotations

from dataclasses import dataclass


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
    # --- model (nn/model.py, nn/head.py) ---
    Touch("ultralytics.nn.tasks.BaseModel", "subclasses", "nn.model"),
    Touch(
        "ultralytics.nn.tasks.BaseModel.predict", "overrides", "nn.model", params=("x", "profile", "augment", "embed")
    ),
    Touch("ultralytics.nn.tasks.BaseModel._predict_once", "calls", "nn.model", params=("x",)),
    Touch("ultralytics.nn.tasks.BaseModel.init_criterion", "overrides", "nn.model"),
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
    Touch(f"{_T}.__init__", "overrides", "models.train", params=("cfg", "overrides", "_callbacks")),
    Touch(f"{_T}.get_dataset", "overrides", "models.train"),
    Touch(f"{_T}.get_model", "overrides", "models.train", params=("cfg", "weights", "verbose")),
    Touch(f"{_T}.set_model_attributes", "overrides", "models.train"),
    Touch(f"{_T}.build_dataset", "overrides", "models.train", params=("img_path", "mode", "batch")),
    Touch(f"{_T}.get_dataloader", "overrides", "models.train", params=("dataset_path", "batch_size", "rank", "mode")),
    Touch(f"{_T}.preprocess_batch", "overrides", "models.train", params=("batch",)),
    Touch(f"{_T}.get_validator", "overrides", "models.train"),
    Touch(f"{_T}.progress_string", "overrides", "models.train"),
    Touch(f"{_T}.plot_training_samples", "overrides", "models.train", params=("batch", "ni")),
    Touch(f"{_T}.plot_training_labels", "overrides", "models.train"),
    Touch(f"{_T}.label_loss_items", "overrides", "models.train", params=("loss_items", "prefix")),
    Touch(f"{_T}._setup_train", "overrides", "models.train"),
    Touch(f"{_T}.on_plot", "calls", "models.train, models.val", params=("name", "data")),
    Touch(f"{_T}.set_class_weights", "overrides", "models.train, compat", optional=True),
    Touch("ultralytics.engine.trainer.check_amp", "writes", "compat.trainer_amp_check", params=("model",)),
    Touch("ultralytics.utils.checks.check_amp", "calls", "models.train (off CUDA)", params=("model",)),
    # --- validator (models/val.py) ---
    Touch(
        _V,
        "subclasses",
        "models.val",
        sets=("args", "data", "dataloader", "device", "save_dir", "speed", "stride", "training"),
    ),  # fmt: skip
    Touch(f"{_V}.__init__", "overrides", "models.val", params=("dataloader", "save_dir", "args", "_callbacks")),
    Touch(f"{_V}.__call__", "overrides", "models.val", params=("trainer", "model")),
    Touch(f"{_V}.get_dataloader", "overrides", "models.val", params=("dataset_path", "batch_size")),
    Touch(f"{_V}.preprocess", "overrides", "models.val", params=("batch",)),
    Touch(f"{_V}.postprocess", "overrides", "models.val", params=("preds",)),
    Touch(f"{_V}.init_metrics", "overrides", "models.val", params=("model",)),
    Touch(f"{_V}.update_metrics", "overrides", "models.val", params=("preds", "batch")),
    Touch(f"{_V}.plot_val_samples", "overrides", "models.val", params=("batch", "ni")),
    Touch(f"{_V}.plot_predictions", "overrides", "models.val", params=("batch", "preds", "ni")),
    Touch(f"{_V}.gather_stats", "overrides", "models.val"),
    Touch(f"{_V}.finalize_metrics", "overrides", "models.val"),
    Touch(f"{_V}.get_stats", "overrides", "models.val"),
    Touch(f"{_V}.get_desc", "overrides", "models.val"),
    Touch(f"{_V}.print_results", "overrides", "models.val"),
    Touch(f"{_V}.on_plot", "calls", "models.val", params=("name", "data")),
    # --- predictor (models/predict.py) ---
    Touch(
        _P,
        "subclasses",
        "models.predict",
        sets=("args", "model", "imgsz", "batch", "results", "save_dir", "txt_path", "dataset"),
    ),  # fmt: skip
    Touch(f"{_P}.__init__", "overrides", "models.predict", params=("cfg", "overrides", "_callbacks")),
    Touch(f"{_P}.setup_model", "overrides", "models.predict", params=("model", "verbose")),
    Touch(f"{_P}.pre_transform", "overrides", "models.predict", params=("im",)),
    Touch(f"{_P}.postprocess", "overrides", "models.predict", params=("preds", "img", "orig_imgs")),
    Touch(f"{_P}.write_results", "overrides", "models.predict", params=("i", "p", "im", "s")),
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
    Touch(f"{_R}.Results.__init__", "overrides", "engine.results", params=("orig_img", "path", "names", "speed")),
    Touch(f"{_R}.Results.new", "overrides", "engine.results"),
    Touch(f"{_R}.Results.plot", "overrides", "engine.results", params=("labels", "img", "show", "save", "filename")),
    Touch(f"{_R}.Results.verbose", "overrides", "engine.results"),
    Touch(f"{_R}.Results.summary", "overrides", "engine.results", params=("normalize", "decimals")),
    Touch(f"{_R}.Results.save_txt", "overrides", "engine.results", params=("txt_file", "save_conf")),
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
    Touch(f"{_D}.get_img_files", "overrides", "data.dataset", params=("img_path",)),
    Touch(f"{_D}.get_labels", "overrides", "data.dataset"),
    Touch(f"{_D}.load_image", "calls", "data.dataset", params=("i", "rect_mode")),
    Touch(f"{_D}.cache_images", "overrides", "data.dataset"),
    Touch(f"{_D}.check_cache_ram", "overrides", "data.dataset", params=("safety_margin",)),
    Touch(f"{_D}.build_transforms", "overrides", "data.dataset", params=("hyp",)),
    Touch(f"{_D}.close_mosaic", "overrides", "data.dataset", params=("hyp",), optional=True),
    Touch(f"{_D}.get_image_and_label", "overrides", "data.dataset", params=("index",)),
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
    Touch("ultralytics.data.base.BaseDataset.__getitem__", "overrides", "data.dataset", params=("index",)),
    Touch("ultralytics.engine.results.BaseTensor.numpy", "overrides", "engine.results"),
    Touch("ultralytics.engine.results.BaseTensor.cpu", "overrides", "engine.results"),
    Touch("ultralytics.engine.results.BaseTensor.cuda", "overrides", "engine.results"),
    Touch("ultralytics.engine.results.BaseTensor.to", "overrides", "engine.results"),
    Touch("ultralytics.engine.results.BaseTensor.__len__", "overrides", "engine.results"),
    Touch("ultralytics.engine.results.BaseTensor.__getitem__", "overrides", "engine.results", params=("idx",)),
    Touch(
        "ultralytics.engine.predictor.BasePredictor.stream_inference",
        "overrides",
        "models.predict",
        params=("source", "model"),
    ),  # fmt: skip
    Touch("ultralytics.engine.trainer.BaseTrainer.optimizer_step", "overrides", "models.train"),
    Touch(
        "ultralytics.engine.trainer.BaseTrainer.build_optimizer",
        "overrides",
        "models.train",
        params=("model", "name", "lr", "momentum", "decay", "iterations"),
    ),  # fmt: skip
    Touch("ultralytics.engine.trainer.BaseTrainer.resume_training", "overrides", "models.train", params=("ckpt",)),
    Touch("ultralytics.engine.trainer.BaseTrainer._close_dataloader_mosaic", "overrides", "models.train"),
    Touch("ultralytics.engine.trainer.BaseTrainer.add_callback", "calls", "models.train", params=("event", "callback")),
    Touch("ultralytics.nn.tasks.BaseModel._predict_augment", "overrides", "nn.model", params=("x",)),
    # --- tuner, metrics export, results (export/tuner work) ---
    Touch("ultralytics.engine.tuner.Tuner", "calls", "engine.tuner"),
    Touch("ultralytics.utils.tuner.run_ray_tune", "calls", "engine.tuner"),
    Touch("ultralytics.engine.results.Boxes", "calls", "engine.results"),
    Touch("ultralytics.utils.DataExportMixin", "subclasses", "utils.metrics"),
    Touch("ultralytics.utils.SimpleClass", "subclasses", "utils.metrics"),
    Touch("ultralytics.nn.autobackend.check_class_names", "calls", "models.predict", params=("names",)),
    # --- issue 21: atomic checkpoints and results.csv, run-folder lock, named checkpoint errors (models/train.py) ---
    Touch(f"{_T}.save_model", "overrides", "models.train (AtomicPath for self.wdir/last/best during the call)"),
    Touch(
        f"{_T}.save_metrics", "overrides", "models.train (self.csv pointed at a temporary file)", params=("metrics",)
    ),
    Touch(f"{_T}.final_eval", "overrides", "models.train, compat.trainer_strip_optimizer"),
    Touch(f"{_T}.check_resume", "overrides", "models.train (run-folder lock)", params=("overrides",)),
    Touch(f"{_T}.train", "overrides", "models.train (releases the lock)"),
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
