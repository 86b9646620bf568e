"""Constants of the semseg task, in one place.

Plain values without imports, so every layer (including the torch-free synthetic-dataset generator and the import
hook) can use them without making `import ultralytics_semseg` slower.
"""

TASK = "semseg"  # the task name on the command line, in checkpoints and in Ultralytics' task tables
DEFAULT_MODEL = "yolo11n-semseg.pt"  # `yolo semseg train` without model=: the packaged pretrained weights
DEFAULT_DATA = "synthetic-streets.yaml"  # without data=: the packaged dataset, generated offline on first use
METRIC = "metrics/mIoU"  # the key Ultralytics reports as the task's main metric

IGNORE = 255  # class-map value of pixels without a label: excluded from loss and metrics; at most 255 classes
PAD_VALUE = 114  # grey of letterbox and crop padding in images (Ultralytics' value); the mask pads with IGNORE
STRIDE = 32  # input sizes are multiples of the backbone's deepest stride (P5); SemSegModel.stride holds it
