"""Configuration manager: meta-features."""

import numpy as np
import pytest

from skhpmkd.config import meta_features


def test_meta_features_values():
    X = np.column_stack([np.arange(100.0), np.tile([0.0, 1.0], 50)])
    y = np.array([0] * 75 + [1] * 25)
    proba = np.zeros((100, 2, 2))
    proba[:, 0, :] = [0.9, 0.1]          # teacher 0 always says class 0
    proba[np.arange(100), 1, y] = 0.8    # teacher 1 is right with 0.8
    proba[np.arange(100), 1, 1 - y] = 0.2
    features = meta_features(X, y, proba, teacher_nbytes=1000, student_nbytes=10)
    assert features["log_rows"] == pytest.approx(2.0)
    assert features["imbalance"] == pytest.approx(3.0)
    assert features["binary_feature_share"] == pytest.approx(0.5)
    assert features["teacher_accuracy_mean"] == pytest.approx((0.75 + 1.0) / 2)
    assert features["teacher_accuracy_max"] == pytest.approx(1.0)
    assert features["teacher_confidence"] == pytest.approx(0.85)
    assert features["teacher_disagreement"] == pytest.approx(0.25)
    assert features["log_size_ratio"] == pytest.approx(2.0)
    assert all(isinstance(value, float) for value in features.values())
