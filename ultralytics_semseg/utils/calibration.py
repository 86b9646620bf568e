"""Class-bias calibration: per-class logit offsets that make the predicted pixel counts match the labels' counts.

A trained network's class balance can be far off (with the task's class weights, on CamVid at 30 epochs, a pedestrian
is predicted on 6.2 times its labelled area and a pole on 0.58 times its own). One offset per class, fitted after
training on the training split so that each class is predicted on as many pixels as it is labelled, moves every class
towards its own balance point; it is folded into the bias of the head's classifier, so inference costs nothing more
(docs/benchmarks.md, round 9).
"""

from __future__ import annotations

import torch

from ultralytics_semseg.constants import IGNORE


def sample_pixels(
    logits: torch.Tensor, labels: torch.Tensor, k: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Up to `k` labelled pixels of one image, drawn uniformly without replacement.

    Args:
        logits (torch.Tensor): Logits (C, H, W) at the labels' resolution.
        labels (torch.Tensor): Class ids (H, W); `IGNORE` pixels are never drawn.
        k (int): Pixels to draw (all labelled pixels when fewer).
        generator (torch.Generator | None): Random source, for draws that repeat.

    Returns:
        (tuple[torch.Tensor, torch.Tensor]): Logits (n, C) as float16 on the CPU and their class ids (n,) as int64.

    Examples:
        >>> x, y = sample_pixels(torch.randn(3, 4, 4), torch.zeros(4, 4, dtype=torch.uint8), k=5)
        >>> tuple(x.shape), tuple(y.shape)
        ((5, 3), (5,))
    """
    flat = labels.reshape(-1).long()
    valid = (flat != IGNORE).nonzero().squeeze(1).cpu()
    if valid.numel() > k:
        valid = valid[torch.randperm(valid.numel(), generator=generator)[:k]]
    chosen = logits.reshape(logits.shape[0], -1)[:, valid.to(logits.device)]
    return chosen.T.to("cpu", torch.float16), flat[valid.to(flat.device)].cpu()


def fit_class_bias(logits: torch.Tensor, labels: torch.Tensor, iters: int = 60, max_step: float = 0.25) -> torch.Tensor:
    """Per-class offsets `b` such that `argmax(logits + b)` predicts each class on as many pixels as it is labelled.

    Each iteration moves every class's offset by the log ratio of its labelled to its predicted pixel count, clipped
    to a step limit that shrinks linearly to zero (the counts are a step function of `b`, so an unclipped step can
    overshoot and oscillate). Classes without labelled pixels keep offset 0: nothing says how wide they should be.

    Args:
        logits (torch.Tensor): Logits (N, C) of N labelled pixels.
        labels (torch.Tensor): Their class ids (N,) in [0, C).
        iters (int): Iterations.
        max_step (float): Step limit of the first iteration, in logits.

    Returns:
        (torch.Tensor): Offsets (C,) in float32, mean 0 over the labelled classes.

    Examples:
        >>> logits = torch.tensor([[2.0, 0.0], [1.0, 0.0], [0.5, 0.0], [0.0, 1.0]])  # class 0 three times, 1 once
        >>> bias = fit_class_bias(logits, torch.tensor([0, 0, 1, 1]))
        >>> torch.bincount((logits + bias).argmax(1), minlength=2).tolist()
        [2, 2]
    """
    nc = logits.shape[1]
    logits = logits.float()
    labelled = torch.bincount(labels, minlength=nc).double()
    present = labelled > 0
    bias = torch.zeros(nc, dtype=torch.float64)
    for i in range(iters):
        predicted = torch.bincount((logits + bias.float()).argmax(1), minlength=nc).double()
        limit = max_step * (1 - i / iters)
        step = (torch.log1p(labelled) - torch.log1p(predicted)).clamp(-limit, limit)
        bias += torch.where(present, step, torch.zeros_like(step))
    if present.any():
        bias[present] -= bias[present].mean()
    return bias.float()
