"""How often the CPU postprocess (OpenCV resizes) and the PyTorch reference disagree on the class map, over datasets.

Usage:
    python benchmarks/postprocess_agreement.py [--imgsz 320,640] [--model name=weights.pt ...] [--out DIR]

Issue 20 allows a faster route to the class map only if it equals today's on >= 99.9 % of the pixels over a dataset.
For every image of every set below and every model, the predictor's logits are turned into a class map twice: by
the package (`utils.ops.postprocess`, OpenCV on the CPU) and by the reference (PyTorch's bilinear resize to the
letterboxed input, padding cut by Ultralytics' `scale_masks`, bilinear to the original size, `torch.argmax`).
It counts the differing pixels and the largest reference score margin at any of them (a near-tie is a margin far
below the logits' scale). Sets: the built-in synthetic streets (val), Ultralytics' two photos, and CamVid's val
frames (480x360, read in place from ../shared/data/camvid when present, never copied). Models: the packaged
`yolo11n-semseg.pt`, plus any `--model name=path` (e.g. a benchmark run's CamVid-trained last.pt: such weights stay
on this machine and are never shipped).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAMVID = ROOT.parent / "shared" / "data" / "camvid" / "images" / "val"
OUT = ROOT / "benchmarks" / "results" / "postprocess_agreement"


def image_sets() -> dict[str, list[Path]]:
    """Set name -> image files."""
    from ultralytics.utils import ASSETS

    from ultralytics_semseg.data.build import check_semseg_dataset

    streets = check_semseg_dataset("synthetic-streets.yaml")["val"]  # the built-in dataset (made on first use)
    sets = {
        "synthetic-streets val": sorted(Path(streets).glob("*.jpg")),
        "ultralytics assets": [ASSETS / "bus.jpg", ASSETS / "zidane.jpg"],
    }
    if CAMVID.is_dir():
        sets["camvid val"] = sorted(CAMVID.glob("*.png")) + sorted(CAMVID.glob("*.jpg"))
    return sets


def reference_classes(logits, input_hw, ori_hw, ratio_pad):
    """The reference class map and logits (PyTorch and Ultralytics primitives only)."""
    import torch
    import torch.nn.functional as F
    from ultralytics.utils.ops import scale_masks

    x = logits[None].float().contiguous(memory_format=torch.channels_last)
    x = F.interpolate(x, size=tuple(input_hw), mode="bilinear", align_corners=False)
    x = scale_masks(x, tuple(ori_hw), ratio_pad=ratio_pad)[0]
    return torch.argmax(x, 0).to(torch.uint8), x


def compare(weights: str, files: list[Path], imgsz: int) -> dict:
    """Pixels, differing pixels and the largest reference margin at a differing pixel, for one model and one set."""
    import cv2
    from ultralytics import YOLO

    from ultralytics_semseg.utils.ops import postprocess

    model = YOLO(weights)
    model.predict(files[0], imgsz=imgsz, verbose=False)  # sets up the predictor
    p = model.predictor
    pixels = differ = 0
    worst = 0.0
    for f in files:
        img = cv2.imread(str(f))
        im = p.preprocess([img])
        logits = p.inference(im)
        logits = logits[0] if isinstance(logits, (list, tuple)) else logits
        ours = postprocess(logits, im.shape[2:], [img.shape[:2]], p._ratio_pads)[0]
        ref, ref_logits = reference_classes(logits[0], im.shape[2:], img.shape[:2], p._ratio_pads[0])
        d = ours != ref
        pixels, differ = pixels + d.numel(), differ + int(d.sum())
        if d.any():
            margin = ref_logits.max(0).values[d] - ref_logits.gather(0, ours.long()[None])[0][d]
            worst = max(worst, float(margin.max()))
    return {"images": len(files), "pixels": pixels, "differing": differ, "agreement": 1 - differ / pixels,
            "max_margin_at_differing": worst}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--imgsz", default="320,640")
    p.add_argument("--model", action="append", default=[], help="name=path of another model to check")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "true")
    import torch

    from ultralytics_semseg.cfg import WEIGHTS_DIR

    torch.set_num_threads(2)
    models = {"packaged yolo11n-semseg.pt": str(WEIGHTS_DIR / "yolo11n-semseg.pt")}
    models.update(dict(m.split("=", 1) for m in args.model))
    rows = []
    for set_name, files in image_sets().items():
        for model_name, weights in models.items():
            for imgsz in map(int, args.imgsz.split(",")):
                r = {"set": set_name, "model": model_name, "imgsz": imgsz, **compare(weights, files, imgsz)}
                rows.append(r)
                print(f"| {set_name} | {model_name} | {imgsz} | {r['images']} | {r['pixels']} | {r['differing']} | "
                      f"{100 * r['agreement']:.5f} | {r['max_margin_at_differing']:.2e} |", flush=True)  # fmt: skip
    total, differ = sum(r["pixels"] for r in rows), sum(r["differing"] for r in rows)
    print(f"all: {differ} of {total} pixels differ, agreement {100 * (1 - differ / total):.5f} %")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d-%H%M")
    (out / f"{stamp}.json").write_text(json.dumps({"rows": rows, "pixels": total, "differing": differ}, indent=1))
    print(f"raw: {out / f'{stamp}.json'}")


if __name__ == "__main__":
    main()
