"""Training sample order and augmentation randomness that depend only on (seed, epoch, position): resumable runs.

Ultralytics' training loader draws each epoch's order from a generator and the augmentation from the global RNGs of
whichever process loads the sample: the main process with `workers=0`, else each worker, whose RNG states live in
the worker processes and run ahead of training with prefetching. A checkpoint cannot capture those, so a resumed run
sees other crops and flips than the uninterrupted run would have. Here each epoch's order comes from a generator
seeded with (seed, epoch), and every sample index travels with a seed of its own, with which `SemSegDataset` seeds
Python's, NumPy's and torch's RNGs while it loads and augments that sample (restoring them afterwards). The batches of
epoch e are then the same with 0 or 8 workers, and after resuming at epoch e; the trainer only has to set `epoch`.

With rare-class sampling (`rare_class_weights`, DAFormer's RCS) the epoch's order is drawn with replacement, with
images that hold rare classes more often, from the same (seed, epoch) generator.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch.utils.data import RandomSampler, Sampler


def mix_seed(*values: int) -> int:
    """A 32-bit seed that depends on all `values` (NumPy's SeedSequence hashing, so neighbours are unrelated).

    Examples:
        >>> mix_seed(0, 1, 2) == mix_seed(0, 1, 2) != mix_seed(0, 1, 3)
        True
    """
    return int(np.random.SeedSequence([int(v) & 0xFFFFFFFF for v in values]).generate_state(1)[0])


@contextmanager
def seeded_rng(seed: int):
    """Seed Python's, NumPy's and torch's (CPU) global RNGs with `seed` inside the block, restore them after it.

    Examples:
        >>> with seeded_rng(7):
        ...     a = random.random()
        >>> with seeded_rng(7):
        ...     a == random.random()
        True
    """
    py, npy, th = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)  # CPU only: a main-process CUDA stream stays untouched
    try:
        yield
    finally:
        random.setstate(py)
        np.random.set_state(npy)
        torch.set_rng_state(th)


def rare_class_weights(counts: np.ndarray, temperature: float) -> np.ndarray:
    """Sampling weight per image for rare-class sampling (RCS, Hoyer et al., DAFormer, CVPR 2022).

    A class `c` is drawn with probability `softmax((1 - f_c) / temperature)` over the classes present in the split,
    `f_c` being its share of the labelled pixels, then an image uniformly among those that hold `c`. The returned
    weights are that draw's probability per image: an image's share of each of its classes' probability. A smaller
    temperature draws the rarest classes more often; a large one tends to each present class equally often.

    Args:
        counts (np.ndarray): (images, classes) labelled pixels per class of each image.
        temperature (float): Softmax temperature, > 0 (DAFormer: 0.01).

    Returns:
        (np.ndarray): (images,) float64 probabilities that sum to 1; 0 for an image without labelled pixels.

    Examples:
        >>> counts = np.array([[90, 0], [90, 0], [80, 10]])  # class 1 only in the last image
        >>> rare_class_weights(counts, 0.01).round(3).tolist()
        [0.0, 0.0, 1.0]
        >>> rare_class_weights(counts, 100.0).round(2).tolist()  # each class drawn about equally often
        [0.17, 0.17, 0.67]
    """
    if temperature <= 0:
        raise ValueError(f"rare-class sampling temperature {temperature} must be > 0 (0 turns sampling off)")
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    images_with = present.sum(0)
    classes = images_with > 0
    share = counts.sum(0)[classes] / counts.sum()
    logits = (1 - share) / temperature
    p_class = np.exp(logits - logits.max())
    p_class /= p_class.sum()
    weights = present[:, classes] @ (p_class / images_with[classes])
    return weights / weights.sum()


class SeededEpochSampler(Sampler):
    """Wrap a loader's index sampler: yield `(index, sample_seed)` with order and seeds fixed by (seed, epoch).

    Every pass over the sampler is one epoch; `epoch` is the number of the next pass, which the trainer sets when it
    resumes (or when it rebuilds the loader). A shuffling `RandomSampler` is replaced by a permutation drawn from a
    generator seeded with (seed, epoch); a `DistributedSampler` gets `set_epoch(epoch)` before each pass; any other
    sampler is iterated as it is. With `weights`, an epoch is instead `len(sampler)` indices drawn with replacement in
    proportion to them (rare-class sampling), from the same generator (under DDP each rank draws its own).

    Args:
        sampler (Sampler): The index sampler the loader was built with.
        seed (int): The run's seed (`args.seed`).
        rank (int): DDP rank (its samples get seeds of their own), -1 or 0 without DDP.
        weights (np.ndarray, optional): Sampling weight per image, e.g. from `rare_class_weights`.

    Examples:
        >>> s = SeededEpochSampler(RandomSampler(range(4)), seed=0)
        >>> first, second = list(s), list(s)
        >>> s.epoch = 1
        >>> list(s) == second and first != second
        True
    """

    def __init__(self, sampler: Sampler, seed: int, rank: int = -1, weights: np.ndarray | None = None):
        """Wrap `sampler` with the run's seed and the process's DDP rank; the first pass is epoch 0."""
        self.sampler = sampler
        self.seed = int(seed)
        self.rank = max(int(rank), 0)
        self.weights = None if weights is None else torch.as_tensor(weights, dtype=torch.float64)
        self.epoch = 0

    def __len__(self) -> int:
        """As many samples per epoch as the wrapped sampler."""
        return len(self.sampler)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """One epoch of `(index, sample_seed)` pairs, fixed by (seed, rank, epoch); then move on to the next epoch."""
        epoch, self.epoch = self.epoch, self.epoch + 1
        base = self.sampler
        g = torch.Generator().manual_seed(mix_seed(self.seed, self.rank, epoch))
        if self.weights is not None:  # each DDP rank draws its own share from its own generator
            order = torch.multinomial(self.weights, len(base), replacement=True, generator=g).tolist()
        elif isinstance(base, RandomSampler) and not base.replacement and len(base) == len(base.data_source):
            order = torch.randperm(len(base), generator=g).tolist()
        else:
            if hasattr(base, "set_epoch"):
                base.set_epoch(epoch)
            order = list(base)
        for k, i in enumerate(order):
            yield int(i), mix_seed(self.seed, self.rank, epoch, k)
