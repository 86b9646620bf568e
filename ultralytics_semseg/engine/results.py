"""Prediction results of the semseg task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from ultralytics.engine.results import BaseTensor, Boxes, Masks, Results

from ultralytics_semseg.constants import IGNORE
from ultralytics_semseg.utils.plotting import overlay, save_class_png


class SemSegMap(BaseTensor):
    """The class-id map of one image, (H, W) at the original image size; 255 marks ignored / low-confidence pixels.

    Attributes:
        data (torch.Tensor | np.ndarray): (H, W) class ids, uint8 for up to 256 classes.
        conf (torch.Tensor | np.ndarray | None): (H, W) max softmax probability, with `return_conf=True`.
        probs (torch.Tensor | np.ndarray | None): (nc, H, W) softmax probabilities, with `return_probs=True`.
    """

    def __init__(self, data, orig_shape, conf=None, probs=None):
        """Wrap a class map with its optional confidence and probabilities."""
        super().__init__(data, orig_shape)
        self.conf, self.probs = conf, probs

    def _map(self, fn: str, *args, **kwargs) -> SemSegMap:
        def f(x):
            return None if x is None else getattr(x, fn)(*args, **kwargs)

        return SemSegMap(f(self.data), self.orig_shape, f(self.conf), f(self.probs))

    def cpu(self) -> SemSegMap:
        """Return a copy with every tensor on the CPU."""
        return self._map("cpu")

    def numpy(self) -> SemSegMap:
        """Return a copy with numpy arrays (itself if it holds arrays already)."""
        return self if isinstance(self.data, np.ndarray) else self._map("numpy")

    def cuda(self) -> SemSegMap:
        """Return a copy with every tensor on the GPU."""
        return self._map("cuda")

    def to(self, *args, **kwargs) -> SemSegMap:
        """Return a copy with every tensor moved or cast as `torch.Tensor.to(*args, **kwargs)` does."""
        return self._map("to", *args, **kwargs)

    def __len__(self) -> int:
        """One dense map per image (0 for an empty map), not its number of rows."""
        return int(self.data.shape[0] > 0)  # one dense map per image, not H rows

    def __getitem__(self, idx) -> SemSegMap:
        """The whole map for any index: a dense map is not split (Ultralytics indexes results per detection)."""
        return SemSegMap(self.data, self.orig_shape, self.conf, self.probs)  # a dense map is indivisible

    def pixel_counts(self, nc: int) -> np.ndarray:
        """Pixels per class id 0..nc-1 (ignore excluded)."""
        d = torch.as_tensor(self.data).long().flatten()
        return torch.bincount(d[(d != IGNORE) & (d < nc)], minlength=nc)[:nc].cpu().numpy()


class SemSegMasks(Masks):
    """One binary mask per class present, (K, H, W), with the class ids in `cls`, like Ultralytics' segment masks."""

    def __init__(self, masks, orig_shape, cls):
        """Binary masks (K, H, W) and their K class ids."""
        super().__init__(masks, orig_shape)
        self.cls = cls


