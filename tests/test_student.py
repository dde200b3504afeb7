"""Student: default sizes, devices, the lean predict path."""

from unittest.mock import patch

import numpy as np
import pytest
import torch

from skhpmkd.student import (
    MAX_WIDTH,
    MIN_WIDTH,
    MLPModule,
    default_hidden_units,
    predict_proba_fast,
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
