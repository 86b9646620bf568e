"""Losses of the semseg task."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ultralytics_semseg.constants import IGNORE


def cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    ignore_index: int = IGNORE,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean pixel cross-entropy over non-ignored pixels; logits are upsampled to the target size first.

    With class `weight`s the mean is weighted (divided by the summed weights of the valid pixels, like PyTorch's
    weighted mean). An all-ignore batch gives 0 instead of NaN. Everything is computed in float32, also for FP16/BF16
    logits under AMP autocast: they are cast before the upsampling, so the full-resolution logits are never rounded.
    """
    logits = logits.float()
    if logits.shape[2:] != target.shape[1:]:
        logits = F.interpolate(logits, size=target.shape[1:], mode="bilinear", align_corners=False)
    weight = None if weight is None else weight.float()
    loss = F.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index, reduction="none")
    pixels = target != ignore_index
    w = pixels.float() if weight is None else weight[target.clamp(max=len(weight) - 1)] * pixels
    return (loss * pixels).sum() / w.sum().clamp(min=1e-6)


class SemSegLoss(nn.Module):
    """Cross-entropy (ignore 255, optionally class-weighted) on the main logits plus a weighted auxiliary one.

    The total is `CE(main) + aux_weight * CE(aux)`. Returns `(loss * batch_size, {"seg_loss", "aux_loss"})`, the
    convention of Ultralytics' trainers.

    Args:
        aux_weight (float): Weight of the auxiliary head's loss (training only).
        ignore_index (int): Label value excluded from the loss.
        class_weights (torch.Tensor | None): Per-class weights of both cross-entropies (the trainer derives them
            from the train split's pixel counts, see `SemSegTrainer.set_class_weights`).

    Examples:
        >>> crit = SemSegLoss()
        >>> logits = torch.zeros(2, 3, 8, 8, requires_grad=True)
        >>> loss, items = crit((logits, None), {"semseg_mask": torch.zeros(2, 32, 32, dtype=torch.uint8)})
        >>> sorted(items)
        ['aux_loss', 'seg_loss']
    """

    def __init__(
        self,
        aux_weight: float = 0.4,
        ignore_index: int = IGNORE,
        class_weights: torch.Tensor | None = None,
    ):
        """Set the auxiliary weight, the ignored label value and the optional class weights."""
        super().__init__()
        self.aux_weight = aux_weight
        self.ignore_index = ignore_index
        self.class_weights = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)

    def term(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Loss of one set of logits (main or aux): the cross-entropy, class-weighted when weights are set."""
        return cross_entropy(logits, target, self.ignore_index, self.class_weights)

    def forward(self, preds, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Loss of `(logits, aux_logits)` (or logits alone) against `batch['semseg_mask']`."""
        logits, aux = preds if isinstance(preds, (tuple, list)) else (preds, None)
        target = batch["semseg_mask"].to(logits.device).long()
        w = self.class_weights
        if w is not None and w.device != logits.device:  # moved once, not copied to the device every batch
            self.class_weights = w.to(logits.device)
        seg = self.term(logits, target)
        aux_loss = self.term(aux, target) if aux is not None else torch.zeros_like(seg)
        total = seg + self.aux_weight * aux_loss
        return total * target.shape[0], {"seg_loss": seg.detach(), "aux_loss": aux_loss.detach()}
