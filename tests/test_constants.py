"""The task constants: one import-free module, whose values match the model, Ultralytics and the export contract."""

from __future__ import annotations

import inspect
import subprocess
import sys

import torch


def test_constants_import_nothing_heavy():
    code = (
        "import sys, ultralytics_semseg.constants; "
        "print(sorted(m for m in ('torch', 'ultralytics', 'numpy', 'cv2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_constants_match_the_model_and_ultralytics():
    from ultralytics.data.augment import LetterBox

    from ultralytics_semseg.constants import IGNORE, PAD_VALUE, STRIDE
    from ultralytics_semseg.nn.model import SemSegModel

    assert (IGNORE, PAD_VALUE, STRIDE) == (255, 114, 32)  # the contract written into exported models' metadata
    assert inspect.signature(LetterBox).parameters["padding_value"].default == PAD_VALUE  # Ultralytics' grey
    model = SemSegModel("yolo11n-semseg.yaml", nc=3, verbose=False).eval()
    head = model.model[-1]
    shapes = []
    head.register_forward_hook(lambda m, args, out: shapes.extend(x.shape[2:] for x in args[0]))
    logits = model(torch.zeros(1, 3, 64, 96))
    assert int(model.stride.max()) == STRIDE and shapes[-1] == (64 // STRIDE, 96 // STRIDE)  # P5 is the deepest
    assert logits.shape[2:] == shapes[0] == (64 // head.out_stride, 96 // head.out_stride)  # logits at P2's stride
