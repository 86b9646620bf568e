"""The benchmark's loss and decoder variants (benchmarks/ablate.py) really change what they claim to change.

Until December 2026 the loss variants were silent no-ops: `AblationLoss.term` was no longer called by
`SemSegLoss.forward`, so "dice", "ohem", "lovasz" and "boundary" trained with the plain loss.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
ablate = pytest.importorskip("ablate")  # plain module of benchmarks/, importable once on the path


def _batch(nc: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, nc, 8, 8, generator=g)
    aux = torch.randn(2, nc, 4, 4, generator=g)
    target = torch.randint(0, nc, (2, 32, 32), generator=g, dtype=torch.uint8)
    target[:, :2] = 255  # some ignored pixels
    return (logits, aux), {"semseg_mask": target}


@pytest.mark.parametrize("variant", ablate.LOSSES)
def test_each_loss_variant_changes_the_loss_of_main_and_aux(variant):
    """Each variant's loss differs from the package's on the main and on the aux logits alike."""
    from ultralytics_semseg.nn.loss import SemSegLoss

    preds, batch = _batch()
    _, base = SemSegLoss()(preds, batch)
    _, items = ablate.AblationLoss(variant)(preds, batch)
    assert not torch.isclose(items["seg_loss"], base["seg_loss"])
    assert not torch.isclose(items["aux_loss"], base["aux_loss"])


def test_the_package_loss_is_its_term_on_main_and_aux():
    """`SemSegLoss.term` is the hook the variants override: the total is term(main) + aux_weight * term(aux)."""
    from ultralytics_semseg.nn.loss import SemSegLoss, cross_entropy

    (logits, aux), batch = _batch()
    target = batch["semseg_mask"].long()
    w = torch.tensor([1.0, 2.0, 0.5, 1.5])
    loss, _ = SemSegLoss(aux_weight=0.4, class_weights=w)((logits, aux), batch)
    expected = cross_entropy(logits, target, weight=w) + 0.4 * cross_entropy(aux, target, weight=w)
    torch.testing.assert_close(loss, expected * 2)


def test_a_variant_reaches_the_model_the_trainer_builds():
    """`apply_variant` patches the model class: a model built afterwards has the variant's loss or head."""
    from ultralytics_semseg.nn import model as model_module

    head, criterion = model_module.SemSegHead, model_module.SemSegModel.init_criterion
    try:
        ablate.apply_variant("dice")
        ablate.apply_variant("no-detail")
        model = model_module.SemSegModel("yolo11n-semseg.yaml", nc=3, verbose=False)
        assert isinstance(model.init_criterion(), ablate.AblationLoss) and model.init_criterion().variant == "dice"
        assert type(model.model[-1]).__name__ == "NoDetail"
    finally:
        model_module.SemSegHead, model_module.SemSegModel.init_criterion = head, criterion
    with pytest.raises(ValueError, match="unknown variant 'dcie'"):
        ablate.apply_variant("dcie")


def test_aux_weight_variant_keeps_the_package_loss_but_its_aux_weight():
    """`aux0` trains the package's loss (class weights, Dice) with the auxiliary term's weight set to 0."""
    from ultralytics_semseg.nn import model as model_module

    criterion = model_module.SemSegModel.init_criterion
    try:
        ablate.apply_variant("aux0")
        model = model_module.SemSegModel("yolo11n-semseg.yaml", nc=4, verbose=False)
        model.args, model.class_weights = {"dice": 1.0}, torch.tensor([1.0, 2.0, 0.5, 1.5])
        loss = model.init_criterion()
    finally:
        model_module.SemSegModel.init_criterion = criterion
    assert loss.aux_weight == 0.0 and loss.dice == 1.0 and loss.class_weights is not None
    (logits, aux), batch = _batch()
    total, _ = loss((logits, aux), batch)
    torch.testing.assert_close(total, loss.term(logits, batch["semseg_mask"].long()) * 2)  # nothing of the aux logits


def test_contender_specs_may_carry_several_keys():
    """`--contenders` is split on commas, yet a spec keeps all its keys: 'name=base:k=v,k2=v2'."""
    transfer = pytest.importorskip("transfer")
    specs = transfer.split_contenders("ours,ours-dice-pw1=ours:variant=dice,cls_pw=1.0,yolo26n-sem")
    assert specs == ["ours", "ours-dice-pw1=ours:variant=dice,cls_pw=1.0", "yolo26n-sem"]
    name, (_, _, args) = transfer.contender(specs[1])
    assert name == "ours-dice-pw1" and args == {"nbs": None, "variant": "dice", "cls_pw": 1.0}


def test_rare_paste_pastes_the_donors_rare_pixels_in_place():
    """The `rare-paste` augmentation copies a donor's rare-class pixels (image and mask) to the same place, nothing
    else; and `apply_variant` hooks it into the dataset's training transforms."""
    import numpy as np

    from ultralytics_semseg.data.dataset import SemSegDataset

    donor_img, donor_mask = np.full((8, 8, 3), 200, np.uint8), np.zeros((8, 8), np.uint8)
    donor_mask[:, 3] = 1  # a one-pixel-wide pole: 8 of the split's 128 pixels, rare
    labels = [{"counts": np.bincount(donor_mask.ravel(), minlength=2)}, {"counts": np.array([64, 0])}]
    ds = type("D", (), {"labels": labels, "load_train_pair": staticmethod(lambda i: (donor_img, donor_mask))})()
    out = ablate.RarePaste(ds, p=1.0)({"img": np.zeros((8, 8, 3), np.uint8), "semseg_mask": np.zeros((8, 8), np.uint8)})
    assert (out["semseg_mask"] == donor_mask).all()
    assert (out["img"][:, 3] == 200).all() and (np.delete(out["img"], 3, axis=1) == 0).all()
    original = SemSegDataset.build_transforms
    try:
        ablate.apply_variant("rare-paste")
        assert SemSegDataset.build_transforms is not original
    finally:
        SemSegDataset.build_transforms = original
