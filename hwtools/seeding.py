"""One call that makes a run reproducible: random, numpy, TensorFlow and torch."""
from __future__ import annotations

import os
import random
import sys

DEFAULT_SEED = 0


def grading_seed() -> int:
    """The seed of a grading run ($HW_SEED, default 0): same submission, same score."""
    return int(os.environ.get("HW_SEED", DEFAULT_SEED))


def seed_everything(seed: int | None = None, torch_threads: int = 1) -> int:
    """Seed every RNG in use and make TensorFlow deterministic; returns the seed used.

    TensorFlow and torch are seeded only if already imported or importable cheaply, so
    numpy-only code does not pay for importing them. Torch threads are pinned: under CPU
    contention a 2-thread torch ran 7x slower on the course machines.
    """
    seed = grading_seed() if seed is None else int(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    import numpy as np
    np.random.seed(seed)
    if "tensorflow" in sys.modules or "keras" in sys.modules:
        import keras
        import tensorflow as tf
        keras.utils.set_random_seed(seed)
        tf.config.experimental.enable_op_determinism()
    if "torch" in sys.modules:
        import torch
        torch.manual_seed(seed)
        torch.set_num_threads(torch_threads)
        torch.use_deterministic_algorithms(True, warn_only=True)
    return seed
