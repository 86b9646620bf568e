"""The semseg loss against PyTorch's own reductions."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ultralytics_semseg.nn.loss import SemSegLoss, cross_entropy


def _batch(seed: int = 0, nc: int = 5, ignore_share: float = 0.2):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, nc, 16, 16, generator=g)
    target = torch.randint(0, nc, (2, 16, 16), generator=g)
    target[torch.rand(2, 16, 16, generator=g) < ignore_share] = 255
    return logits, target


@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_matches_pytorch_mean(weighted):
    logits, target = _batch()
    w = torch.tensor([0.2, 1.0, 3.0, 0.5, 1.3]) if weighted else None
    expected = F.cross_entropy(logits, target, weight=w, ignore_index=255)
    assert torch.allclose(cross_entropy(logits, target, weight=w), expected, atol=1e-6)


def test_cross_entropy_upsamples_logits_and_survives_all_ignore():
    logits, target = _batch()
    low = logits[:, :, ::4, ::4]
    up = F.interpolate(low, size=(16, 16), mode="bilinear", align_corners=False)
    assert torch.allclose(cross_entropy(low, target), F.cross_entropy(up, target, ignore_index=255), atol=1e-6)
    empty = torch.full_like(target, 255)
    assert cross_entropy(logits, empty, weight=torch.ones(5)).item() == 0.0


def test_class_weights_reach_main_and_aux_terms():
    logits, target = _batch(1)
    w = torch.tensor([5.0, 0.1, 0.1, 0.1, 0.1])
    plain, items = SemSegLoss(aux_weight=0.5)((logits, logits), {"semseg_mask": target})
    weighted, witems = SemSegLoss(aux_weight=0.5, class_weights=w)((logits, logits), {"semseg_mask": target})
    expected = F.cross_entropy(logits, target, weight=w, ignore_index=255)
    assert torch.allclose(witems["seg_loss"], expected, atol=1e-6)
    assert torch.allclose(witems["aux_loss"], expected, atol=1e-6)
    assert torch.allclose(weighted, 1.5 * expected * 2, atol=1e-5)  # (seg + 0.5 aux) * batch size
    assert not torch.allclose(plain, weighted)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_logits_are_upcast_before_upsampling(dtype):
    """AMP gives FP16/BF16 logits: the loss must be the float32 loss of those values, not of rounded upsampled ones."""
    logits, target = _batch(2)
    low = logits[:, :, ::4, ::4].to(dtype).requires_grad_()
    w = torch.tensor([0.2, 1.0, 3.0, 0.5, 1.3])
    loss = cross_entropy(low, target, weight=w)
    assert loss.dtype == torch.float32
    assert torch.equal(loss, cross_entropy(low.detach().float(), target, weight=w))
    loss.backward()
    assert low.grad.dtype == dtype and torch.isfinite(low.grad).all()


def test_loss_is_float32_under_autocast_with_float_weights():
    """The trainer runs the loss inside `torch.autocast`; class weights stay float32 whatever the logits' dtype."""
    logits, target = _batch(3)
    crit = SemSegLoss(class_weights=[0.2, 1.0, 3.0, 0.5, 1.3])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        half = logits.bfloat16()
        loss, items = crit((half[:, :, ::2, ::2], half[:, :, ::4, ::4]), {"semseg_mask": target.to(torch.uint8)})
    assert loss.dtype == items["seg_loss"].dtype == items["aux_loss"].dtype == torch.float32
    assert crit.class_weights.dtype == torch.float32


def test_soft_dice_is_zero_for_perfect_logits_and_ignores_255():
    from ultralytics_semseg.nn.loss import soft_dice

    _, target = _batch(2)
    perfect = F.one_hot(target.clamp(max=4), 5).permute(0, 3, 1, 2).float() * 40
    assert soft_dice(perfect, target).item() < 1e-3
    wrong = perfect.roll(1, dims=1)  # every labelled pixel on another class
    assert soft_dice(wrong, target).item() > 0.99
    garbage = perfect.clone()
    garbage[:, :, target[0] == 255] = torch.randn(5, int((target[0] == 255).sum()))  # ignored pixels do not count
    assert soft_dice(garbage, target).item() < 0.2


def test_soft_dice_equals_the_one_hot_formula_to_the_bit():
    """The boolean one-hot of `soft_dice` gives the loss and gradient of the textbook F.one_hot formula exactly."""
    from ultralytics_semseg.nn.loss import soft_dice, upsampled

    def one_hot_dice(logits, target):
        logits = upsampled(logits, target)
        valid = (target != 255).unsqueeze(1)
        prob = logits.softmax(1) * valid
        onehot = F.one_hot(target.clamp(max=logits.shape[1] - 1), logits.shape[1]).permute(0, 3, 1, 2) * valid
        inter, union = (prob * onehot).sum((0, 2, 3)), prob.sum((0, 2, 3)) + onehot.sum((0, 2, 3))
        present = onehot.sum((0, 2, 3)) > 0
        return (1 - ((2 * inter + 1) / (union + 1))[present]).mean()

    torch.manual_seed(0)
    target = torch.randint(0, 6, (2, 48, 64))  # class 5 is out of range for 5 logits: both clamp it to 4
    target[:, :7] = 255
    target[target == 3] = 1  # a class without pixels does not count
    for logits in (torch.randn(2, 5, 12, 16), torch.randn(2, 5, 48, 64)):
        logits.requires_grad_(True)
        ours, reference = soft_dice(logits, target), one_hot_dice(logits, target)
        assert torch.equal(ours, reference)
        assert torch.equal(*(torch.autograd.grad(x, logits)[0] for x in (ours, reference)))


def test_dice_weight_adds_the_soft_dice_to_main_and_aux():
    from ultralytics_semseg.nn.loss import soft_dice

    logits, target = _batch(3)
    aux = logits[:, :, ::2, ::2]
    batch = {"semseg_mask": target}
    _, plain = SemSegLoss()((logits, aux), batch)
    total, items = SemSegLoss(dice=0.5)((logits, aux), batch)
    torch.testing.assert_close(items["seg_loss"], plain["seg_loss"] + 0.5 * soft_dice(logits, target))
    torch.testing.assert_close(items["aux_loss"], plain["aux_loss"] + 0.5 * soft_dice(aux, target))
    logits.requires_grad_(True)
    SemSegLoss(dice=1.0)((logits, None), batch)[0].backward()
    assert logits.grad.abs().sum() > 0


@pytest.mark.parametrize("args", [{"dice": 0.7}, "namespace", None])
def test_the_model_builds_its_loss_with_the_dice_training_argument(args):
    """The trainer's args (a namespace), a loaded checkpoint's (a dict) or none at all (no Dice)."""
    from types import SimpleNamespace

    from ultralytics_semseg.nn.model import SemSegModel

    model = SemSegModel("yolo11n-semseg.yaml", nc=3, verbose=False)
    model.args = SimpleNamespace(dice=0.7) if args == "namespace" else args
    assert model.init_criterion().dice == (0.0 if args is None else 0.7)
