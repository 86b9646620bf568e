"""Semseg datasets: dataset YAML checks, label formats, augmentation and the synthetic dataset."""
