"""BiasCalibrator: fits the class-bias calibration of a trained model on its training split (`bias_calibration`)."""

from __future__ import annotations

import hashlib
import io
from copy import deepcopy
from pathlib import Path

import torch
from ultralytics.utils import LOGGER, colorstr

from ultralytics_semseg.models.val import SemSegValidator
from ultralytics_semseg.utils.calibration import fit_class_bias, sample_pixels
from ultralytics_semseg.utils.files import AtomicPath
from ultralytics_semseg.utils.ops import class_map, postprocess

PIXELS_PER_IMAGE = 2048  # labelled pixels drawn per training image: ~230 MB of float16 logits for Cityscapes' 2975


class BiasCalibrator(SemSegValidator):
    """A validator over the training split that keeps a uniform sample of each image's logits at the labels' size.

    `fit()` then returns the per-class offsets of `fit_class_bias`; its confusion matrix (the usual metrics) is that of
    the model before calibration, on the training split.

    Examples:
        >>> calibrator = BiasCalibrator(args=dict(data="synthetic-streets.yaml", split="train"))  # doctest: +SKIP
        >>> calibrator(model=model)  # doctest: +SKIP
        >>> offsets = calibrator.fit()  # doctest: +SKIP
    """

    def init_metrics(self, model) -> None:
        """Start the confusion matrix and an empty pixel sample, with a fixed random source (the same draw each run)."""
        super().init_metrics(model)
        self.samples: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.generator = torch.Generator().manual_seed(0)

    def postprocess(self, preds) -> list[torch.Tensor]:
        """Logits (C, H, W) per image at its original size, not class maps."""
        return postprocess(preds, *self._geometry, return_logits=True)

    def update_metrics(self, preds: list[torch.Tensor], batch: dict) -> None:
        """Keep a pixel sample of each image, and add its class map to the confusion matrix."""
        for logits, gt in zip(preds, batch["ori_mask"]):
            self.samples.append(sample_pixels(logits, gt, PIXELS_PER_IMAGE, self.generator))
        super().update_metrics([class_map(logits, dim=0) for logits in preds], batch)

    def fit(self) -> torch.Tensor:
        """Offsets (nc,) that make the sampled pixels' predicted class counts match their labelled counts."""
        logits = torch.cat([x for x, _ in self.samples])
        labels = torch.cat([y for _, y in self.samples])
        return fit_class_bias(logits, labels)


def weights_digest(model: torch.nn.Module) -> str:
    """sha256 of a model's tensors: equal for `last.pt` and `best.pt` when the best epoch is the last one."""
    h = hashlib.sha256()
    for tensor in model.state_dict().values():
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def calibrate_checkpoint(path: str | Path, args, device=None, fitted: dict | None = None) -> torch.Tensor | None:
    """Fold the class-bias calibration of the checkpoint at `path` into its head and save it in place (atomically).

    The model (EMA when the checkpoint has one) is run over the dataset's training split without augmentation, at the
    training `imgsz`, on the training device; its classifier bias then gets the fitted offsets. Nothing else in the
    file changes, so resuming, fine-tuning and exporting read it as before.

    Args:
        path (str | Path): A checkpoint written by the semseg trainer (`last.pt`, `best.pt`).
        args: The training arguments (`data`, `imgsz`, `batch`, `workers`, `task`, and `device` unless given).
        device (torch.device | str | None): Where to run the model; the trainer passes its own (under DDP: rank 0's).
        fitted (dict | None): Offsets already fitted, by `weights_digest`: a checkpoint with the same weights reuses
            them instead of running over the training split again; this call's offsets are added.

    Returns:
        (torch.Tensor | None): The offsets added, or None when the model's head has no classifier bias to fold into.
    """
    path = Path(path)
    ckpt = torch.load(path, map_location="cpu", weights_only=False)  # a checkpoint this run wrote
    key = "ema" if ckpt.get("ema") is not None else "model"
    model = ckpt[key]
    classifier = getattr(model.model[-1], "classifier", None)
    if getattr(classifier, "bias", None) is None:
        LOGGER.warning(f"bias_calibration skipped for {path.name}: its head has no classifier bias to fold into")
        return None
    fitted = {} if fitted is None else fitted
    digest = weights_digest(model)
    if digest in fitted:
        offsets, source = fitted[digest], "the same weights' fit"
    else:
        settings = dict(data=args.data, imgsz=args.imgsz, batch=args.batch, device=device or args.device)
        settings.update(workers=args.workers, task=args.task, split="train", half=False, plots=False, save_json=False)
        calibrator = BiasCalibrator(args={**settings, "verbose": False})
        calibrator(model=deepcopy(model).float())  # a copy: the validator fuses the layers it runs
        offsets = fitted[digest] = calibrator.fit()
        source = f"fitted on {calibrator.seen} training images; their mIoU before: {calibrator.metrics.semseg.IoU:.3f}"
    with torch.no_grad():
        classifier.bias += offsets.to(classifier.bias.device, classifier.bias.dtype)
    buffer = io.BytesIO()
    torch.save(ckpt, buffer)
    AtomicPath(path).write_bytes(buffer.getvalue())  # a kill or a full disk leaves the uncalibrated file
    LOGGER.info(
        f"{colorstr('bias_calibration:')} {path.name} class offsets {[round(float(v), 2) for v in offsets]} ({source})"
    )
    return offsets
