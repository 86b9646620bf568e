"""SemSegPredictor: class maps at the original image size for images, folders, globs, videos and streams."""

from __future__ import annotations

import numpy as np
from ultralytics.engine.predictor import BasePredictor
from ultralytics.utils import DEFAULT_CFG

from ultralytics_semseg.data.augment import letterbox
from ultralytics_semseg.engine.results import SemSegResults
from ultralytics_semseg.nn.model import configure_inference
from ultralytics_semseg.utils.ops import postprocess


class SemSegPredictor(BasePredictor):
    """Predictor of the semseg task, for PyTorch and exported models alike.

    Logits are upsampled to the letterboxed input, the padding is cut away and the result is resized to the original
    image before the argmax. Exported models that already emit a class map are cropped and resized with nearest.
    `save=True` writes the overlay, `save_txt=True` also writes the class-id PNG to `labels/<name>.png`.
    `augment=True` averages flips and scales (`tta_scales`), `slide_window=512` runs overlapping windows.

    Examples:
        >>> from ultralytics import YOLO
        >>> results = YOLO("runs/semseg/train/weights/best.pt").predict("street.jpg")
        >>> results[0].semseg.data  # (H, W) class ids
    """

    def __init__(self, cfg=DEFAULT_CFG, overrides=None, _callbacks=None):
        super().__init__(cfg, overrides, _callbacks)
        self.args.task = "semseg"
        self._ratio_pads = []

    def setup_model(self, model, verbose: bool = True) -> None:
        """Load the model, then apply `slide_window` / `tta_scales` (PyTorch models)."""
        super().setup_model(model, verbose)
        configure_inference(getattr(self.model, "model", None), self.args)

    def pre_transform(self, im: list[np.ndarray]) -> list[np.ndarray]:
        """The task's shared letterbox (minimal padding for PyTorch and dynamic models, like Ultralytics)."""
        same_shapes = len({x.shape for x in im}) == 1
        fmt = self.model.format
        auto = same_shapes and self.args.rect and (fmt == "pt" or getattr(self.model, "dynamic", False))
        out = [letterbox(x, tuple(self.imgsz), stride=int(self.model.stride), auto=auto) for x in im]
        self._ratio_pads = [rp for _, rp in out]
        return [x for x, _ in out]

    def postprocess(self, preds, img, orig_imgs) -> list[SemSegResults]:
        if not isinstance(orig_imgs, list):  # a torch.Tensor batch: no letterbox was applied
            orig_imgs = [x.permute(1, 2, 0).flip(-1).mul(255).byte().cpu().numpy() for x in orig_imgs]
            ratio_pads = None
        else:
            ratio_pads = self._ratio_pads
        maps = postprocess(preds, img.shape[2:], [x.shape[:2] for x in orig_imgs], ratio_pads)
        return [
            SemSegResults(orig_img=o, path=p, names=self.model.names, semseg=m)
            for o, p, m in zip(orig_imgs, self.batch[0], maps)
        ]
