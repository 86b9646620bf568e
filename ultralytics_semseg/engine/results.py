"""Prediction results of the semseg task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from ultralytics.engine.results import BaseTensor, Results

from ultralytics_semseg.data.utils import IGNORE
from ultralytics_semseg.utils.plotting import overlay, save_class_png


class SemSegMap(BaseTensor):
    """The class-id map of one image, (H, W) at the original image size; 255 marks ignored pixels."""

    def __len__(self) -> int:
        return int(self.data.shape[0] > 0)  # one dense map per image, not H rows

    def __getitem__(self, idx):
        return self.__class__(self.data, self.orig_shape)  # a dense map is indivisible by result index

    def pixel_counts(self, nc: int) -> np.ndarray:
        """Pixels per class id 0..nc-1 (ignore excluded)."""
        d = torch.as_tensor(self.data).long().flatten()
        return torch.bincount(d[d != IGNORE], minlength=nc)[:nc].cpu().numpy()


class SemSegResults(Results):
    """`Results` carrying `semseg`, a `SemSegMap` with the class map at the original image size.

    `.cpu()`, `.numpy()`, `.to()` and indexing return `SemSegResults` again.

    Examples:
        >>> r = model("street.jpg")[0]
        >>> r.semseg.data.shape  # (H, W) uint8 class ids
        >>> r.summary()  # [{'name': 'road', 'class': 0, 'pixel_ratio': 0.41}, ...]
        >>> r.save_mask("street_mask.png")  # palette PNG of class ids
    """

    def __init__(self, orig_img, path: str, names: dict, semseg: torch.Tensor | None = None, speed=None):
        super().__init__(orig_img, path=path, names=names, speed=speed)
        self.semseg = SemSegMap(semseg, self.orig_shape) if semseg is not None else None
        self._keys = (*self._keys, "semseg")

    def new(self) -> SemSegResults:
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
        if save:
            import cv2

            cv2.imwrite(str(filename), out)
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
