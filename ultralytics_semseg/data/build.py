"""Resolve and check semseg dataset YAMLs, and build datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ultralytics.data.utils import check_det_dataset

from ultralytics_semseg.cfg import resolve_data_yaml
from ultralytics_semseg.data.dataset import SemSegDataset
from ultralytics_semseg.data.utils import IGNORE


def check_semseg_dataset(data: str | Path, split: str = "") -> dict[str, Any]:
    """Load a semseg dataset YAML (bare names resolve to the packaged ones), generating or fetching it if needed.

    On top of Ultralytics' checks (`check_semseg_keys`): `masks_dir` defaults to 'masks', at most 255 classes
    (255 is ignore), and `label_mapping` must map integers to integers or null.

    Raises:
        ValueError: With the YAML path and the offending key for semseg-specific mistakes.
    """
    return check_semseg_keys(check_det_dataset(resolve_data_yaml(data), split=split))


def check_semseg_keys(d: dict[str, Any]) -> dict[str, Any]:
    """Validate and complete the semseg-specific keys of a dataset dict already checked by Ultralytics."""
    name = d.get("yaml_file", "dataset YAML")
    d["masks_dir"] = d.get("masks_dir") or "masks"
    if len(d["names"]) > IGNORE:
        raise ValueError(f"{name}: {len(d['names'])} classes given; at most 255 are supported (255 means ignore)")
    mapping = d.get("label_mapping")
    if mapping is not None:
        if not isinstance(mapping, dict):
            raise ValueError(f"{name}: 'label_mapping' must be a dict of raw id -> train id, not {type(mapping)}")
        for k, v in mapping.items():
            if not isinstance(k, int) or not (v is None or isinstance(v, int)):
                raise ValueError(
                    f"{name}: 'label_mapping' entry {k!r}: {v!r} must map an integer to an integer or null"
                )
            if v is not None and v != d.get("ignore_label", IGNORE) and not 0 <= v < len(d["names"]):
                raise ValueError(f"{name}: 'label_mapping' maps {k} to {v}, outside classes 0..{len(d['names']) - 1}")
    return d


def build_semseg_dataset(cfg, img_path: str, batch: int, data: dict, mode: str = "train", stride: int = 32):
    """Build a `SemSegDataset` from trainer/validator args; validation uses rectangular batches when `cfg.rect`."""
    train = mode == "train"
    return SemSegDataset(
        img_path=img_path,
        data=data,
        imgsz=cfg.imgsz,
        cache=(cfg.cache or None) if train else None,
        augment=train,
        hyp=cfg,
        rect=bool(cfg.rect) and not train,
        batch_size=batch,
        stride=int(stride),
        pad=0.0,
        prefix=f"{mode}: ",
        fraction=cfg.fraction if train else 1.0,
        channels=data.get("channels", 3),
    )
