"""False positives where there is nothing to find: what rare-class sampling costs on images without foreground.

Rare-class sampling (`rare_class_sampling`, round 6) draws only the training images that hold a rare class, so on a
binary set with a rare foreground the model never trains on an empty image. This scores trained checkpoints on the
val images of a benchmark dataset, split by whether the image holds foreground: the share of pixels predicted as
foreground on empty images (false-positive rate), and IoU, precision and recall of the foreground on the others.

Usage:
    python benchmarks/empty_tiles.py --dataset roads \\
        --runs "ours=benchmarks/.runs/round4-six-b__roads__ours-dice-pw1__s*" \\
               "ours-rcs01=benchmarks/.runs/round6-roads__roads__ours-rcs01__s*" \\
               "ours-rcs1=benchmarks/.runs/round6-roads__roads__ours-rcs1__s*" \\
               "ours-pw0=benchmarks/.runs/round6-roads__roads__ours-pw0__s*" \\
               "ours-pw05=benchmarks/.runs/round6-roads__roads__ours-pw05__s*" \\
        --json benchmarks/results/round6-roads/empty_tiles/roads.json

Each `NAME=GLOB` names a contender and the run folders of its seeds (`weights/last.pt` in each, as `transfer.py`
scores them). Predictions at the dataset's benchmark image size, at the labels' resolution, class 1 = foreground.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from datasets import DATASETS, ROOT  # noqa: E402


def val_pairs(dataset: str) -> list[tuple[Path, np.ndarray]]:
    """(image path, class map) of every val image of a built benchmark dataset."""
    root = ROOT / dataset
    images = sorted((root / "images" / "val").iterdir())
    return [(p, cv2.imread(str(root / "masks" / "val" / f"{p.stem}.png"), cv2.IMREAD_UNCHANGED)) for p in images]


def score(weights: Path, pairs: list[tuple[Path, np.ndarray]], imgsz: int) -> dict:
    """Foreground false-positive rate on empty images; foreground IoU, precision and recall on the others."""
    from ultralytics import YOLO

    model = YOLO(str(weights))
    fp_empty = px_empty = tp = fp = fn = 0
    for path, mask in pairs:
        pred = model.predict(str(path), imgsz=imgsz, verbose=False)[0].semseg.data.cpu().numpy()
        valid = mask != 255
        p, t = (pred == 1) & valid, (mask == 1) & valid
        if t.any():
            tp, fp, fn = tp + int((p & t).sum()), fp + int((p & ~t).sum()), fn + int((~p & t).sum())
        else:
            fp_empty, px_empty = fp_empty + int(p.sum()), px_empty + int(valid.sum())
    return {
        "weights": str(weights),
        "empty_images_fp_rate": fp_empty / max(px_empty, 1),
        "foreground_iou": tp / max(tp + fp + fn, 1),
        "foreground_precision": tp / max(tp + fp, 1),
        "foreground_recall": tp / max(tp + fn, 1),
    }


def mean_std(runs: list[dict], key: str) -> str:
    """`mean ± std` over seeds of `key`, in percent."""
    v = np.array([r[key] for r in runs]) * 100
    return f"{v.mean():.2f} ± {v.std(ddof=1) if len(v) > 1 else 0:.2f}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="roads")
    p.add_argument("--runs", nargs="+", required=True, metavar="NAME=GLOB")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "true")
    import ultralytics_semseg  # noqa: F401  (registers the task)

    pairs = val_pairs(args.dataset)
    n_empty = sum(not (m == 1).any() for _, m in pairs)
    imgsz = DATASETS[args.dataset]["imgsz"]
    out = {"dataset": args.dataset, "val_images": len(pairs), "empty_val_images": n_empty, "imgsz": imgsz, "runs": {}}
    print(f"{args.dataset}: {len(pairs)} val images, {n_empty} without foreground; imgsz {imgsz}\n")
    print("| contender | seeds | FP rate on empty images (%) | foreground IoU | precision | recall (with foreground) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for spec in args.runs:
        name, pattern = spec.split("=", 1)
        runs = [
            score(Path(d) / "weights" / "last.pt", pairs, imgsz) for d in sorted(glob.glob(pattern)) if os.path.isdir(d)
        ]
        out["runs"][name] = runs
        cells = [mean_std(runs, k) for k in ("empty_images_fp_rate", "foreground_iou", "foreground_precision")]
        print(f"| `{name}` | {len(runs)} | {' | '.join(cells)} | {mean_std(runs, 'foreground_recall')} |")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
