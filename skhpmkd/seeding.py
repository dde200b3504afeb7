"""Torch's global random generator, seeded for one task and restored after it.

torch has one generator per process (and one per CUDA device), which all threads
share: two trainings that seed it at once in threads (joblib's threading backend, the
threads of a dask worker, a thread pool of the user's) would draw from each other's
streams, and each would restore a state the other had left. Every block that draws
from it runs inside :func:`torch_seeded`, which holds one process-wide lock, so such
blocks run one at a time and a fit gives the same model in threads as alone. In
worker processes (loky, dask's) the lock is never contended.
"""

import threading
from contextlib import contextmanager

import torch

_GENERATOR_LOCK = threading.RLock()


@contextmanager
def torch_seeded(seed=None, cuda_devices=()):
    """Run the block alone among this process's threads, with torch's generator (and
    those of ``cuda_devices``) seeded with ``seed`` (None: as it is) and restored
    afterwards."""
    with _GENERATOR_LOCK, torch.random.fork_rng(devices=list(cuda_devices)):
        if seed is not None:
            torch.manual_seed(seed)
        yield
