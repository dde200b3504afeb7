"""MUNGE augmentation: shapes, binary columns, ranges, copies, seeding, validation."""

import numpy as np
import pytest

from skhpmkd import augment
from skhpmkd.augment import munge, nearest_other_rows, synthetic_rows


def mixed_data(n=300, seed=0):
    """Three continuous columns on different scales and a two-column one-hot block."""
    rng = np.random.default_rng(seed)
    continuous = rng.normal(size=(n, 3)) * [1.0, 10.0, 0.01] + [0.0, 50.0, -3.0]
    category = rng.integers(0, 2, size=n)
    one_hot = np.eye(2)[category]
    return np.hstack([continuous, one_hot])


def rows_as_set(X):
    return {tuple(row) for row in np.asarray(X, dtype=np.float32)}


def test_shape_and_dtype():
    X = mixed_data()
    for n_samples in (0, 1, 299, 300, 301, 1000):
        out = munge(X, n_samples, random_state=0)
        assert out.shape == (n_samples, X.shape[1])
        assert out.dtype == np.float32


def test_binary_columns_stay_binary():
    out = munge(mixed_data(), 2000, swap_prob=0.9, random_state=0)
    assert set(np.unique(out[:, 3:])) <= {0.0, 1.0}


def test_synthetic_rows_stay_near_the_data():
    X = mixed_data()
    out = munge(X, 3000, random_state=0)
    low = X.min(axis=0) - 3 * X.std(axis=0)
    high = X.max(axis=0) + 3 * X.std(axis=0)
    inside = (out >= low) & (out <= high)
    assert inside.mean(axis=0).min() >= 0.99


def test_swap_prob_zero_returns_copies_of_data_rows():
    X = mixed_data()
    out = munge(X, 700, swap_prob=0.0, random_state=0)
    assert rows_as_set(out) <= rows_as_set(X)
    # the first round visits every row once
    assert rows_as_set(out[:300]) == rows_as_set(X)


def test_rows_differ_from_the_data_when_swapping():
    X = mixed_data()
    out = munge(X, 500, swap_prob=0.5, random_state=0)
    new_rows = [row for row in map(tuple, out) if row not in rows_as_set(X)]
    assert len(new_rows) > 0.8 * len(out)


def test_continuous_swaps_land_near_the_neighbour():
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    # neighbours: 0 <-> 1 and 10 <-> 11, so every draw is N(neighbour, 1 / spread)
    out = munge(X, 4000, swap_prob=1.0, spread=4.0, random_state=0)
    assert np.all((np.abs(out) < 2.5) | (np.abs(out - 10.5) < 2.0))
    near_low = out[np.abs(out) < 2.5]
    assert abs(near_low.mean() - 0.5) < 0.05
    assert abs(near_low.std() - np.sqrt(0.25 + 0.25**2)) < 0.05


def test_nearest_other_rows_skips_self_and_handles_duplicates():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0], [5.2, 5.0], [9.0, 0.0]])
    found = nearest_other_rows(X, np.zeros(2, dtype=bool), np.random.RandomState(0))
    assert found.tolist() == [1, 0, 3, 2, 3]


def test_nearest_other_rows_in_blocks(monkeypatch):
    monkeypatch.setattr(augment, "NEIGHBOUR_BLOCK_SIZE", 64)
    X = mixed_data(n=500)
    found = nearest_other_rows(X, np.zeros(X.shape[1], dtype=bool),
                               np.random.RandomState(0))
    assert found.shape == (500,)
    assert np.all(found != np.arange(500))
    out = munge(X, 600, random_state=0)
    assert out.shape == (600, X.shape[1])


def test_deterministic_for_a_fixed_seed():
    X = mixed_data()
    np.testing.assert_array_equal(munge(X, 400, random_state=7),
                                  munge(X, 400, random_state=7))
    assert not np.array_equal(munge(X, 400, random_state=7),
                              munge(X, 400, random_state=8))
    rng = np.random.RandomState(3)
    np.testing.assert_array_equal(munge(X, 50, random_state=rng),
                                  munge(X, 50, random_state=np.random.RandomState(3)))


def test_global_rng_untouched():
    X = mixed_data()
    np.random.seed(123)
    before = np.random.get_state()
    munge(X, 100, random_state=0)
    munge(X, 100, random_state=None)
    after = np.random.get_state()
    assert before[0] == after[0] and before[2:] == after[2:]
    np.testing.assert_array_equal(before[1], after[1])


@pytest.mark.parametrize("X, kwargs", [
    (np.zeros(5), {}),
    (np.zeros((1, 3)), {}),
    (np.array([[0.0, np.nan], [1.0, 2.0]]), {}),
    (np.array([[0.0, np.inf], [1.0, 2.0]]), {}),
    (np.zeros((4, 2)), {"n_samples": -1}),
    (np.zeros((4, 2)), {"n_samples": 2.5}),
    (np.zeros((4, 2)), {"n_samples": True}),
    (np.zeros((4, 2)), {"swap_prob": 1.5}),
    (np.zeros((4, 2)), {"swap_prob": -0.1}),
    (np.zeros((4, 2)), {"spread": 0.0}),
    (np.zeros((4, 2)), {"spread": float("inf")}),
])
def test_bad_input_raises(X, kwargs):
    kwargs = {"n_samples": 3, **kwargs}
    with pytest.raises(ValueError):
        munge(X, **kwargs)


def test_larger_input_works():
    X = np.random.default_rng(0).normal(size=(5000, 50))
    X[:, :10] = X[:, :10] > 0
    out = munge(X, 5000, random_state=0)
    assert out.shape == (5000, 50) and np.isfinite(out).all()
    assert set(np.unique(out[:, :10])) <= {0.0, 1.0}


@pytest.mark.parametrize("n_rows, setting, expected", [
    (100, "auto", 900), (5000, "auto", 15000), (20000, "auto", 0), (30000, "auto", 0),
    (100, "off", 0), (100, 0.0, 0), (100, 2.5, 250), (10, 1, 10),
])
def test_synthetic_rows(n_rows, setting, expected):
    assert synthetic_rows(n_rows, setting) == expected


@pytest.mark.parametrize("setting", ["more", -1.0, float("nan"), None, True])
def test_synthetic_rows_rejects_bad_settings(setting):
    with pytest.raises(ValueError):
        synthetic_rows(100, setting)
