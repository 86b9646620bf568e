"""Class-bias calibration (`bias_calibration`): the fit matches counts, and training folds it into the head only."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import torch
from conftest import run_cli

from ultralytics_semseg.constants import IGNORE
from ultralytics_semseg.utils.calibration import fit_class_bias, sample_pixels


def test_fit_class_bias_makes_predicted_counts_match_labelled_counts():
    """Logits biased towards class 0 predict it everywhere; the offsets bring every class to its labelled count."""
    g = torch.Generator().manual_seed(0)
    labels = torch.multinomial(torch.tensor([0.6, 0.25, 0.1, 0.05]), 20000, replacement=True, generator=g)
    logits = torch.nn.functional.one_hot(labels, 4).float() * 2 + torch.randn(20000, 4, generator=g) * 1.5
    logits[:, 3] += 1.5  # the rarest class painted far wider than it is, as class weights do
    before = torch.bincount(logits.argmax(1), minlength=4)
    bias = fit_class_bias(logits, labels)
    after = torch.bincount((logits + bias).argmax(1), minlength=4)
    labelled = torch.bincount(labels, minlength=4)
    assert before[3] > 2 * labelled[3]  # the setup is really off
    assert ((after - labelled).abs() <= 0.05 * labelled + 20).all(), (after.tolist(), labelled.tolist())
    assert abs(float(bias.mean())) < 1e-5 and bias[3] == bias.min()  # centred; the over-predicted class goes down


def test_fit_class_bias_leaves_classes_without_labels_at_zero():
    logits = torch.randn(1000, 3, generator=torch.Generator().manual_seed(1))
    labels = torch.randint(0, 2, (1000,), generator=torch.Generator().manual_seed(2))  # class 2 never labelled
    assert fit_class_bias(logits, labels)[2] == 0


def test_sample_pixels_draws_only_labelled_pixels():
    logits = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(2, 4, 4)
    labels = torch.full((4, 4), IGNORE, dtype=torch.uint8)
    labels[0] = torch.tensor([0, 1, 0, 1], dtype=torch.uint8)  # 4 labelled pixels in the first row
    x, y = sample_pixels(logits, labels, k=100, generator=torch.Generator().manual_seed(0))
    assert sorted(x[:, 0].tolist()) == [0, 1, 2, 3] and x.dtype == torch.float16  # all of them, channel 0 = index
    assert sorted(y.tolist()) == [0, 0, 1, 1]
    x, _ = sample_pixels(logits, labels, k=2)
    assert x.shape == (2, 2)


def _tensors(path):
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    return (ckpt.get("ema") or ckpt["model"]).float().state_dict()


def test_training_folds_the_offsets_into_the_classifier_bias_only(trained_run):
    """last.pt (calibrated after the last epoch) differs from the uncalibrated epoch1.pt (the second) in one tensor."""
    last, final_epoch = _tensors(trained_run / "weights" / "last.pt"), _tensors(trained_run / "weights" / "epoch1.pt")
    changed = [k for k in last if not torch.equal(last[k], final_epoch[k])]
    assert len(changed) == 1 and changed[0].endswith(".classifier.bias") and ".aux." not in changed[0], changed
    assert (last[changed[0]] - final_epoch[changed[0]]).abs().max() > 1e-3


def test_calibrating_again_changes_little(trained_run, tmp_path):
    """Calibration fits counts: a second calibration of a calibrated checkpoint finds offsets near zero."""
    from ultralytics_semseg.models.calibrate import calibrate_checkpoint

    weights = tmp_path / "epoch1.pt"
    shutil.copy(trained_run / "weights" / "epoch1.pt", weights)  # the final epoch before calibration
    args = SimpleNamespace(data="synthetic-streets.yaml", imgsz=128, batch=16, device="cpu", workers=0, task="semseg")
    first = calibrate_checkpoint(weights, args)
    second = calibrate_checkpoint(weights, args)
    assert first.abs().max() > 0.05
    assert second.abs().max() < 0.5 * first.abs().max(), (first.tolist(), second.tolist())


def test_the_same_weights_are_fitted_once(trained_run, tmp_path, monkeypatch):
    """best.pt with last.pt's weights (best epoch = last) reuses last.pt's offsets: one pass over the train split."""
    from ultralytics_semseg.models import calibrate

    copies = [tmp_path / "last.pt", tmp_path / "best.pt"]
    for f in copies:
        shutil.copy(trained_run / "weights" / "epoch1.pt", f)
    args = SimpleNamespace(data="synthetic-streets.yaml", imgsz=128, batch=16, device="cpu", workers=0, task="semseg")
    fitted = {}
    first = calibrate.calibrate_checkpoint(copies[0], args, fitted=fitted)

    def no_second_pass(self, *a, **k):
        raise AssertionError("the training split was run over again for the same weights")

    monkeypatch.setattr(calibrate.BiasCalibrator, "__call__", no_second_pass)
    second = calibrate.calibrate_checkpoint(copies[1], args, fitted=fitted)
    assert torch.equal(first, second) and len(fitted) == 1
    calibrated = [_tensors(f) for f in copies]
    assert all(torch.equal(calibrated[0][k], calibrated[1][k]) for k in calibrated[0])


def test_bias_calibration_can_be_turned_off(root, toy_data):
    """`bias_calibration=False` keeps the trained head: last.pt equals the final epoch's weights."""
    p = run_cli(
        "semseg", "train", "model=yolo11n-semseg.yaml", "epochs=1", "imgsz=64", "batch=16", "save_period=1",
        "bias_calibration=False", f"project={root / 'runs'}", "name=no-calibration", "exist_ok=True",
    )  # fmt: skip
    assert "bias_calibration:" not in p.stdout + p.stderr
    weights = root / "runs" / "no-calibration" / "weights"
    last, final_epoch = _tensors(weights / "last.pt"), _tensors(weights / "epoch0.pt")  # 0-based
    assert all(torch.equal(last[k], final_epoch[k]) for k in last)
