"""The optional DeepBridge HPM-KD adapter of the benchmark suite."""

import importlib.util

import numpy as np
import pytest
from sklearn.datasets import make_classification

from benchmarks.deepbridge_adapter import deepbridge_available, run_deepbridge_hpmkd

KEYS = {"proba", "predict_proba", "fit_seconds", "error", "note"}


def _tiny_binary():
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4,
                               n_redundant=0, random_state=0)
    return X[:150], y[:150], X[150:], y[150:]


def test_not_installed_returns_note_without_raising(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        if name.split(".")[0] in ("deepbridge_distillation", "deepbridge"):
            return None
        return real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert not deepbridge_available()
    result = run_deepbridge_hpmkd(*_tiny_binary(), seed=0)
    assert result == {"proba": None, "predict_proba": None, "fit_seconds": None,
                      "error": None, "note": "deepbridge-distillation not installed"}


@pytest.mark.skipif(not deepbridge_available(),
                    reason="deepbridge-distillation is not installed")
def test_runs_on_tiny_binary_problem():
    X_train, y_train, X_test, y_test = _tiny_binary()
    state = np.random.get_state()[1].copy()
    result = run_deepbridge_hpmkd(X_train, y_train, X_test, y_test, seed=0)

    assert set(result) == KEYS
    assert isinstance(result["note"], str) and result["note"]
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    if result["error"] is None:
        proba = result["proba"]
        assert proba.shape == (len(X_test), 2) and proba.dtype == np.float64
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert result["fit_seconds"] > 0
        np.testing.assert_allclose(result["predict_proba"](X_test[:5]), proba[:5])
    else:
        assert isinstance(result["error"], str)
        assert "\n" not in result["error"] and len(result["error"]) <= 300
        assert result["proba"] is None and result["predict_proba"] is None
