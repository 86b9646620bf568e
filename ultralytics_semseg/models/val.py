"""SemSegValidator: confusion matrix over the whole dataset at the original label resolution."""

from __future__ import annotations

import torch
from ultralytics.data.build import build_dataloader
from ultralytics.engine.validator import BaseValidator
from ultralytics.utils import LOGGER, RANK

from ultralytics_semseg.cfg import resolve_data_yaml
from ultralytics_semseg.compat import fp16_enabled
from ultralytics_semseg.data.build import build_semseg_dataset, check_semseg_keys
from ultralytics_semseg.utils.metrics import SemSegMetrics
from ultralytics_semseg.utils.ops import postprocess
from ultralytics_semseg.utils.plotting import plot_pairs


class SemSegValidator(BaseValidator):
    """Validator of the semseg task.

    Predictions are turned into class maps at each image's original size (logits upsampled before the argmax) and
    compared with the original masks, so the numbers do not depend on `imgsz`. One confusion matrix is accumulated
    over the dataset; mIoU, per-class IoU and pixel accuracy come from it, and fitness is mIoU.

    Examples:
        >>> from ultralytics import YOLO
        >>> metrics = YOLO("runs/semseg/train/weights/best.pt").val()
        >>> metrics.miou, metrics.iou_per_class
    """

    def __init__(self, dataloader=None, save_dir=None, args=None, _callbacks=None):
        super().__init__(dataloader, save_dir, args, _callbacks)
        self.args.task = "semseg"
        self.metrics = SemSegMetrics({})

    def __call__(self, trainer=None, model=None, **kwargs):
        if trainer is None:
            self.args.data = resolve_data_yaml(self.args.data)  # packaged names such as synthetic-streets.yaml
        return super().__call__(trainer=trainer, model=model, **kwargs)

    def get_dataloader(self, dataset_path: str, batch_size: int):
        check_semseg_keys(self.data)
        dataset = build_semseg_dataset(self.args, dataset_path, batch_size, self.data, mode="val", stride=self.stride)
        return build_dataloader(dataset, batch_size, self.args.workers, shuffle=False, rank=-1)

    def preprocess(self, batch: dict) -> dict:
        batch["img"] = batch["img"].to(self.device, non_blocking=True)
        batch["img"] = (batch["img"].half() if fp16_enabled(self.args) else batch["img"].float()) / 255
        batch["semseg_mask"] = batch["semseg_mask"].to(self.device, non_blocking=True)
        self._geometry = (batch["img"].shape[2:], batch["ori_shape"], batch["ratio_pad"])  # for postprocess
        return batch

    def postprocess(self, preds) -> list[torch.Tensor]:
        """Class map per image at its original size."""
        return postprocess(preds, *self._geometry)

    def init_metrics(self, model) -> None:
        self.names = model.names
        self.nc = len(self.names)
        self.metrics = SemSegMetrics(self.names)
        self.seen = 0

    def update_metrics(self, preds: list[torch.Tensor], batch: dict) -> None:
        for pred, gt in zip(preds, batch["ori_mask"]):
            self.metrics.update(pred, gt)
        self.seen += len(preds)

    def plot_val_samples(self, batch: dict, ni: int) -> None:
        pass  # ground truth and prediction are drawn side by side in plot_predictions

    def plot_predictions(self, batch: dict, preds, ni: int) -> None:
        plot_pairs(batch["im_file"], batch["ori_mask"], preds, self.names, self.save_dir / f"val_batch{ni}.jpg")

    def gather_stats(self) -> None:
        """Sum the confusion matrices of all DDP ranks on rank 0."""
        if RANK == -1 or not torch.distributed.is_initialized():
            return
        self.metrics.matrix = self.metrics.matrix.to(self.device)
        torch.distributed.reduce(self.metrics.matrix, dst=0)
        seen = torch.tensor(self.seen, device=self.device)
        torch.distributed.reduce(seen, dst=0)
        self.seen = int(seen)

    def finalize_metrics(self) -> None:
        self.metrics.speed = self.speed
        self.metrics.save_dir = self.save_dir

    def get_stats(self) -> dict[str, float]:
        return self.metrics.results_dict

    def get_desc(self) -> str:
        return ("%22s" + "%11s" * 4) % ("Class", "Images", "Pixels", "IoU", "PixAcc")

    def print_results(self) -> None:
        m = self.metrics
        pixels = m.pixels_per_class
        pf = "%22s" + "%11i" * 2 + "%11.3g" * 2
        LOGGER.info(pf % ("all", self.seen, pixels.sum(), m.miou, m.pixel_acc))
        if self.args.verbose or not self.training:
            for c, name in self.names.items():
                iou, acc = m.iou_per_class[c], m.recall_per_class[c]
                LOGGER.info(("%22s" + "%11s" + "%11i" + "%11.3g" * 2) % (name, "", pixels[c], iou, acc))
        if self.seen == 0:
            LOGGER.warning(f"no images found in {self.args.split} set, cannot compute metrics")
