"""Losses of the semseg task."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ultralytics_semseg.constants import IGNORE


def upsampled(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """`logits` in float32, bilinearly resized to the size of `target` (B, H, W) where they differ.

    The cast comes first, so FP16/BF16 logits under AMP autocast are never rounded at full resolution.

    Examples:
        >>> upsampled(torch.zeros(1, 3, 4, 4, dtype=torch.float16), torch.zeros(1, 16, 16)).shape
        torch.Size([1, 3, 16, 16])
    """
    logits = logits.float()
    if logits.shape[2:] != target.shape[1:]:
        logits = F.interpolate(logits, size=target.shape[1:], mode="bilinear", align_corners=False)
    return logits


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
    logits = upsampled(logits, target)
    weight = None if weight is None else weight.float()
    loss = F.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index, reduction="none")
    pixels = target != ignore_index
    w = pixels.float() if weight is None else weight[target.clamp(max=len(weight) - 1)] * pixels
    return (loss * pixels).sum() / w.sum().clamp(min=1e-6)


def soft_dice(logits: torch.Tensor, target: torch.Tensor, ignore_index: int = IGNORE) -> torch.Tensor:
    """One minus the mean soft Dice over the classes present in `target`; logits upsampled to the target size first.

    Per class `c`, Dice is `(2 * sum(p_c * y_c) + 1) / (sum(p_c) + sum(y_c) + 1)` over the batch's non-ignored pixels,
    with `p` the softmax probabilities and `y` the one-hot labels. Every present class counts alike however few
    pixels it has, which is what lifts small classes. Computed in float32; a batch without labels gives 0.

    Examples:
        >>> t = torch.tensor([[[0, 1], [1, 255]]])
        >>> round(float(soft_dice(torch.tensor([[[[9.0, -9], [-9, 0]], [[-9, 9], [9, 0]]]]), t)), 3)
        0.0
    """
    logits = upsampled(logits, target)
    nc = logits.shape[1]
    valid = target != ignore_index
    prob = logits.softmax(1)
    labels = target.clamp(max=nc - 1).masked_fill(~valid, nc).unsqueeze(1)  # ignored pixels: class nc, none of ours
    # a boolean one-hot by broadcasting: 1/8 of the memory of F.one_hot's int64 and no dtype promotion, with the same
    # loss and gradient to the bit (tests/test_loss.py); bincount and sums are deterministic on CUDA too
    onehot = labels == torch.arange(nc, device=target.device).view(1, nc, 1, 1)
    inter = torch.where(onehot, prob, 0).sum((0, 2, 3))
    labelled = torch.bincount(labels.flatten(), minlength=nc + 1)[:nc].float()
    predicted = (prob * valid.unsqueeze(1)).sum((0, 2, 3))
    present = labelled > 0
    dice = (2 * inter + 1) / (predicted + labelled + 1)
    return (1 - dice[present]).mean() if present.any() else logits.sum() * 0


class SemSegLoss(nn.Module):
    """Cross-entropy (ignore 255, optionally class-weighted) on the main logits plus a weighted auxiliary one.

    Per set of logits (`term`) the loss is the cross-entropy plus `dice` times `soft_dice`; the total is
    `term(main) + aux_weight * term(aux)`. Returns `(loss * batch_size, {"seg_loss", "aux_loss"})`, the convention of
    Ultralytics' trainers.

    Args:
        aux_weight (float): Weight of the auxiliary head's loss (training only).
        ignore_index (int): Label value excluded from the loss.
        class_weights (torch.Tensor | None): Per-class weights of both cross-entropies (the trainer derives them
            from the train split's pixel counts, see `SemSegTrainer.set_class_weights`).
        dice (float): Weight of the soft Dice term (training argument `dice`; 0 = cross-entropy alone).

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
        dice: float = 0.0,
    ):
        """Set the auxiliary weight, the ignored label value, the optional class weights and the Dice weight."""
        super().__init__()
        self.aux_weight = aux_weight
        self.ignore_index = ignore_index
        self.class_weights = None if class_weights is None else torch.as_tensor(class_weights, dtype=torch.float32)
        self.dice = float(dice or 0.0)

    def term(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Loss of one set of logits (main or aux): cross-entropy (class-weighted if set) plus `dice` * soft Dice."""
        # Each function upsamples the logits itself, which keeps training bit-identical to the benchmarked runs: a
        # shared upsampling sums the two gradients before the interpolation's backward, which rounds differently, and
        # CamVid seed 0 then ended at 31.7 mIoU, not 39.3 (docs/benchmarks.md, round 5: that sensitive to rounding)
        loss = cross_entropy(logits, target, self.ignore_index, self.class_weights)
        return loss + self.dice * soft_dice(logits, target, self.ignore_index) if self.dice else loss

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
