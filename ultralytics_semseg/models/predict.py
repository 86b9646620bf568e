"""SemSegPredictor: class maps at the original image size for images, folders, globs, videos and streams."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from ultralytics.data.utils import IMG_FORMATS
from ultralytics.engine.predictor import BasePredictor
from ultralytics.utils import DEFAULT_CFG, LOGGER

from ultralytics_semseg.cfg import packaged_note, resolve_data_yaml
from ultralytics_semseg.compat import predict_label_summary
from ultralytics_semseg.constants import IGNORE, TASK
from ultralytics_semseg.data.augment import letterbox
from ultralytics_semseg.data.build import require_matching_classes
from ultralytics_semseg.data.utils import decoded_image_size
from ultralytics_semseg.engine.inference import setup_inference
from ultralytics_semseg.engine.results import SemSegResults
from ultralytics_semseg.utils.ops import argmax_classes, postprocess, to_original_classmap

_NOTED: set[str] = set()  # packaged checkpoints whose note was logged in this process


class SemSegPredictor(BasePredictor):
    """Predictor of the semseg task, for PyTorch and exported models alike.

    Logits are upsampled to the letterboxed input, the padding is cut away and the result is resized to the original
    image before the argmax. Exported models that already emit a class map are cropped and resized with nearest.

    Options (besides Ultralytics' own): `return_conf=True` adds the per-pixel confidence (max softmax) as
    `result.semseg.conf`, `return_probs=True` the (nc, H, W) probabilities as `result.semseg.probs`; `class_conf`
    (one float, or one per class) sends pixels whose confidence is below their class's threshold to `low_conf_label`
    (255 = ignore, or a background class id). `save=True` writes the overlay and `masks/<name>.png`, a palette PNG
    of class ids; `save_txt=True` writes that PNG to `labels/<name>.png`. `augment=True` averages flips and scales
    (`tta_scales`), `slide_window=512` runs overlapping windows.

    Examples:
        >>> from ultralytics import YOLO
        >>> r = YOLO("runs/semseg/train/weights/best.pt").predict("street.jpg", return_conf=True)[0]  # doctest: +SKIP
        >>> r.semseg.data, r.semseg.conf  # (H, W) class ids, (H, W) confidence  # doctest: +SKIP
    """

    def __init__(self, cfg=DEFAULT_CFG, overrides=None, _callbacks=None):
        """Set up Ultralytics' predictor for the semseg task."""
        super().__init__(cfg, overrides, _callbacks)
        self.args.task = TASK
        self._ratio_pads = []
        self._warned = False
        self._predicted, self._labels_saved = set(), 0

    def stream_inference(self, source=None, model=None, *args, **kwargs):
        """Ultralytics' inference loop; its closing line counts the class-map PNGs written; unread images are named.

        Raises:
            ValueError: If not one source image could be read (each is named, with the reason).
        """
        self._predicted, self._labels_saved = set(), 0
        with predict_label_summary(LOGGER, self._labels_summary):
            yield from super().stream_inference(source, model, *args, **kwargs)
        self.report_unreadable()

    def _labels_summary(self) -> str:
        n = self._labels_saved
        return f"{n} class-id PNG{'' if n == 1 else 's'} saved to {self.save_dir / 'labels'}"

    def report_unreadable(self) -> None:
        """Name every source image the loader could not read (Ultralytics only warns 'Image Read Error' on the way).

        Some unreadable images among readable ones give a warning, as training skips bad pairs; when none could be
        read there is no result at all and it is an error.
        """
        files = [f for f in getattr(self.dataset, "files", None) or [] if Path(f).suffix[1:].lower() in IMG_FORMATS]
        missed = [f for f in files if f not in self._predicted]
        if not missed:
            return
        reasons = []
        for f in missed:
            try:
                decoded_image_size(f)
                reasons.append(f"{f}: could not be read")
            except ValueError as e:
                reasons.append(str(e))
        text = f"{len(missed)} of {len(files)} source images could not be read, no prediction for them:\n" + "\n".join(
            f"  {r}" for r in reasons
        )
        if len(missed) == len(files):
            raise ValueError(text)
        LOGGER.warning(text)

    def setup_model(self, model, verbose: bool = True) -> None:
        """Load the model, then apply the task's inference setup (`setup_inference`)."""
        super().setup_model(model, verbose)
        self.require_data_classes_match()
        setup_inference(self.model, self.args, model)
        self.note_packaged_weights()

    def note_packaged_weights(self) -> None:
        """One line, once per process, when predicting with a packaged pretrained checkpoint: what it is, what to do."""
        note = packaged_note(self.args.model)
        if note and note not in _NOTED:
            _NOTED.add(note)
            LOGGER.info(note)

    def require_data_classes_match(self) -> None:
        """With `data=` other than the YAML the model was trained on: its classes must match the model's.

        Raises:
            FileNotFoundError: If the dataset YAML does not exist.
            ValueError: If the class lists differ in number or order (see `require_matching_classes`).
        """
        data = self.args.data
        trained_on = (getattr(getattr(self.model, "model", None), "args", None) or {}).get("data")
        if not data or str(data) == str(trained_on):  # Ultralytics carries the training YAML over to predict
            return
        from ultralytics.nn.autobackend import check_class_names
        from ultralytics.utils import YAML

        path = Path(str(resolve_data_yaml(data)))
        if not path.is_file():
            raise FileNotFoundError(f"data={data}: dataset YAML not found; pass an existing file, or leave data= out")
        names = YAML.load(path).get("names")
        if names:
            require_matching_classes(self.model.names, check_class_names(names), self.args.model or "model", str(path))

    def pre_transform(self, im: list[np.ndarray]) -> list[np.ndarray]:
        """The task's shared letterbox (minimal padding for PyTorch and dynamic models, like Ultralytics)."""
        same_shapes = len({x.shape for x in im}) == 1
        fmt = self.model.format
        auto = same_shapes and self.args.rect and (fmt == "pt" or getattr(self.model, "dynamic", False))
        out = [letterbox(x, tuple(self.imgsz), stride=int(self.model.stride), auto=auto) for x in im]
        self._ratio_pads = [rp for _, rp in out]
        return [x for x, _ in out]

    @property
    def _wants_conf(self) -> bool:
        return bool(self.args.return_conf or self.args.return_probs or self.args.class_conf is not None)

    def postprocess(self, preds, img, orig_imgs) -> list[SemSegResults]:
        """Class maps (and, when asked for, confidences and probabilities) at each image's original size as results."""
        if not isinstance(orig_imgs, list):  # a torch.Tensor batch: no letterbox was applied
            orig_imgs = [x.permute(1, 2, 0).flip(-1).mul(255).byte().cpu().numpy() for x in orig_imgs]
            ratio_pads = [None] * len(orig_imgs)
        else:
            ratio_pads = self._ratio_pads
        shapes = [x.shape[:2] for x in orig_imgs]
        maps, confs, probs = self._class_maps(preds, img.shape[2:], shapes, ratio_pads)
        if confs[0] is not None and self.args.class_conf is not None:
            maps = [self._threshold(m, c) for m, c in zip(maps, confs)]
        self._predicted.update(self.batch[0])
        probs = probs if self.args.return_probs else [None] * len(maps)
        confs = confs if self.args.return_conf else [None] * len(maps)
        return [
            SemSegResults(orig_img=o, path=p, names=self.model.names, semseg=m, conf=c, probs=pr)
            for o, p, m, c, pr in zip(orig_imgs, self.batch[0], maps, confs, probs)
        ]

    def _class_maps(self, preds, input_hw, shapes, ratio_pads):
        """Per image (class map, confidence, probabilities) at the original size; the last two only when asked for.

        Logits are resized to the original size once and serve the argmax and the softmax alike.
        """
        none = [None] * len(shapes)
        logits = preds[0] if isinstance(preds, (list, tuple)) else preds
        if not self._wants_conf:
            return postprocess(preds, input_hw, shapes, ratio_pads), none, none
        if logits.ndim == 4:
            full = postprocess(preds, input_hw, shapes, ratio_pads, return_logits=True)
            probs = [x.softmax(0) for x in full]
            return [argmax_classes(x[None])[0] for x in full], [p.max(0).values for p in probs], probs
        maps = postprocess(preds, input_hw, shapes, ratio_pads)
        if isinstance(preds, (list, tuple)) and len(preds) == 2 and preds[1] is not None and preds[1].ndim == 3:
            confs = [to_original_classmap(c, s, rp) for c, s, rp in zip(preds[1], shapes, ratio_pads)]
            return maps, confs, none  # exported with export_output=classmap_conf
        if not self._warned:
            LOGGER.warning(
                "this exported model returns only class maps, so confidences are unavailable; export with "
                "export_output=classmap_conf (or logits) for return_conf, return_probs and class_conf"
            )
            self._warned = True
        return maps, none, none

    def _threshold(self, classmap: torch.Tensor, conf: torch.Tensor) -> torch.Tensor:
        """Send pixels below their class's `class_conf` threshold to `low_conf_label`."""
        thr = self.args.class_conf
        nc = len(self.model.names)
        thr = torch.as_tensor(thr if isinstance(thr, (list, tuple)) else [thr] * nc, device=conf.device)
        if len(thr) != nc:
            raise ValueError(f"class_conf has {len(thr)} thresholds for {nc} classes")
        label = IGNORE if self.args.low_conf_label is None else int(self.args.low_conf_label)
        out = classmap.clone()
        out[conf < thr[classmap.long().clamp(max=nc - 1)]] = label
        return out

    def write_results(self, i: int, p: Path, im: torch.Tensor, s: list[str]) -> str:
        """Ultralytics' logging and saving, plus the class-id PNG in `masks/` when `save=True`."""
        string = super().write_results(i, p, im, s)
        self._labels_saved += bool(self.args.save_txt)
        if self.args.save and self.dataset.mode == "image":
            self.results[i].save_mask(self.save_dir / "masks" / Path(self.txt_path).name)
        return string