class SemSegResults(Results):
    """`Results` carrying `semseg`, a `SemSegMap` with the class map at the original image size.

    `.cpu()`, `.numpy()`, `.to()` and indexing return `SemSegResults` again. `masks` and `boxes` are derived from the
    class map, one row per class present, in the same order: `masks` holds the binary masks with `masks.cls` the
    class ids (and `masks.xy` polygons); `boxes` the bounding box of each class mask, its class id and, as
    confidence, the mean max-softmax of its pixels when the result has a confidence map (`return_conf=True`), else
    1.0. This is what `supervision.Detections.from_ultralytics(result)` reads (ids, names, masks, confidence).

    Examples:
        >>> classes = torch.tensor([[0, 0, 1], [255, 1, 1]], dtype=torch.uint8)  # what predict() gives, 255 = ignore
        >>> r = SemSegResults(np.zeros((2, 3, 3), np.uint8), "street.jpg", {0: "road", 1: "car"}, semseg=classes)
        >>> r.semseg.data.shape  # (H, W) uint8 class ids at the original image size
        torch.Size([2, 3])
        >>> r.masks.data.shape, r.masks.cls.tolist()  # (K, H, W) binary masks, their K class ids
        (torch.Size([2, 2, 3]), [0, 1])
        >>> r.boxes.cls.tolist(), r.boxes.xyxy.tolist()  # the same K classes: ids and the bounding boxes of their masks
        ([0.0, 1.0], [[0.0, 0.0, 2.0, 1.0], [1.0, 0.0, 3.0, 2.0]])
        >>> r.summary()
        [{'name': 'road', 'class': 0, 'pixel_ratio': 0.4}, {'name': 'car', 'class': 1, 'pixel_ratio': 0.6}]
        >>> r.save_mask("street_mask.png")  # palette PNG of class ids  # doctest: +SKIP
    """

    def __init__(self, orig_img, path: str, names: dict, semseg=None, speed=None, conf=None, probs=None):
        """Store the image, its path, the class names and the class map (with optional confidence and probabilities)."""
        super().__init__(orig_img, path=path, names=names, speed=speed)
        self.semseg = SemSegMap(semseg, self.orig_shape, conf, probs) if semseg is not None else None
        self._keys = ("semseg", *(k for k in self._keys if k not in {"masks", "boxes"}))  # derived from semseg

    def _class_masks(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(K, H, W) bool masks of the classes present (ignore excluded) and their (K,) class ids, ascending."""
        data = torch.as_tensor(self.semseg.data)
        ids = [c for c in torch.unique(data).tolist() if c != IGNORE and c in self.names]
        cls = torch.tensor(ids, dtype=torch.long, device=data.device)
        return data[None] == cls[:, None, None].to(data.dtype), cls

    @property
    def masks(self) -> SemSegMasks | None:
        """Binary mask per class present in the class map, with the class ids in `masks.cls` (None without a map)."""
        if getattr(self, "semseg", None) is None:
            return None
        masks, cls = self._class_masks()
        return SemSegMasks(masks.to(torch.uint8), self.orig_shape, cls)

    @masks.setter
    def masks(self, value) -> None:
        if value is not None:
            raise AttributeError("SemSegResults.masks is derived from the class map in `semseg`")

    @property
    def boxes(self) -> Boxes | None:
        """One box per class present: the bounding box of its mask, mean confidence (1.0 without a conf map), id."""
        if getattr(self, "semseg", None) is None:
            return None
        masks, cls = self._class_masks()
        rows, cols = masks.any(2), masks.any(1)  # (K, H), (K, W)
        ar_h, ar_w = torch.arange(rows.shape[1], device=masks.device), torch.arange(cols.shape[1], device=masks.device)
        big = max(rows.shape[1], cols.shape[1]) + 1
        x1, x2 = torch.where(cols, ar_w, big).amin(1), torch.where(cols, ar_w, -1).amax(1) + 1
        y1, y2 = torch.where(rows, ar_h, big).amin(1), torch.where(rows, ar_h, -1).amax(1) + 1
        conf = self.semseg.conf
        if conf is None:
            score = torch.ones(len(cls), device=masks.device)
        else:
            conf = torch.as_tensor(conf, device=masks.device).float()
            score = (masks * conf).flatten(1).sum(1) / masks.flatten(1).sum(1).clamp(min=1)
        data = torch.stack((x1, y1, x2, y2, score, cls), 1).float()
        return Boxes(data.numpy() if isinstance(self.semseg.data, np.ndarray) else data, self.orig_shape)

    @boxes.setter
    def boxes(self, value) -> None:
        if value is not None:
            raise AttributeError("SemSegResults.boxes is derived from the class map in `semseg`")

    def new(self) -> SemSegResults:
        """An empty `SemSegResults` for the same image, as Ultralytics' `Results.new` returns."""
        r = SemSegResults(orig_img=self.orig_img, path=self.path, names=self.names, speed=self.speed)
        r.save_dir = self.save_dir
        return r

    def _mask(self) -> np.ndarray:
        data = self.semseg.data
        return data.cpu().numpy() if isinstance(data, torch.Tensor) else np.asarray(data)

    def plot(
        self,
        labels: bool = True,
        alpha: float = 0.5,
        img: np.ndarray | None = None,
        show: bool = False,
        save: bool = False,
        filename: str | None = None,
        **kwargs: Any,
    ) -> np.ndarray:
        """Colour overlay of the class map on the image (BGR), with a legend of the classes present when `labels`.

        Other keyword arguments of `Results.plot` (boxes, conf, line_width, ...) are accepted and ignored.
        """
        im = self.orig_img if img is None else img
        if isinstance(im, torch.Tensor):
            im = (im[0] if im.ndim == 4 else im).permute(1, 2, 0).flip(-1).mul(255).byte().cpu().numpy()
        out = overlay(im, self._mask(), self.names, alpha=alpha, legend=labels) if self.semseg is not None else im
        if show:
            from PIL import Image

            Image.fromarray(out[..., ::-1]).show()
        if save:  # encoded in memory, written atomically: cv2.imwrite fails silently on a full disk
            import cv2

            from ultralytics_semseg.utils.files import write_output

            ok, buf = cv2.imencode(Path(filename).suffix or ".jpg", out)
            if not ok:
                raise ValueError(f"cannot encode the overlay as {Path(filename).suffix!r} for {filename}")
            write_output(filename, buf.tobytes(), "overlay image", intact="the images written before it are complete")
        return out

    def verbose(self) -> str:
        """Log string: the classes present with their pixel share, largest first."""
        if self.semseg is None:
            return ""
        share = [(d["pixel_ratio"], d["name"]) for d in self.summary(decimals=3)]
        return "".join(f"{n} {100 * r:.0f}%, " for r, n in sorted(share, reverse=True)) or "(no labelled pixels), "

    def summary(self, normalize: bool = False, decimals: int = 5) -> list[dict[str, Any]]:
        """Per-class pixel share of the valid (non-ignore) pixels, for the classes present."""
        if self.semseg is None:
            return []
        counts = self.semseg.pixel_counts(len(self.names))
        total = max(int(counts.sum()), 1)
        return [
            {"name": self.names[c], "class": int(c), "pixel_ratio": round(float(n) / total, decimals)}
            for c, n in enumerate(counts)
            if n
        ]

    def save_mask(self, filename: str | Path) -> str:
        """Write the class map as a palette PNG (values = class ids, 255 = ignore); return the path."""
        path = Path(filename).with_suffix(".png")
        save_class_png(self._mask(), path)
        return str(path)

    def save_txt(self, txt_file: str | Path, save_conf: bool = False) -> str:
        """The semseg label format is a class-id PNG, so `save_txt` writes `<name>.png` instead of a .txt file."""
        return self.save_mask(txt_file)
