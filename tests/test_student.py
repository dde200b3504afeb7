"""Student: default sizes, devices, the lean predict path."""

import pickle
from unittest.mock import patch

import numpy as np
import pytest
import torch

from skhpmkd.student import (
    MAX_BINS,
    MAX_ENCODED_INPUTS,
    MAX_WIDTH,
    MIN_BINS,
    MIN_ROWS_PER_BIN,
    MIN_WIDTH,
    MLPModule,
    PiecewiseLinearEncoding,
    default_hidden_units,
    predict_proba_fast,
    quantile_bin_edges,
    resolve_device,
)


@pytest.mark.parametrize("n_features, n_classes, width", [
    (2, 2, MIN_WIDTH), (30, 2, 64), (50, 10, 128), (1000, 10, MAX_WIDTH)])
def test_default_hidden_units_scale_with_data_within_bounds(n_features, n_classes, width):
    assert default_hidden_units(n_features, n_classes) == (width, width)


def test_mlp_module_shapes():
    module = MLPModule(n_features=5, n_classes=4, hidden_units=(7, 3))
    assert module(torch.zeros(2, 5)).shape == (2, 4)
    assert MLPModule(5, 4, hidden_units=())(torch.zeros(1, 5)).shape == (1, 4)


def test_resolve_device():
    with patch("torch.cuda.is_available", lambda: False):
        assert resolve_device("auto") == "cpu"
        with pytest.raises(ValueError, match="no CUDA"):
            resolve_device("cuda")
    with patch("torch.cuda.is_available", lambda: True):
        assert resolve_device("auto") == "cuda"
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="not a torch device"):
        resolve_device("tpu-ish")


def test_predict_proba_fast_batches_and_restores_mode():
    torch.manual_seed(0)
    module = MLPModule(4, 3, hidden_units=(8,), dropout=0.5)
    module.train()
    X = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    whole = predict_proba_fast(module, X)
    batched = predict_proba_fast(module, X, batch_size=7)
    np.testing.assert_allclose(whole, batched, atol=1e-6)
    np.testing.assert_allclose(whole.sum(1), 1, atol=1e-6)
    assert module.training  # mode restored
    module.eval()
    with torch.no_grad():
        expected = torch.softmax(module(torch.from_numpy(X)), 1).numpy()
    np.testing.assert_allclose(whole, expected, atol=1e-6)


def test_quantile_bin_edges_skip_binary_columns_and_shrink_on_small_data():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=400), rng.integers(0, 2, 400), np.ones(400)])
    edges = quantile_bin_edges(X)
    assert edges[1] is None and edges[2] is None
    assert len(edges[0]) == MAX_BINS + 1 and np.all(np.diff(edges[0]) > 0)
    assert len(quantile_bin_edges(X[:40])[0]) == 40 // MIN_ROWS_PER_BIN + 1
    wide = rng.normal(size=(400, 64))  # 64 numeric columns share the input budget
    assert len(quantile_bin_edges(wide)[0]) == MAX_ENCODED_INPUTS // 64 + 1
    assert len(quantile_bin_edges(rng.normal(size=(400, 500)))[0]) == MIN_BINS + 1


def test_piecewise_linear_encoding_values():
    encoding = PiecewiseLinearEncoding([np.array([0.0, 1.0, 3.0]), None])
    X = torch.tensor([[0.5, 7.0], [2.0, 8.0], [-1.0, 9.0], [5.0, 1.0]])
    out = encoding(X)
    assert encoding.n_outputs == 3 and out.shape == (4, 3)
    # passthrough column first, then [bin 1, bin 2]
    torch.testing.assert_close(out, torch.tensor([[7.0, 0.5, 0.0],
                                                  [8.0, 1.0, 0.5],
                                                  [9.0, -1.0, 0.0],  # extrapolates left
                                                  [1.0, 1.0, 2.0]]))  # and right


def test_mlp_with_bin_edges_pickles_and_predicts():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    module = MLPModule(3, 2, hidden_units=(8,), bin_edges=quantile_bin_edges(X))
    restored = pickle.loads(pickle.dumps(module))
    np.testing.assert_allclose(predict_proba_fast(restored, X),
                               predict_proba_fast(module, X))
    with pytest.raises(ValueError, match="bin_edges"):
        MLPModule(4, 2, bin_edges=quantile_bin_edges(X))


def test_widest_within_budget_halves_until_it_fits():
    from skhpmkd.sizes import pickled_nbytes
    from skhpmkd.student import widest_within_budget

    full = pickled_nbytes(MLPModule(50, 3, (256, 256)))
    assert widest_within_budget(50, 3, (256, 256), max_nbytes=full) == (256, 256)
    units = widest_within_budget(50, 3, (256, 256), max_nbytes=full / 4)
    assert units[0] < 256 and pickled_nbytes(MLPModule(50, 3, units)) <= full / 4
    assert widest_within_budget(50, 3, (256, 256), max_nbytes=1) == (8, 8)
