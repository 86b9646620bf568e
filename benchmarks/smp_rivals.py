"""segmentation_models_pytorch rivals as `semseg` models: trained by our trainer, scored by our validator, exported by
our exporter, so that they get exactly our data, crops, batches, optimizer steps, scoring and ONNX tail.

Usage (from benchmarks/transfer.py, contenders `smp-fpn-mnv2`, `smp-segformer-b0`, `smp-dlv3p-mnv2`):
    python benchmarks/transfer.py run --datasets camvid --contenders ours,smp-fpn-mnv2 --seeds 0

`pip install -e ".[bench]"` installs segmentation-models-pytorch. Each rival is built from scratch
(`encoder_weights=None`) like every other contender of the benchmark; its architecture, with the dataset's class
count, replaces the model that `SemSegTrainer.get_model` would build (`training(name)` patches it in a benchmark
child process only). Its recipe is `RECIPE`, the one segmentation_models_pytorch's examples and most SegFormer
users train with: AdamW, lr 1e-3 from scratch, weight decay 0.01, cosine decay; the loss is ours (cross-entropy with
the task's class weights), which helps thin classes, so it only favours the rivals.

Examples:
    >>> net = SmpSemSegModel("FPN", "mobilenet_v2", nc=5)  # doctest: +SKIP
    >>> net.eval()(torch.zeros(1, 3, 64, 96)).shape  # doctest: +SKIP
    torch.Size([1, 5, 64, 96])
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn
from ultralytics.nn.tasks import BaseModel

from ultralytics_semseg.constants import STRIDE
from ultralytics_semseg.nn.model import SemSegModel
from ultralytics_semseg.nn.outputs import ExportOutputs

# contender name -> (smp architecture, encoder)
ARCHS = {
    "smp-fpn-mnv2": ("FPN", "mobilenet_v2"),
    "smp-segformer-b0": ("Segformer", "mit_b0"),
    "smp-dlv3p-mnv2": ("DeepLabV3Plus", "mobilenet_v2"),
}
# training arguments of every smp rival (their usual recipe, see the module docstring); nbs = batch as for everyone
RECIPE = {"optimizer": "AdamW", "lr0": 0.001, "weight_decay": 0.01, "cos_lr": True, "lrf": 0.01}


class SmpNet(ExportOutputs, nn.Module):
    """An smp model as the one layer of a `SemSegModel`: full-resolution logits, the package's export tail.

    Args:
        arch (str): segmentation_models_pytorch architecture, e.g. 'FPN'.
        encoder (str): Its encoder, e.g. 'mobilenet_v2'.
        nc (int): Number of classes.
    """

    out_stride = 1  # smp models return logits at the input size

    def __init__(self, arch: str, encoder: str, nc: int):
        """Build `arch` with `encoder` from scratch (no pretrained weights: this machine is offline)."""
        import segmentation_models_pytorch as smp

        super().__init__()
        self.net = getattr(smp, arch)(encoder_name=encoder, encoder_weights=None, classes=nc)
        self.nc, self.i, self.f, self.type = nc, 0, -1, f"smp.{arch}({encoder})"
        self.np = sum(p.numel() for p in self.parameters())

    def forward(self, x: torch.Tensor):
        """Logits (training: with no aux logits), or the export outputs while exporting."""
        logits = self.net(x)
        if self.training:
            return logits, None
        return self.export_outputs(logits) if self.exporting else logits


class SmpSemSegModel(SemSegModel):
    """A `SemSegModel` whose only layer is an smp model (`SmpNet`): our trainer, validator and exporter run it.

    Args:
        arch (str): segmentation_models_pytorch architecture.
        encoder (str): Its encoder.
        nc (int): Number of classes.
    """

    def __init__(self, arch: str, encoder: str, nc: int):
        """Build the smp model; `yaml` records what it is (no Ultralytics YAML rows)."""
        BaseModel.__init__(self)
        self.yaml = {"nc": nc, "channels": 3, "smp": [arch, encoder], "aux_weight": 0.0}
        self.model = nn.Sequential(SmpNet(arch, encoder, nc))
        self.save, self.inplace = [], True
        self.names = {i: f"{i}" for i in range(nc)}
        self.stride = torch.tensor([float(STRIDE)])

    def _predict_once(self, x, profile=False, visualize=False, embed=None):
        """One pass through the smp model (no YOLO layer routing to do)."""
        return self.model[0](x)


@contextlib.contextmanager
def training(name: str):
    """Inside, `SemSegTrainer.get_model` builds the smp rival `name` for the dataset's classes (no weights)."""
    from ultralytics_semseg.models.train import SemSegTrainer

    arch, encoder = ARCHS[name]
    original = SemSegTrainer.get_model

    def get_model(self, cfg=None, weights=None, verbose=True):
        return SmpSemSegModel(arch, encoder, self.data["nc"])

    SemSegTrainer.get_model = get_model
    try:
        yield
    finally:
        SemSegTrainer.get_model = original
