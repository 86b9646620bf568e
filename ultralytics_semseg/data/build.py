"""Resolve and check semseg dataset YAMLs, and build datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ultralytics.data.utils import check_det_dataset
from ultralytics.utils import LOGGER

from ultralytics_semseg.cfg import resolve_data_yaml
from ultralytics_semseg.constants import IGNORE, STRIDE
from ultralytics_semseg.data.dataset import SemSegDataset
from ultralytics_semseg.data.formats import IGNORE_WORDS, resolve_label_format
from ultralytics_semseg.data.utils import is_ignore_value


def check_semseg_dataset(data: str | Path, split: str = "") -> dict[str, Any]:
    """Load a semseg dataset YAML (bare names resolve to the packaged ones), generating or fetching it if needed.

    On top of Ultralytics' checks (`settle_semseg_keys`): `masks_dir` defaults to 'masks', at most 255 classes
    (255 is ignore), `label_mapping` must map integers to integers or null, and the label format (class-id masks,
    colour masks with `colors:`, or YOLO polygons) is settled.

    Examples:
        >>> data = check_semseg_dataset("synthetic-streets.yaml")
        >>> data["label_format"], data["nc"]
        ('masks', 8)

    Raises:
        ValueError: With the YAML path and the offending key for semseg-specific mistakes.
    """
    return settle_semseg_keys(check_det_dataset(resolve_data_yaml(data), split=split))


def settle_semseg_keys(d: dict[str, Any]) -> dict[str, Any]:
    """Validate the semseg-specific keys of a dataset dict already checked by Ultralytics, then complete them.

    `validate_semseg_keys` raises before anything is changed; `complete_semseg_keys` then settles the values. Idempotent
    (the trainer and the validator may both call it on the same dict).

    Raises:
        ValueError: With the YAML path and the offending key for semseg-specific mistakes.
    """
    validate_semseg_keys(d)
    return complete_semseg_keys(d)


def validate_semseg_keys(d: dict[str, Any]) -> None:
    """Raise for semseg-specific mistakes in a dataset dict; change nothing.

    Checked here: `label_mapping` (integers to integers, null or 'ignore_label'), `truncated` ('skip' or 'keep', what
    the pair scan does with a truncated image) and at most 255 classes, counting a class the label format would
    append; the label format checks its own keys (`LabelFormat.validate_keys`: the `colors` table, the polygon
    `background`).

    Raises:
        ValueError: With the YAML path and the offending key.
    """
    name = d.get("yaml_file", "dataset YAML")
    ignore = d.get("ignore_label", IGNORE)
    mapping = d.get("label_mapping")
    if mapping is not None:
        if not isinstance(mapping, dict):
            raise ValueError(f"{name}: 'label_mapping' must be a dict of raw id -> train id, not {type(mapping)}")
        for k, v in mapping.items():
            if not isinstance(k, int) or not (v is None or isinstance(v, int) or v in IGNORE_WORDS):
                raise ValueError(
                    f"{name}: 'label_mapping' entry {k!r}: {v!r} must map an integer to an integer or null"
                )
            if not is_ignore_value(v, ignore) and not 0 <= v < len(d["names"]):
                raise ValueError(f"{name}: 'label_mapping' maps {k} to {v}, outside classes 0..{len(d['names']) - 1}")
    if d.get("truncated", "skip") not in {"skip", "keep"}:
        raise ValueError(f"{name}: 'truncated' must be 'skip' (the default) or 'keep', not {d['truncated']!r}")
    nc = len(d["names"]) + resolve_label_format(d, name).validate_keys(d, name)
    if nc > IGNORE:
        raise ValueError(f"{name}: {nc} classes given; at most {IGNORE} are supported ({IGNORE} means ignore)")


def complete_semseg_keys(d: dict[str, Any]) -> dict[str, Any]:
    """Settle the semseg-specific keys of a dataset dict that `validate_semseg_keys` accepted; return it.

    `masks_dir` is 'masks' by default; `label_format` is the resolved format (`resolve_label_format`), which settles
    its own keys (`LabelFormat.complete_keys`).
    """
    name = d.get("yaml_file", "dataset YAML")
    d["masks_dir"] = d.get("masks_dir") or "masks"
    fmt = resolve_label_format(d, name)
    fmt.complete_keys(d, name)
    d["label_format"] = fmt.name
    return d


def require_matching_classes(
    model_names: dict[int, str] | list[str], data_names: dict[int, str] | list[str], model: str, data: str
) -> None:
    """Refuse a model whose classes do not line up with the dataset YAML's, before any image is read.

    Class ids are matched by position, so the lists must agree. What is accepted and what is not:

    - Same names in the same order: fine. A model with one extra last class 'background' that the YAML lacks is
      fine too: polygon datasets append it (see `settle_semseg_keys`).
    - A dataset holding the model's first classes, same names at the same ids (the built-in synthetic streets are
      ids 0-7 of the packaged 14-class `yolo11n-semseg.pt`): fine, with one line saying so. Every id means the same
      in both; a pixel predicted as one of the model's other classes counts as an error when scored.
    - A different number of classes: an error. Ground-truth ids the model does not have would be dropped from the
      metrics silently, and model ids the YAML does not have would count as false positives.
    - The same names in another order: an error; every reordered class would be scored against another one.
    - The same number of classes with some names edited (e.g. 'car' renamed 'vehicle'): a warning with both lists,
      then validation goes on, matching ids by position.

    Raises:
        ValueError: With both class lists side by side and how to fix it.

    Examples:
        >>> require_matching_classes(["road", "car"], {0: "road", 1: "car"}, "best.pt", "data.yaml")  # fine
        >>> require_matching_classes(["road", "car", "sky"], ["road", "car"], "best.pt", "data.yaml")  # a prefix
        >>> require_matching_classes(["road", "car"], ["car", "road", "sky"], "best.pt", "data.yaml")  # doctest: +SKIP
        ValueError: best.pt has 2 classes but data.yaml has 3; class ids must mean the same in both: ...
    """
    m = list(model_names.values()) if isinstance(model_names, dict) else list(model_names)
    d = list(data_names.values()) if isinstance(data_names, dict) else list(data_names)
    m, d = [str(x) for x in m], [str(x) for x in d]
    model, data = str(model), str(data)
    if m == d or (m[:-1] == d and m[-1].lower() == "background"):
        return
    if len(d) < len(m) and m[: len(d)] == d:
        LOGGER.info(
            f"{Path(data).name} has the first {len(d)} of {Path(model).name}'s {len(m)} classes (same names, same "
            f"ids): scored over all {len(m)}, a pixel predicted as one of the other {len(m) - len(d)} is an error"
        )
        return
    if len(m) != len(d):
        problem = f"{model} has {len(m)} classes but {data} has {len(d)}; class ids must mean the same in both:"
    elif sorted(m) == sorted(d):
        problem = f"{model} and {data} have the same {len(m)} classes in a different order:"
    else:
        LOGGER.warning(
            f"{model} and {data} name some of their {len(m)} classes differently; ids are matched by position:\n"
            + class_table(m, d, model, data)
        )
        return
    raise ValueError(
        f"{problem}\n{class_table(m, d, model, data)}\nUse the dataset YAML the model was trained on (its path is "
        f"in the checkpoint's train_args), or train a model on {data}."
    )


def class_table(model_names: list[str], data_names: list[str], model: str, data: str, limit: int = 20) -> str:
    """Two class lists side by side, one id a line, ids that differ marked '*' (at most `limit` rows shown)."""
    n = max(len(model_names), len(data_names))
    model, data = Path(str(model)).name, Path(str(data)).name
    width = max([len(model), *map(len, model_names)]) + 2
    rows = [f"     id  {model:<{width}}{data}"]
    differ = [i for i in range(n) if model_names[i : i + 1] != data_names[i : i + 1]]
    for i in range(n) if n <= limit else differ[:limit]:
        a = model_names[i] if i < len(model_names) else "-"
        b = data_names[i] if i < len(data_names) else "-"
        rows.append(f"  {'*' if i in differ else ' '} {i:>3}  {a:<{width}}{b}")
    if n > limit:
        rows.append(
            f"  ({len(differ)} of {n} ids differ" + (f", the first {limit} shown)" if len(differ) > limit else ")")
        )
    return "\n".join(rows)


def build_semseg_dataset(
    cfg, img_path: str, batch: int, data: dict, mode: str = "train", stride: int = STRIDE, rect: bool | None = None
):
    """Build a `SemSegDataset` from trainer/validator args.

    Validation uses rectangular batches (the predictor's minimal letterbox) when `rect` (default `cfg.rect`) is set;
    without it every image is letterboxed to `imgsz`, which static exported models need.
    """
    train = mode == "train"
    return SemSegDataset(
        img_path=img_path,
        data=data,
        imgsz=cfg.imgsz,
        cache=(cfg.cache or None) if train else None,
        augment=train,
        hyp=cfg,
        rect=bool(cfg.rect if rect is None else rect) and not train,
        batch_size=batch,
        stride=int(stride),
        pad=0.0,
        prefix=f"{mode}: ",
        fraction=cfg.fraction if train else 1.0,
        channels=data.get("channels", 3),
    )
