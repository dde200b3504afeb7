"""Transfer-set augmentation: MUNGE synthetic rows near the training data.

The teachers label these rows, so the student sees more of the teachers' function than
the training rows alone show (Bucila, Caruana & Niculescu-Mizil, "Model compression",
KDD 2006).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_array, check_random_state

from .offsets import column_std

#: Rows per block of the nearest-neighbour search (see :func:`nearest_other_rows`).
NEIGHBOUR_BLOCK_SIZE = 8192

#: ``augment="auto"`` grows the transfer set to ``min(AUTO_GROWTH * n, AUTO_MAX_ROWS)``.
AUTO_GROWTH, AUTO_MAX_ROWS = 10, 20000

#: The augment trial judges on at least this many rows: where the validation split
#: holds fewer, it pools the held-out rows of enough folds of the data (at most one
#: per split of ``1 / validation_fraction``), so a small split cannot hide a real gain.
#: Each fold reruns the teacher stage, affordable on data this small (100 rows cost
#: twice as much and decided the same on 16 small datasets, docs/benchmarks.md).
TRIAL_POOLED_ROWS = 50


def synthetic_rows(n_rows, augment):
    """How many synthetic rows to add to a transfer set of ``n_rows`` rows.

    Parameters
    ----------
    n_rows : int
        Rows in the transfer set before augmentation.
    augment : "auto", "off" or float >= 0
        "auto": up to ``min(10 * n_rows, 20000)`` rows in all (none when there are
        already 20,000). "off": none. A float: that many synthetic rows per row, rounded.

    Returns
    -------
    int >= 0
    """
    if isinstance(augment, str):
        if augment == "off":
            return 0
        if augment == "auto":
            return max(min(AUTO_GROWTH * n_rows, AUTO_MAX_ROWS) - n_rows, 0)
    elif isinstance(augment, Real) and not isinstance(augment, bool) and (
            0 <= augment < np.inf):
        return int(round(augment * n_rows))
    raise ValueError(f"augment must be 'auto', 'off' or a finite number >= 0; "
                     f"got {augment!r}.")


def binary_columns(X):
    """Boolean mask of the columns whose values all lie in {0, 1} (e.g. one-hot)."""
    return np.all((X == 0) | (X == 1), axis=0)


def nearest_other_rows(X, binary, rng):
    """Index of each row's nearest neighbour among the other rows.

    Distances are Euclidean, with non-binary columns divided by their standard
    deviation so that no column dominates through its units; binary columns stay 0/1
    (so a one-hot mismatch counts like a Hamming distance). With more than
    :data:`NEIGHBOUR_BLOCK_SIZE` rows, the rows are shuffled into near-equal blocks of
    at most that size and each row's neighbour is searched within its block: exact
    brute force costs ``n**2 * d`` (about 9 s for 40,000 x 120 on two busy cores),
    blocks cost ``n * block * d`` (about 2 s) and still give a near neighbour. The
    search is scikit-learn's brute-force ``kneighbors`` on the fitted rows themselves,
    which leaves each row out of its own result; exact duplicates count as neighbours.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), at least 2 rows
    binary : bool ndarray of shape (n_features,)
    rng : numpy.random.RandomState
        Shuffles the rows into blocks (unused when there is a single block).

    Returns
    -------
    int ndarray of shape (n_samples,)
    """
    scale = column_std(X)
    scale[binary | (scale == 0)] = 1.0
    scaled = (X / scale).astype(np.float32)
    n_rows = len(X)
    n_blocks = -(-n_rows // NEIGHBOUR_BLOCK_SIZE)
    if n_blocks == 1:
        blocks = [np.arange(n_rows)]
    else:
        blocks = np.array_split(rng.permutation(n_rows), n_blocks)
    neighbours = np.empty(n_rows, dtype=np.intp)
    for block in blocks:
        search = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(scaled[block])
        found = search.kneighbors(return_distance=False)  # each row itself excluded
        neighbours[block] = block[found[:, 0]]
    return neighbours


def munge(X, n_samples, *, swap_prob=0.5, spread=1.0, random_state=None,
          return_sources=False):
    """Synthetic rows by MUNGE (Bucila et al., 2006).

    Each synthetic row starts as a copy of a data row ``e`` whose nearest other row is
    ``e'`` (see :func:`nearest_other_rows`). Each attribute ``a`` is changed with
    probability ``swap_prob``: a binary column (all values in {0, 1}, as one-hot
    columns are) takes ``e'_a``; any other column draws from
    ``Normal(e'_a, |e_a - e'_a| / spread)``. ``spread`` is the paper's local variance
    parameter ``s``: larger values keep the draws closer to the neighbour. Source rows
    are visited in a fresh random order every round, as many rounds as ``n_samples``
    needs.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features)
        Dense, numeric, finite, at least 2 rows.
    n_samples : int >= 0
        Number of synthetic rows.
    swap_prob : float in [0, 1], default=0.5
        Probability of changing each attribute; 0 returns copies of data rows.
    spread : float > 0, default=1.0
        Divides the standard deviation of the continuous draws.
    random_state : int, RandomState instance or None, default=None
        Seeds the row order, the swaps and the draws. None seeds a private generator
        from the operating system; numpy's global generator is never used.
    return_sources : bool, default=False
        Also return the data row each synthetic row started from.

    Returns
    -------
    ndarray of shape (n_samples, n_features), float32
        The synthetic rows.
    ndarray of shape (n_samples,)
        Index of each one's source row ``e`` in ``X``; only with ``return_sources``.
    """
    X = check_array(X, dtype=np.float64, ensure_min_samples=2)
    if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or (
            n_samples < 0):
        raise ValueError(f"n_samples must be an int >= 0; got {n_samples!r}.")
    if not isinstance(swap_prob, Real) or not 0 <= swap_prob <= 1:
        raise ValueError(f"swap_prob must be a number in [0, 1]; got {swap_prob!r}.")
    if not isinstance(spread, Real) or not 0 < spread < np.inf:
        raise ValueError(f"spread must be a finite number > 0; got {spread!r}.")
    n_rows, n_features = X.shape
    if n_samples == 0:
        empty = np.empty((0, n_features), dtype=np.float32)
        return (empty, np.empty(0, dtype=np.intp)) if return_sources else empty
    rng = np.random.RandomState() if random_state is None else check_random_state(
        random_state)

    binary = binary_columns(X)
    neighbours = nearest_other_rows(X, binary, rng)
    n_rounds = -(-n_samples // n_rows)
    rounds = [rng.permutation(n_rows) for _ in range(n_rounds)]
    sources = np.concatenate(rounds)[:n_samples]
    original, neighbour = X[sources], X[neighbours[sources]]

    swap = rng.random_sample((n_samples, n_features)) < swap_prob
    noise = rng.standard_normal((n_samples, n_features))
    drawn = neighbour + noise * (np.abs(original - neighbour) / spread)
    changed = np.where(binary, neighbour, drawn)
    synthetic = np.where(swap, changed, original).astype(np.float32)
    return (synthetic, sources) if return_sources else synthetic
