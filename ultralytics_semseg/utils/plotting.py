"""Colour palette, mask overlays with a legend, and palette PNGs for class maps."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from ultralytics.utils.plotting import colors

from ultralytics_semseg.constants import IGNORE
from ultralytics_semseg.utils.files import write_output


def palette(n: int = 256) -> np.ndarray:
    """(256, 3) uint8 RGB palette: Ultralytics' class colours, black for 255 (ignore)."""
    p = np.array([colors(i, bgr=False) for i in range(256)], dtype=np.uint8)
    p[IGNORE] = 0
    return p[:n] if n < 256 else p


def colorize(mask: np.ndarray) -> np.ndarray:
    """Class map (H, W) -> BGR colour image (H, W, 3)."""
    return palette()[np.clip(mask, 0, 255).astype(np.uint8)][..., ::-1].copy()


def overlay(
    img: np.ndarray, mask: np.ndarray, names: dict[int, str] | None = None, alpha: float = 0.5, legend: bool = True
) -> np.ndarray:
    """Blend a class map over a BGR image; ignore pixels stay unblended. Draw a legend of the classes present."""
    img = np.ascontiguousarray(img.copy())
    if mask.shape != img.shape[:2]:
        mask = cv2.resize(mask.astype(np.uint8), img.shape[1::-1], interpolation=cv2.INTER_NEAREST)
    valid = mask != IGNORE
    img[valid] = (img[valid] * (1 - alpha) + colorize(mask)[valid] * alpha).astype(np.uint8)
    if legend and names:
        draw_legend(img, [int(c) for c in np.unique(mask[valid])], names)
    return img


def draw_legend(img: np.ndarray, classes: list[int], names: dict[int, str]) -> None:
    """Draw coloured swatches with class names in the top-left corner, in place."""
    scale = max(min(img.shape[:2]) / 700, 0.35)
    th = max(int(18 * scale), 8)
    thick = max(int(scale * 1.5), 1)
    x0, y = 4, 4
    for c in classes:
        label = str(names.get(c, c))
        (tw, _), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale * 0.5, thick)
        cv2.rectangle(img, (x0, y), (x0 + th + tw + 8, y + th + 2), (0, 0, 0), -1)
        cv2.rectangle(img, (x0 + 1, y + 1), (x0 + th, y + th), colors(c, bgr=True), -1)
        cv2.putText(
            img, label, (x0 + th + 4, y + th - 3), cv2.FONT_HERSHEY_SIMPLEX, scale * 0.5, (255, 255, 255), thick
        )
        y += th + 3
        if y + th > img.shape[0]:
            break


def save_class_png(mask: np.ndarray, path: str | Path) -> None:
    """Save a class-id map as a palette PNG (values are ids, viewers show colours); 16-bit grey for ids > 255.

    Encoded in memory and written atomically: a full disk is a `DiskFullError` naming the file, never a cut PNG.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if mask.size and mask.max() > 255:
        im = Image.fromarray(mask.astype(np.uint16))
    else:
        im = Image.fromarray(mask.astype(np.uint8))  # mode L; putpalette turns it into P
        im.putpalette(palette().ravel().tolist())
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    write_output(path, buf.getvalue(), "class-map PNG", intact="the PNGs written before it are complete")


def plot_pairs(
    images: list, gts: list, preds: list | None, names: dict[int, str], fname: str | Path, max_images: int = 8
) -> None:
    """Save a grid, one row per image: ground-truth overlay | prediction overlay (image | ground truth without preds).

    `images` are file paths or BGR arrays; masks are arrays or tensors of class ids.
    """
    rows = []
    preds = preds if preds is not None else [None] * len(gts)
    for im, gt, pred in list(zip(images, gts, preds))[:max_images]:
        img = cv2.imread(str(im)) if isinstance(im, (str, Path)) else np.ascontiguousarray(im)
        if img is None:
            continue
        gt = np.asarray(gt.cpu() if hasattr(gt, "cpu") else gt)
        left, right = (img, overlay(img, gt, names)) if pred is None else (overlay(img, gt, names), None)
        if right is None:
            right = overlay(img, np.asarray(pred.cpu() if hasattr(pred, "cpu") else pred), names)
        pair = np.concatenate([left, right], 1)
        width = 640
        rows.append(cv2.resize(pair, (width, max(1, round(pair.shape[0] * width / pair.shape[1])))))
    if rows:
        cv2.imwrite(str(fname), np.concatenate(rows, 0))


def plot_class_distribution(counts: np.ndarray, names: dict[int, str], fname: str | Path, on_plot=None) -> None:
    """Bar chart of labelled pixels per class (log scale), saved as `labels.jpg` in the run folder."""
    fig, ax = _figure(max(6, 0.4 * len(names)), 4)
    ax.bar(
        range(len(counts)),
        np.maximum(counts, 1),
        color=[np.array(colors(i, bgr=False)) / 255 for i in range(len(counts))],
    )
    ax.set_yscale("log")
    ax.set_xticks(range(len(counts)), [names[i] for i in range(len(counts))], rotation=90)
    ax.set_ylabel("pixels")
    ax.set_title("Labelled pixels per class (train)")
    fig.savefig(fname, dpi=150)
    if on_plot:
        on_plot(fname)


def _figure(width: float, height: float):
    """A matplotlib Figure that renders off-screen without touching the user's pyplot backend."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), tight_layout=True)
    return fig, fig.subplots()


def plot_confusion_matrix(matrix: np.ndarray, names: dict[int, str], fname: str | Path) -> None:
    """Row-normalised confusion matrix (each ground-truth class sums to 1) with class names."""
    cm = np.asarray(matrix, dtype=np.float64)
    cm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    n = len(names)
    size = max(5, 0.45 * n + 2)
    fig, ax = _figure(size, size * 0.9)
    im = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1)
    labels = [names[i] for i in range(n)]
    ax.set_xticks(range(n), labels, rotation=90)
    ax.set_yticks(range(n), labels)
    if n <= 30:
        for i in range(n):
            for j in range(n):
                if cm[i, j] >= 0.005:
                    ax.text(j, i, f"{cm[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if cm[i, j] > 0.5 else "black")  # fmt: skip
    ax.set_xlabel("Predicted")
    ax.set_ylabel("Ground truth")
    ax.set_title("Confusion matrix (normalised per ground-truth class)")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.savefig(fname, dpi=150)


def plot_iou_bars(iou: np.ndarray, names: dict[int, str], fname: str | Path) -> None:
    """Per-class IoU bar chart; classes without ground truth or predictions are marked n/a."""
    n = len(names)
    fig, ax = _figure(max(6, 0.4 * n), 4)
    vals = np.nan_to_num(iou, nan=0.0)
    ax.bar(range(n), vals, color=[np.array(colors(i, bgr=False)) / 255 for i in range(n)])
    for i, v in enumerate(iou):
        ax.text(i, (0 if np.isnan(v) else v) + 0.01, "n/a" if np.isnan(v) else f"{v:.2f}", ha="center", fontsize=7)
    ax.set_xticks(range(n), [names[i] for i in range(n)], rotation=90)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("IoU")
    ax.set_title(f"IoU per class (mIoU {np.nanmean(iou) if np.isfinite(iou).any() else 0:.3f})")
    fig.savefig(fname, dpi=150)
