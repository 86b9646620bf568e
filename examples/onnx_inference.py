"""Run an exported semseg ONNX model with onnxruntime, numpy and OpenCV only (no PyTorch, no Ultralytics).

Everything the pre- and post-processing needs is read from the model's metadata: class names, input size, stride,
the output contract (`semseg_output`) and the letterbox padding value. The geometry is the one `yolo semseg predict`
uses, so the class maps are the same.

Usage:
    python examples/onnx_inference.py best.onnx street.jpg [more.jpg ...] --out results/

Writes `<out>/<name>.png` (palette-free 8-bit class ids at the original image size; 255 = ignore/low confidence)
and prints the share of pixels per class.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

# Fallbacks for models whose metadata lacks a key; the values of ultralytics_semseg.constants, which is not imported
STRIDE, PAD_VALUE, IGNORE = 32, 114, 255


# A copy of ultralytics_semseg.data.augment.letterbox on purpose: this script runs without PyTorch and Ultralytics.
def letterbox(img: np.ndarray, shape: tuple[int, int], stride: int, auto: bool, pad: int):
    """Resize keeping the aspect ratio, pad (centred) to `shape`, or to the next multiple of `stride` if `auto`."""
    h, w = img.shape[:2]
    r = min(shape[0] / h, shape[1] / w)
    uw, uh = round(w * r), round(h * r)
    dw, dh = shape[1] - uw, shape[0] - uh
    if auto:
        dw, dh = dw % stride, dh % stride
    dw, dh = dw / 2, dh / 2
    if (w, h) != (uw, uh):
        img = cv2.resize(img, (uw, uh), interpolation=cv2.INTER_LINEAR)
    top, bottom, left, right = round(dh - 0.1), round(dh + 0.1), round(dw - 0.1), round(dw + 0.1)
    img = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(pad, pad, pad))
    return img, (top, left, uh, uw)


class SemSegONNX:
    """A semseg ONNX model and the pre/post-processing its metadata describes."""

    def __init__(self, path: str):
        self.session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        meta = self.session.get_modelmeta().custom_metadata_map
        self.names = ast.literal_eval(meta["names"])
        self.imgsz = tuple(ast.literal_eval(meta["imgsz"]))
        self.stride = int(meta.get("stride", STRIDE))
        self.output = meta.get("semseg_output", "classmap")
        self.pad = int(meta.get("pad_value", PAD_VALUE))
        self.ignore = int(meta.get("ignore_index", IGNORE))
        shape = self.session.get_inputs()[0].shape
        self.dynamic = not all(isinstance(d, int) for d in shape[2:])

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        """(H, W) class ids at the original size of a BGR image."""
        img, (top, left, uh, uw) = letterbox(bgr, self.imgsz, self.stride, self.dynamic, self.pad)
        x = np.ascontiguousarray(img[..., ::-1].transpose(2, 0, 1))[None].astype(np.float32) / 255
        out = self.session.run(None, {self.session.get_inputs()[0].name: x})[0][0]
        if self.output.startswith("logits"):  # (nc, h, w) logits: same resizing as `predict`, then argmax
            if self.output == "logits_stride4":
                out = np.stack([cv2.resize(c, (x.shape[3], x.shape[2]), interpolation=cv2.INTER_LINEAR) for c in out])
            out = out[:, top : top + uh, left : left + uw]
            out = np.stack([cv2.resize(c, bgr.shape[1::-1], interpolation=cv2.INTER_LINEAR) for c in out])
            return out.argmax(0).astype(np.uint8)
        out = out[top : top + uh, left : left + uw]
        return cv2.resize(out.astype(np.uint8), bgr.shape[1::-1], interpolation=cv2.INTER_NEAREST)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("images", nargs="+")
    parser.add_argument("--out", default="onnx_results")
    args = parser.parse_args()
    model = SemSegONNX(args.model)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for f in args.images:
        classes = model(cv2.imread(f))
        cv2.imwrite(str(out / (Path(f).stem + ".png")), classes)
        ids, counts = np.unique(classes[classes != model.ignore], return_counts=True)
        share = ", ".join(f"{model.names[int(i)]} {100 * n / counts.sum():.1f}%" for i, n in zip(ids, counts))
        print(f"{f}: {classes.shape[1]}x{classes.shape[0]} {share}")


if __name__ == "__main__":
    main()
