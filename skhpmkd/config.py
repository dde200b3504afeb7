"""Adaptive configuration manager: meta-features of the data and the teachers.

Meta-features describe a distillation task in a few numbers (size, classes, balance,
how good, confident and unanimous the teachers are, how much smaller the student is).
Every fit records them in the shared optimization memory with its configuration and
scores, so that configurations can later be proposed for a new task from the runs of
similar past tasks.
"""

import numpy as np


def meta_features(X, y, teacher_proba, *, teacher_nbytes=None, student_nbytes=None):
    """Numbers that describe a distillation task.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Encoded labels ``0 .. n_classes - 1``.
    teacher_proba : ndarray of shape (n_samples, n_teachers, n_classes)
        The teachers' out-of-fold probabilities.
    teacher_nbytes, student_nbytes : int, optional
        Pickled sizes, for the size ratio.

    Returns
    -------
    dict of str -> float
        ``log_rows``, ``log_features``, ``n_classes``, ``imbalance`` (largest over
        smallest class share), ``binary_feature_share``, ``n_teachers``,
        ``teacher_accuracy_mean`` / ``_max``, ``teacher_confidence`` (mean max
        probability), ``teacher_disagreement`` (share of rows where the teachers'
        predictions differ) and, with both sizes, ``log_size_ratio``.
    """
    n_samples, n_features = X.shape
    counts = np.bincount(y, minlength=teacher_proba.shape[2])
    predictions = teacher_proba.argmax(axis=2)
    accuracies = (predictions == y[:, None]).mean(axis=0)
    binary = [len(np.unique(column[:2000])) <= 2 for column in X.T]
    features = {
        "log_rows": float(np.log10(n_samples)),
        "log_features": float(np.log10(n_features)),
        "n_classes": float(teacher_proba.shape[2]),
        "imbalance": float(counts.max() / max(counts[counts > 0].min(), 1)),
        "binary_feature_share": float(np.mean(binary)),
        "n_teachers": float(teacher_proba.shape[1]),
        "teacher_accuracy_mean": float(accuracies.mean()),
        "teacher_accuracy_max": float(accuracies.max()),
        "teacher_confidence": float(teacher_proba.max(axis=2).mean()),
        "teacher_disagreement": float(np.mean(predictions.min(axis=1)
                                              != predictions.max(axis=1))),
    }
    if teacher_nbytes and student_nbytes:
        features["log_size_ratio"] = float(np.log10(teacher_nbytes / student_nbytes))
    return features
