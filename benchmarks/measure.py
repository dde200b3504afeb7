"""Measurements of one fitted model: accuracy, log-loss, size and prediction latency."""

import time

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, log_loss

from skhpmkd.sizes import count_tree_nodes, pickled_nbytes

LATENCY_ROWS = 10_000


def normalised_proba(predict_proba, X):
    """Probabilities as float64 rows that sum to 1 (XGBoost returns float32)."""
    proba = np.asarray(predict_proba(X), dtype=np.float64)
    return proba / proba.sum(axis=1, keepdims=True)


def median_ms(func, X, repeats):
    """Median wall time of ``func(X)`` over ``repeats`` calls, in milliseconds."""
    func(X)  # warm-up: lazy initialisation, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func(X)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def scores(proba, y_test, n_classes):
    """Accuracy, balanced accuracy and log-loss of predicted probabilities."""
    predicted = proba.argmax(axis=1)
    return {
        "accuracy": accuracy_score(y_test, predicted),
        "balanced_accuracy": balanced_accuracy_score(y_test, predicted),
        "log_loss": log_loss(y_test, proba, labels=np.arange(n_classes)),
    }


def latencies(predict_proba, X_test):
    """Milliseconds to predict 10,000 rows (test rows repeated) and a single row."""
    rows = np.resize(X_test, (LATENCY_ROWS, X_test.shape[1]))
    return {"latency_10k_ms": median_ms(predict_proba, rows, repeats=3),
            "latency_1_ms": median_ms(predict_proba, X_test[:1], repeats=20)}


def model_size(model):
    """Pickled bytes and parameters (students) or tree nodes (teachers) of a model."""
    student_params = getattr(model, "student_n_params_", None)
    if student_params is not None:
        return {"nbytes": model.student_nbytes_, "n_params": student_params,
                "n_nodes": None}
    return {"nbytes": pickled_nbytes(model), "n_params": None,
            "n_nodes": count_tree_nodes(model)}
