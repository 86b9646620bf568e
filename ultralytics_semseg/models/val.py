"""SemSegValidator: one confusion matrix over the dataset, at the original label resolution."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from ultralytics.data.build import build_dataloader
from ultralytics.engine.validator import BaseValidator
from ultralytics.utils import LOGGER, RANK, colorstr

from ultralytics_semseg.cfg import resolve_data_yaml
from ultralytics_semseg.compat import fp16_enabled
from ultralytics_semseg.constants import TASK
from ultralytics_semseg.data.build import build_semseg_dataset, require_matching_classes, settle_semseg_keys
from ultralytics_semseg.data.utils import inverse_label_lut
from ultralytics_semseg.engine.inference import setup_inference
from ultralytics_semseg.utils.metrics import CLASS_METRICS, SemSegMetrics
from ultralytics_semseg.utils.ops import postprocess
from ultralytics_semseg.utils.plotting import plot_confusion_matrix, plot_iou_bars, plot_pairs, save_class_png


class SemSegValidator(BaseValidator):
    """Validator of the semseg task.

    Predictions are turned into class maps at each image's original size (logits upsampled before the argmax) and
    compared with the original masks, so the numbers do not depend on `imgsz`. One confusion matrix is accumulated
    over the dataset; the metric suite (IoU, Dice, precision, recall, MCR, aAcc, fwIoU) comes from it and fitness is
    mIoU. `save_json=True` writes each prediction as a PNG of raw label ids (the inverse of `label_mapping`) at the
    original size, the format of Cityscapes' official evaluator and test server.

    Examples:
        >>> from ultralytics import YOLO
        >>> metrics = YOLO("runs/semseg/train/weights/best.pt").val()  # doctest: +SKIP
        >>> metrics.semseg.IoU, metrics.semseg.per_class["IoU"]  # doctest: +SKIP
    """

    def __init__(self, dataloader=None, save_dir=None, args=None, _callbacks=None):
        """Set up Ultralytics' validator for the semseg task (metrics start in `init_metrics`)."""
        super().__init__(dataloader, save_dir, args, _callbacks)
        self.args.task = TASK
        self.metrics = SemSegMetrics({})

    def __call__(self, trainer=None, model=None, **kwargs):
        """Validate the trainer's model, or (standalone) `model` on `args.data` (packaged dataset names resolve)."""
        if trainer is None:
            self.args.data = resolve_data_yaml(self.args.data)  # packaged names such as synthetic-streets.yaml
        return super().__call__(trainer=trainer, model=model, **kwargs)

    def get_dataloader(self, dataset_path: str, batch_size: int):
        """Check the dataset (its semseg keys; standalone also its classes), then build a split's letterboxed loader.

        Raises:
            ValueError: If the dataset's classes do not line up with the model's (see `require_matching_classes`).
        """
        settle_semseg_keys(self.data)
        if not self.training:  # before any image is read: a model of other classes would give a wrong mIoU
            require_matching_classes(
                self.names, self.data["names"], self.args.model, self.data.get("yaml_file", self.args.data)
            )
        dataset = build_semseg_dataset(self.args, dataset_path, batch_size, self.data, mode="val", stride=self.stride)
        return build_dataloader(dataset, batch_size, self.args.workers, shuffle=False, rank=-1)

    def preprocess(self, batch: dict) -> dict:
        """Move the batch to the device, scale images to 0-1 and remember its geometry for `postprocess`.

        The original-size masks move too, asynchronously from the loader's pinned memory (the metrics would otherwise
        copy each one with a blocking transfer, a sync per image).
        """
        batch["img"] = batch["img"].to(self.device, non_blocking=True)
        batch["img"] = (batch["img"].half() if fp16_enabled(self.args) else batch["img"].float()) / 255
        batch["semseg_mask"] = batch["semseg_mask"].to(self.device, non_blocking=True)
        batch["ori_mask"] = [m.to(self.device, non_blocking=True) for m in batch["ori_mask"]]
        self._geometry = (batch["img"].shape[2:], batch["ori_shape"], batch["ratio_pad"])  # for postprocess
        return batch

    def postprocess(self, preds) -> list[torch.Tensor]:
        """Class map per image at its original size."""
        return postprocess(preds, *self._geometry)

    def init_metrics(self, model) -> None:
        """Start an empty confusion matrix for the model's classes.

        Ultralytics calls this once the model is loaded and the dataloader is built, so the inference setup shared with
        the predictor (`setup_inference`) and the PNG output of `save_json` are prepared here as well.
        """
        setup_inference(model, self.args)
        self.names = model.names
        self.nc = len(self.names)
        self.metrics = SemSegMetrics(self.names)
        self.seen = 0
        self.shapes = set()
        self.setup_prediction_pngs()

    def setup_prediction_pngs(self) -> None:
        """With `save_json` (standalone validation): where and how `save_prediction` writes label-id PNGs."""
        self.pred_dir = None
        if self.args.save_json and not self.training:
            self.pred_dir = self.save_dir / "predictions"
            self.inverse_lut = inverse_label_lut(self.nc, self.data.get("label_mapping"))
            img_path = self.dataloader.dataset.img_path
            self.images_root = Path(img_path if isinstance(img_path, str) else ".")

    def update_metrics(self, preds: list[torch.Tensor], batch: dict) -> None:
        """Add each class map and its original-size mask to the confusion matrix (and save it with `save_json`)."""
        for pred, gt, f in zip(preds, batch["ori_mask"], batch["im_file"]):
            self.metrics.update(pred, gt)
            self.shapes.add(tuple(gt.shape))
            if self.pred_dir is not None:
                self.save_prediction(pred, f)
        self.seen += len(preds)

    def save_prediction(self, pred: torch.Tensor, im_file: str) -> None:
        """Write one prediction as raw label ids at the original size, mirroring the image's sub-folders."""
        try:  # absolute, not resolved paths: symlinked images (e.g. a converted Cityscapes tree) keep their folders
            rel = Path(os.path.abspath(im_file)).relative_to(os.path.abspath(self.images_root))
        except ValueError:  # image list files or several roots: flat names
            rel = Path(Path(im_file).name)
        save_class_png(self.inverse_lut[pred.cpu().numpy()], (self.pred_dir / rel).with_suffix(".png"))

    def plot_val_samples(self, batch: dict, ni: int) -> None:
        """Nothing to draw: ground truth and prediction are drawn side by side in `plot_predictions`."""

    def plot_predictions(self, batch: dict, preds, ni: int) -> None:
        """Save `val_batch<ni>.jpg`: ground-truth and predicted overlays side by side, one row per image."""
        plot_pairs(batch["im_file"], batch["ori_mask"], preds, self.names, self.save_dir / f"val_batch{ni}.jpg")

    def gather_stats(self) -> None:
        """Sum the confusion matrices and image counts of all DDP ranks on rank 0."""
        if RANK == -1 or not torch.distributed.is_initialized():
            return
        for name in ("matrix", "images_per_class"):
            setattr(self.metrics, name, getattr(self.metrics, name).to(self.device))
            torch.distributed.reduce(getattr(self.metrics, name), dst=0)
        seen = torch.tensor(self.seen, device=self.device)
        torch.distributed.reduce(seen, dst=0)
        self.seen = int(seen)

    def finalize_metrics(self) -> None:
        """Attach speed and save folder to the metrics; with `plots`, save the confusion matrix and IoU bar chart."""
        self.metrics.speed = self.speed
        self.metrics.save_dir = self.save_dir
        if self.args.plots:
            scores = self.metrics.semseg
            plot_confusion_matrix(scores.matrix, self.names, self.save_dir / "confusion_matrix_normalized.png")
            plot_iou_bars(scores.per_class["IoU"], self.names, self.save_dir / "iou_per_class.png")
            for f in ("confusion_matrix_normalized.png", "iou_per_class.png"):
                self.on_plot(self.save_dir / f)
        if self.pred_dir is not None:
            LOGGER.info(
                f"{self.seen} label-id PNGs (original size, raw ids) saved to {colorstr('bold', self.pred_dir)}"
            )

    def get_stats(self) -> dict[str, float]:
        """Compute the scores of the whole dataset once and return them by metric key."""
        self.metrics.process()
        return self.metrics.results_dict

    def get_desc(self) -> str:
        """Header of the results table."""
        headers = [m.header for m in CLASS_METRICS]
        return ("%22s" + "%11s" * (2 + len(headers))) % ("Class", "Images", "Pixels", *headers)

    def print_results(self) -> None:
        """Log the mean scores, per-class rows with `verbose` (standalone), and aAcc, mAcc and fwIoU."""
        s = self.metrics.semseg
        shapes = sorted(self.shapes)
        res = "x".join(map(str, shapes[0])) + (f" to {'x'.join(map(str, shapes[-1]))}" if len(shapes) > 1 else "")
        LOGGER.info(
            f"Metrics at the original label resolution ({res}); means over classes with ground-truth or predicted "
            f"pixels; MCR = (FP + FN) / valid pixels, lower is better"
        )
        pf = "%22s" + "%11i" * 2 + "%11.3g" * len(CLASS_METRICS)
        LOGGER.info(pf % ("all", self.seen, s.pixels.sum(), *(s.means[m.name] for m in CLASS_METRICS)))
        if self.args.verbose and not self.training:
            images = self.metrics.images_per_class.cpu().numpy()
            for c, name in self.names.items():
                row = [s.per_class[m.name][c] for m in CLASS_METRICS]
                LOGGER.info(pf % (name, images[c], s.pixels[c], *row))
        LOGGER.info(f"aAcc {s.aAcc:.4g}, mAcc {s.mAcc:.4g}, fwIoU {s.fwIoU:.4g}")
        if self.seen == 0:
            LOGGER.warning(f"no images found in {self.args.split} set, cannot compute metrics")
