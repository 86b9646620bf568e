"""Model and dataset YAMLs shipped with the package, and the task's training defaults.

Ultralytics only searches its own `cfg/` folder for bare names such as `yolo11n-semseg.yaml`, so the plug-in resolves
its names here and hands Ultralytics full paths.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
from pathlib import Path

from ultralytics_semseg.constants import DEFAULT_DATA, TASK

CFG_DIR = Path(__file__).parent
MODELS_DIR = CFG_DIR / "models"
DATASETS_DIR = CFG_DIR / "datasets"
DEFAULT_CFG_PATH = CFG_DIR / "default.yaml"
WEIGHTS_DIR = CFG_DIR.parent / "weights"  # pretrained checkpoints shipped in the wheel (model card: docs/models.md)
# What each packaged checkpoint is and what to do with it: said once per process on its first use for prediction
PACKAGED_NOTES = {
    "yolo11n-semseg.pt": "yolo11n-semseg.pt is the packaged start for fine-tuning, pretrained on generated images only "
    "(14 classes: 8 of street scenes, 6 of aerial tiles), not a model of real photos; fine-tune it on your data: yolo "
    "semseg train model=yolo11n-semseg.pt data=path/to/data.yaml (model card: docs/models.md)",
    "yolo26n-semseg.pt": "yolo26n-semseg.pt is the packaged YOLO26n start for fine-tuning, pretrained on generated "
    "images only (the same 14 classes as yolo11n-semseg.pt), not a model of real photos; fine-tune it on your data: "
    "yolo semseg train model=yolo26n-semseg.pt data=path/to/data.yaml (model card: docs/models.md)",
}
HEAD_NAME = "SemSegHead"  # avoids every head-name substring that Ultralytics uses to guess other tasks


def _unscaled(p: Path) -> Path:
    """'yolo26s-semseg.yaml' -> 'yolo26-semseg.yaml': the file holding every scale (only the file name is edited)."""
    return p.with_name(re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", p.stem) + p.suffix)


def _is_bare_name(p: Path) -> bool:
    return p.parent == Path(".") and not p.exists()


def resolve_model_yaml(name: str | Path) -> str | Path:
    """Return the packaged path for a bare semseg model name, e.g. 'yolo11n-semseg.yaml', else `name` unchanged.

    The scale letter stays in the returned file name: Ultralytics reads it to pick the scale of the unified YAML.

    Examples:
        >>> resolve_model_yaml("yolo26s-semseg.yaml")  # doctest: +ELLIPSIS
        '.../ultralytics_semseg/cfg/models/yolo26s-semseg.yaml'

    Raises:
        FileNotFoundError: For a bare '*-semseg.yaml' name that is neither packaged nor on disk, listing the valid ones.
    """
    p = Path(name)
    if p.suffix not in {".yaml", ".yml"} or not _is_bare_name(p):
        return name
    if (MODELS_DIR / p.name).exists() or (MODELS_DIR / _unscaled(p).name).exists():
        return str(MODELS_DIR / p.name)
    if "-semseg" in p.stem:
        raise FileNotFoundError(
            f"Model '{name}' not found: it is no file in the current directory and no semseg model of this package. "
            f"Valid names: {', '.join(model_names())}; or the path to a model YAML of your own whose last head row is "
            f"{HEAD_NAME}."
        )
    return name


def model_names() -> list[str]:
    """Every packaged model name, one per scale, e.g. ['yolo11n-semseg.yaml', ..., 'yolo26x-semseg.yaml']."""
    from ultralytics.utils import YAML

    names = []
    for f in sorted(MODELS_DIR.glob("*.yaml")):
        head, _, tail = f.stem.partition("-")
        names += [f"{head}{s}-{tail}{f.suffix}" for s in YAML.load(f).get("scales", {"": None})]
    return names


def is_packaged_model(path: str | Path) -> bool:
    """True for a (possibly scaled, hence virtual) model path inside the package, as `resolve_model_yaml` returns."""
    p = Path(path)
    return p.parent == MODELS_DIR and p.suffix in {".yaml", ".yml"}


def load_model_yaml(path: str | Path) -> dict:
    """Load a packaged model YAML by its scaled name, e.g. '.../yolo26s-semseg.yaml' -> yolo26-semseg.yaml, scale s.

    Ultralytics' `yaml_model_load` strips the scale with a regex over the whole path, which also edits directory names
    such as '/tmp/tmp.3lf...' ('3l' looks like a scale); here only the file name is touched.
    """
    from ultralytics.nn.tasks import guess_model_scale
    from ultralytics.utils import YAML

    p = Path(path)
    d = YAML.load(p if p.is_file() else _unscaled(p))
    d["scale"] = guess_model_scale(p)
    d["yaml_file"] = str(p)
    return d


def resolve_data_yaml(name: str | Path | None) -> str | Path | None:
    """Return the packaged path for a bare dataset name such as 'synthetic-streets.yaml', else `name` unchanged.

    Raises:
        FileNotFoundError: For a dataset YAML that exists nowhere (neither on disk, packaged nor in Ultralytics).
    """
    if name is None:
        return None
    p = Path(str(name))
    if p.suffix not in {".yaml", ".yml"} and (DATASETS_DIR / f"{p.name}.yaml").exists() and _is_bare_name(p):
        p = p.with_name(f"{p.name}.yaml")  # 'synthetic-streets' -> 'synthetic-streets.yaml'
    if _is_bare_name(p) and (DATASETS_DIR / p.name).exists():
        return str(DATASETS_DIR / p.name)
    if p.suffix in {".yaml", ".yml"} and "://" not in str(name) and not p.exists():
        from ultralytics.utils.checks import check_file

        if not check_file(str(name), hard=False):  # nor one of Ultralytics' own dataset YAMLs
            packaged = ", ".join(sorted(f.name for f in DATASETS_DIR.glob("*.yaml")))
            raise FileNotFoundError(
                f"Dataset YAML '{name}' not found (looked for {Path(name).absolute()}). Pass the path to your data "
                f"YAML, e.g. data=path/to/data.yaml, or a packaged one: {packaged}."
            )
    return name


def is_semseg_yaml(path: str | Path) -> bool:
    """True if a model YAML ends in our head, so YOLO() can pick the task without being told."""
    from ultralytics.nn.tasks import yaml_model_load

    try:
        head = (load_model_yaml(path) if is_packaged_model(path) else yaml_model_load(path)).get("head") or []
    except Exception:  # a missing or malformed file is reported by Ultralytics itself later
        return False
    return bool(head) and head[-1][2] == HEAD_NAME


def packaged_weights() -> list[str]:
    """Names of the pretrained checkpoints shipped in the wheel, e.g. ['yolo11n-semseg.pt']."""
    return sorted(f.name for f in WEIGHTS_DIR.glob("*.pt"))


def resolve_weights(name: str | Path) -> str | Path:
    """Return the packaged checkpoint for a bare semseg weights name that is not on disk, else `name` unchanged.

    The packaged file is only ever read; `resolve_model` hands `YOLO()` a copy in the working directory instead.

    Examples:
        >>> import os, tempfile
        >>> cwd = os.getcwd(); os.chdir(tempfile.mkdtemp())  # a folder without a yolo11n-semseg.pt of the user's
        >>> resolve_weights("yolo11n-semseg.pt")  # doctest: +ELLIPSIS
        '.../ultralytics_semseg/weights/yolo11n-semseg.pt'
        >>> os.chdir(cwd)

    Raises:
        FileNotFoundError: For semseg weights such as 'yolo26s-semseg.pt' that are neither on disk nor packaged: none
            can be downloaded, so the error lists the packaged ones and says how to train others.
    """
    p = Path(str(name))
    if p.suffix != ".pt" or "-semseg" not in p.stem or p.exists() or "://" in str(name):
        return name
    if _is_bare_name(p) and (WEIGHTS_DIR / p.name).is_file():
        return str(WEIGHTS_DIR / p.name)
    raise FileNotFoundError(
        f"Semseg weights '{name}' were not found on disk, and no semseg weights are downloaded. Pretrained weights "
        f"shipped with the package: {', '.join(packaged_weights()) or 'none'}. To train others first, e.g. 'yolo "
        f"semseg train model={p.stem}.yaml data=your-data.yaml' (optionally with 'pretrained=yolo11n.pt' for a "
        f"detection backbone), then pass the path to runs/semseg/train/weights/best.pt."
    )


def packaged_note(path: str | Path | None) -> str | None:
    """The note on a packaged pretrained checkpoint if `path` is one (or a byte-identical copy of one), else None.

    Examples:
        >>> packaged_note(WEIGHTS_DIR / "yolo11n-semseg.pt")  # doctest: +ELLIPSIS
        'yolo11n-semseg.pt is the packaged start for fine-tuning, ...'
        >>> packaged_note("runs/semseg/train/weights/best.pt") is None
        True
    """
    if not isinstance(path, (str, Path)) or not Path(path).is_file():
        return None
    size = Path(path).stat().st_size
    for name, note in PACKAGED_NOTES.items():
        packaged = WEIGHTS_DIR / name
        if packaged.is_file() and packaged.stat().st_size == size and filecmp.cmp(path, packaged, shallow=False):
            return note
    return None


def default_predict_source() -> str:
    """`yolo semseg predict` without `source=`: the validation images of the built-in dataset, generated if needed.

    They are scenes of the task's defaults (`DEFAULT_DATA`, the classes 0-7 of the packaged `DEFAULT_MODEL`), where
    Ultralytics' own default photos (bus.jpg, zidane.jpg) are nothing the packaged weights have seen.
    """
    from ultralytics_semseg.data.build import check_semseg_dataset

    data = check_semseg_dataset(DEFAULT_DATA)
    return str(data["val"])


def copy_packaged_weights(name: str | Path) -> str | Path:
    """`resolve_weights`, but a packaged checkpoint is first copied to the working directory and that copy returned.

    Ultralytics places a downloaded `yolo11n.pt` there too: exports and other files written next to the weights then
    land in the working directory, not in the installed package. A read-only working directory gets the packaged path.
    """
    from ultralytics.utils import LOGGER

    packaged = resolve_weights(name)
    if packaged == name:
        return name
    target = Path(Path(str(name)).name)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(packaged, tmp)
        os.replace(tmp, target)  # whole or absent, also with several processes starting at once
    except OSError as e:
        tmp.unlink(missing_ok=True)
        LOGGER.warning(f"Could not copy the packaged '{target.name}' to {Path.cwd()} ({e}); using it in place.")
        return packaged
    LOGGER.info(f"Copied the packaged pretrained weights to {target.absolute()} (what they are: docs/models.md).")
    return str(target)


def resolve_model(model, task: str | None = None) -> tuple[object, str | None]:
    """Resolve bare semseg model and weights names and infer `task='semseg'` for what `YOLO(model)` receives.

    Raises:
        FileNotFoundError: For semseg weights that are neither on disk nor packaged (see `resolve_weights`).
    """
    if not isinstance(model, (str, Path)):
        return model, task
    p = Path(str(model))
    if p.suffix in {".yaml", ".yml"}:
        model = resolve_model_yaml(model)
        if task is None and is_semseg_yaml(model):
            task = TASK
    elif p.suffix == ".pt":
        model = copy_packaged_weights(model)
    return model, task


def load_defaults() -> dict:
    """Task-specific training defaults from `default.yaml`; they override Ultralytics' detection-oriented ones."""
    from ultralytics.utils import YAML

    return {k: v for k, v in YAML.load(DEFAULT_CFG_PATH).items() if not str(k).startswith("_")}
