"""Losses of the semseg task."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

IGNORE_INDEX = 255


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = IGNORE_INDEX) -> torch.Tensor:
    """Mean pixel cross-entropy over non-ignored pixels; logits are upsampled to the target size first.

    An all-ignore batch gives 0 instead of NaN.
    """
    if logits.shape[2:] != target.shape[1:]:
        logits = F.interpolate(logits, size=target.shape[1:], mode="bilinear", align_corners=False)
    loss = F.cross_entropy(logits.float(), target, ignore_index=ignore_index, reduction="sum")
    return loss / (target != ignore_index).sum().clamp(min=1)


class SemSegLoss(nn.Module):
    """Cross-entropy (ignore 255) on the main logits plus a weighted auxiliary cross-entropy.

    Returns `(loss * batch_size, {"seg_loss", "aux_loss"})`, the convention of Ultralytics' trainers.

    Args:
        aux_weight (float): Weight of the auxiliary head's loss (training only).
        ignore_index (int): Label value excluded from the loss.

    Examples:
        >>> crit = SemSegLoss()
        >>> logits = torch.zeros(2, 3, 8, 8, requires_grad=True)
        >>> loss, items = crit((logits, None), {"semseg_mask": torch.zeros(2, 32, 32, dtype=torch.uint8)})
        >>> sorted(items)
        ['aux_loss', 'seg_loss']
    """

    def __init__(self, aux_weight: float = 0.4, ignore_index: int = IGNORE_INDEX):
        super().__init__()
        self.aux_weight = aux_weight
        self.ignore_index = ignore_index

    def forward(self, preds, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        logits, aux = preds if isinstance(preds, (tuple, list)) else (preds, None)
        target = batch["semseg_mask"].to(logits.device).long()
        seg = cross_entropy(logits, target, self.ignore_index)
        aux_loss = cross_entropy(aux, target, self.ignore_index) if aux is not None else torch.zeros_like(seg)
        total = seg + self.aux_weight * aux_loss
        return total * target.shape[0], {"seg_loss": seg.detach(), "aux_loss": aux_loss.detach()}
