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


def paired_interval_pp(correct, reference, n_resamples=4000, level=0.95, seed=0):
    """Bootstrap interval of the accuracy of ``correct`` minus that of ``reference``
    (per-row booleans on the same test rows), in pp.

    The rows are resampled in pairs, so what both models get right or wrong together
    does not widen the interval. Each row's difference is -1, 0 or +1, so a resample's
    counts are drawn at once from the multinomial distribution they follow.
    """
    difference = np.asarray(correct, dtype=int) - np.asarray(reference, dtype=int)
    n_rows = len(difference)
    shares = [np.mean(difference == 1), np.mean(difference == -1)]
    counts = np.random.RandomState(seed).multinomial(
        n_rows, [*shares, max(0.0, 1.0 - sum(shares))], size=n_resamples)
    means = 100 * (counts[:, 0] - counts[:, 1]) / n_rows
    tail = 100 * (1 - level) / 2
    return float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


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
