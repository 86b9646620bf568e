"""List every problem of a semseg dataset at once, without training.

Command line::

    python -m ultralytics_semseg.data.check path/to/data.yaml [--splits train val]

Every image/label pair of every split is verified as training would (image complete and decoding in full, label present,
mask size equal to the image size, ids valid after `label_mapping`, polygon lines well-formed). Errors (pairs that
training would skip), dataset-level warnings (unknown colours, images without polygon labels, classes without any
pixel, truncated images kept by `truncated: keep`) and the class pixel shares are printed together. The exit status is
1 when there is an error, else 0. Nothing is written: no cache, no dataset change. Training and `yolo semseg val` print
the same errors as warnings when they start.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ultralytics_semseg.data.formats import LabelFormat, kept_truncated, label_format_for, scan_pairs


@dataclass
class SplitReport:
    """What the check found in one split."""

    split: str
    images: int = 0
    usable: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: np.ndarray | None = None


def load_dataset_dict(data: str | Path) -> dict[str, Any]:
    """The checked dataset dict of a YAML, without running its `download:` script."""
    from ultralytics.data.utils import check_det_dataset

    from ultralytics_semseg.cfg import resolve_data_yaml
    from ultralytics_semseg.data.build import settle_semseg_keys

    return settle_semseg_keys(check_det_dataset(resolve_data_yaml(data), autodownload=False))


class _ImageListing:
    """The attributes Ultralytics' `BaseDataset.get_img_files` reads.

    With it the check lists a split's images exactly as training does (folders recursively, `.txt` lists of paths,
    lists of both) without building a dataset.
    """

    prefix, fraction = "", 1.0


def list_images(img_path: str | list[str]) -> list[str]:
    """Image files of a split, listed by Ultralytics' `BaseDataset.get_img_files`.

    Raises:
        FileNotFoundError: Naming the path, when it does not exist or holds no image.
    """
    from ultralytics.data.base import BaseDataset

    try:
        return BaseDataset.get_img_files(_ImageListing(), img_path)
    except FileNotFoundError:
        missing = [str(x) for x in (img_path if isinstance(img_path, list) else [img_path]) if not Path(x).exists()]
        raise FileNotFoundError(
            f"{', '.join(missing)} does not exist" if missing else f"no images found in {img_path}"
        ) from None


def check_split(d: dict[str, Any], split: str, fmt: LabelFormat) -> SplitReport:
    """Verify every pair of one split."""
    report = SplitReport(split)
    try:
        im_files = list_images(d[split])
    except FileNotFoundError as e:
        report.errors.append(f"{e}")
        return report
    report.images = len(im_files)
    labels, report.errors = scan_pairs(im_files, fmt.label_files(im_files), fmt, desc=f"{split}: checking")
    report.usable = len(labels)
    if not labels:
        return report
    report.notes = fmt.describe()
    try:
        report.warnings = kept_truncated(labels) + fmt.summarize(labels)
    except FileNotFoundError as e:
        report.errors.append(str(e))
    report.counts = np.sum([x["counts"] for x in labels], 0)
    empty = [d["names"][i] for i in np.flatnonzero(report.counts == 0)]
    if empty:
        report.warnings.append(f"classes without any pixel: {', '.join(map(str, empty))}")
    return report


def check_dataset(data: str | Path, splits: tuple[str, ...] = ("train", "val", "test")) -> list[SplitReport]:
    """Check all pairs of the given splits of a dataset YAML and return one report per split that is defined.

    Examples:
        >>> import contextlib, io
        >>> with contextlib.redirect_stdout(io.StringIO()):  # the progress bars are not part of the example
        ...     reports = check_dataset("synthetic-streets.yaml")
        >>> [(r.split, r.images, len(r.errors)) for r in reports]
        [('train', 96, 0), ('val', 24, 0)]
    """
    d = load_dataset_dict(data)
    fmt = label_format_for(d)
    return [check_split(d, s, fmt) for s in splits if d.get(s)]


def format_report(data: str | Path, reports: list[SplitReport], names: dict[int, str]) -> str:
    """Human-readable text of the reports: errors and warnings per split, class shares, totals."""
    lines = [f"Checked {data}"]
    for r in reports:
        lines.append(f"{r.split}: {r.images} images, {r.usable} usable, {r.images - r.usable} with errors")
        lines += [f"  ERROR {m}" for m in r.errors]
        lines += [f"  WARNING {m}" for m in r.warnings]
        lines += [f"  note: {m}" for m in r.notes]
        if r.counts is not None and r.counts.sum():
            share = r.counts / r.counts.sum()
            lines.append("  pixel share: " + ", ".join(f"{names[i]} {100 * s:.1f}%" for i, s in enumerate(share)))
    n_err, n_warn = sum(len(r.errors) for r in reports), sum(len(r.warnings) for r in reports)
    lines.append(f"{n_err} errors, {n_warn} warnings" + ("" if n_err else " - every pair is usable"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status (1 if any pair has an error)."""
    parser = argparse.ArgumentParser(
        prog="python -m ultralytics_semseg.data.check", description="List every problem of a semseg dataset at once."
    )
    parser.add_argument("data", help="dataset YAML (a path, or a packaged name such as cityscapes.yaml)")
    parser.add_argument("--splits", nargs="+", default=["train", "val", "test"])
    a = parser.parse_args(argv)
    try:
        d = load_dataset_dict(a.data)
        fmt = label_format_for(d)
        reports = [check_split(d, s, fmt) for s in a.splits if d.get(s)]
    except (FileNotFoundError, ValueError, SyntaxError, TypeError) as e:
        print(f"ERROR {a.data}: {e}")
        return 1
    print(format_report(d.get("yaml_file", a.data), reports, d["names"]))
    return int(any(r.errors for r in reports))


if __name__ == "__main__":
    raise SystemExit(main())
