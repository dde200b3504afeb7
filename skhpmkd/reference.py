"""A linear reference for the teachers: do they know more than a logistic regression?

A student distilled at the usual label weight (``alpha=0.5``) learns half from the
teachers' out-of-fold outputs. Where every teacher is less accurate out of fold than a
logistic regression on the same rows (survey and choice data, where the relation is
close to linear and the trees mostly add noise), the soft labels carry more of the
teachers' errors than of anything beyond the labels, and the student does better
leaning on the true labels. :func:`teacher_lift` measures the best teacher's
out-of-fold accuracy against a scaled logistic regression's on folds of the same
rows; :func:`has_weak_teachers` says whether it is below by at least
:data:`WEAK_TEACHER_MARGIN`, where the configuration manager gives the labels the
weight :data:`WEAK_TEACHER_ALPHA` (docs/benchmarks.md, "Weak teachers").
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .teachers import fit_and_predict, make_folds

#: The teachers are weak where the best one's out-of-fold accuracy is this far (or
#: further) below the linear reference's: one row in a hundred.
WEAK_TEACHER_MARGIN = 0.01

#: The weight of the true labels (``alpha``) with weak teachers.
WEAK_TEACHER_ALPHA = 0.9

#: Folds of the linear reference's out-of-fold predictions.
REFERENCE_FOLDS = 5


def linear_reference():
    """The reference model: standardised columns, multinomial logistic regression."""
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def teacher_lift(X, y, teacher_proba, seed, sample_weight=None):
    """The best teacher's out-of-fold accuracy minus the linear reference's.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The rows as the student takes them.
    y : ndarray of shape (n_samples,)
        Encoded labels ``0 .. n_classes - 1``.
    teacher_proba : ndarray of shape (n_samples, n_teachers, n_classes)
        The teachers' out-of-fold probabilities.
    seed : int
        Seed of the reference's stratified folds.
    sample_weight : ndarray of shape (n_samples,), optional
        Weights of the reference's fits and of both accuracies.

    Returns
    -------
    float
        In ``[-1, 1]``; negative where the linear reference is the more accurate;
        nan where a class has a single row (no out-of-fold predictions).
    """
    if np.bincount(y).min() < 2:  # the teachers' stage has warned of it
        return float("nan")
    predicted = np.empty_like(y)
    for train, test in make_folds(REFERENCE_FOLDS, y, seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            proba = fit_and_predict(linear_reference(), X, y, train, test,
                                    teacher_proba.shape[2], sample_weight)
        predicted[test] = proba.argmax(axis=1)
    teachers = np.average(teacher_proba.argmax(axis=2) == y[:, None], axis=0,
                          weights=sample_weight)
    return float(teachers.max() - np.average(predicted == y, weights=sample_weight))


def has_weak_teachers(lift):
    """Whether a :func:`teacher_lift` says the teachers are weak (nan: no)."""
    return bool(lift <= -WEAK_TEACHER_MARGIN + 1e-9)  # one row in 100 is a margin
