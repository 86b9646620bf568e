"""Training sample order and augmentation randomness that depend only on (seed, epoch, position): resumable runs.

Ultralytics' training loader draws each epoch's order from a generator and the augmentation from the global RNGs of
whichever process loads the sample: the main process with `workers=0`, else each worker, whose RNG states live in
the worker processes and run ahead of training with prefetching. A checkpoint cannot capture those, so a resumed run
sees other crops and flips than the uninterrupted run would have. Here each epoch's order comes from a generator
seeded with (seed, epoch), and every sample index travels with a seed of its own, with which `SemSegDataset` seeds
Python's, NumPy's and torch's RNGs while it loads and augments that sample (restoring them afterwards). The batches of
epoch e are then the same with 0 or 8 workers, and after resuming at epoch e; the trainer only has to set `epoch`.
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


class SeededEpochSampler(Sampler):
    """Wrap a loader's index sampler: yield `(index, sample_seed)` with order and seeds fixed by (seed, epoch).

    Every pass over the sampler is one epoch; `epoch` is the number of the next pass, which the trainer sets when it
    resumes (or when it rebuilds the loader). A shuffling `RandomSampler` is replaced by a permutation drawn from a
    generator seeded with (seed, epoch); a `DistributedSampler` gets `set_epoch(epoch)` before each pass; any other
    sampler is iterated as it is.

    Args:
        sampler (Sampler): The index sampler the loader was built with.
        seed (int): The run's seed (`args.seed`).
        rank (int): DDP rank (its samples get seeds of their own), -1 or 0 without DDP.

    Examples:
        >>> s = SeededEpochSampler(RandomSampler(range(4)), seed=0)
        >>> first, second = list(s), list(s)
        >>> s.epoch = 1
        >>> list(s) == second and first != second
        True
    """

    def __init__(self, sampler: Sampler, seed: int, rank: int = -1):
        """Wrap `sampler` with the run's seed and the process's DDP rank; the first pass is epoch 0."""
        self.sampler = sampler
        self.seed = int(seed)
        self.rank = max(int(rank), 0)
        self.epoch = 0

    def __len__(self) -> int:
        """As many samples per epoch as the wrapped sampler."""
        return len(self.sampler)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """One epoch of `(index, sample_seed)` pairs, fixed by (seed, rank, epoch); then move on to the next epoch."""
        epoch, self.epoch = self.epoch, self.epoch + 1
        base = self.sampler
        if isinstance(base, RandomSampler) and not base.replacement and len(base) == len(base.data_source):
            g = torch.Generator().manual_seed(mix_seed(self.seed, self.rank, epoch))
            order = torch.randperm(len(base), generator=g).tolist()
        else:
            if hasattr(base, "set_epoch"):
                base.set_epoch(epoch)
            order = list(base)
        for k, i in enumerate(order):
            yield int(i), mix_seed(self.seed, self.rank, epoch, k)
