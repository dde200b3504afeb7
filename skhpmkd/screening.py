"""Screening the student's columns: the teachers take every column, the student the
ones they rank highest.

On data with many columns and few rows a small network finds little among thousands
of columns where tree teachers find much: the student on the 100 columns its teachers
rank highest gained 8.9 pp on twelve wide tasks and 6.4 pp on six more, one of each
lower (docs/benchmarks.md, screen67). :func:`column_ranking` ranks the columns
by the fitted teachers' importances, :func:`keep_count` decides how many the student
keeps, :func:`top_columns` which, and :func:`take_columns` takes them from rows or
per-column values.
"""

from numbers import Integral

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier

#: ``student_features="auto"`` keeps this many columns (screen66: of 30, 100 and 300
#: kept, 100 gained most on average over eleven wide tasks and was never below every
#: column; count68: choosing among 30, 100, 300 and every column on the validation
#: rows did worse, -0.66 pp over twelve).
SCREEN_COLUMNS = 100

#: ``student_features="auto"`` screens only where X has fewer rows per column than
#: this: screening was measured on 0.04 to 33 rows per column (car_choice's 3,490 x
#: 105 the most), not on data with more rows per column (adult's 349).
SCREEN_MAX_ROWS_PER_COLUMN = 40


def keep_count(n_features, n_rows, student_features):
    """How many of the columns the student takes.

    Parameters
    ----------
    n_features : int
        Columns of X.
    n_rows : int
        Rows of the fit.
    student_features : "auto", "all" or int >= 1
        "all": every column. An int: that many columns, where there are more. "auto":
        :data:`SCREEN_COLUMNS` where there are more and fewer than
        :data:`SCREEN_MAX_ROWS_PER_COLUMN` rows per column.

    Returns
    -------
    int or None
        None where the student takes every column.
    """
    if isinstance(student_features, str):
        if student_features == "all":
            return None
        if student_features == "auto":
            wide = n_rows < SCREEN_MAX_ROWS_PER_COLUMN * n_features
            return SCREEN_COLUMNS if wide and n_features > SCREEN_COLUMNS else None
    elif isinstance(student_features, Integral) and not isinstance(
            student_features, bool) and student_features >= 1:
        return int(student_features) if n_features > student_features else None
    raise ValueError(f"student_features must be 'auto', 'all' or an int >= 1; got "
                     f"{student_features!r}.")


def top_columns(importances, n_kept):
    """Indices of the ``n_kept`` columns of highest ``importances``, ascending (ties
    go to the earlier column)."""
    ranked = np.argsort(-np.asarray(importances, dtype=float), kind="stable")
    return np.sort(ranked[:n_kept])


def column_ranking(teachers, X, y, sample_weight=None, random_state=None):
    """Importance of each column to the fitted ``teachers``.

    The mean over the teachers that expose ``feature_importances_`` (trees, forests,
    XGBoost) of their importances, each scaled to sum to 1. Where none does, an
    ``ExtraTreesClassifier`` of 100 trees fitted on ``X`` and ``y`` ranks the
    columns.

    Parameters
    ----------
    teachers : list of fitted estimators
    X : ndarray of shape (n_samples, n_features)
        The rows the teachers were fitted on.
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,) or None
    random_state : int or None
        Seeds the extra trees, where they are needed.

    Returns
    -------
    ndarray of shape (n_features,)
        Non-negative, summing to 1 (or all 0 where no column matters to any).
    """
    n_features = X.shape[1]
    scaled = [_scaled(teacher.feature_importances_) for teacher in teachers
              if np.shape(getattr(teacher, "feature_importances_", None))
              == (n_features,)]
    if not scaled:
        trees = ExtraTreesClassifier(n_estimators=100, random_state=random_state)
        scaled = [_scaled(trees.fit(X, y, sample_weight=sample_weight)
                          .feature_importances_)]
    return np.mean(scaled, axis=0)


def _scaled(importances):
    """``importances`` as non-negative shares summing to 1 (zeros stay zeros)."""
    importances = np.nan_to_num(np.abs(np.asarray(importances, dtype=float)))
    total = importances.sum()
    return importances / total if total > 0 else importances


def take_columns(values, columns):
    """The ``columns`` of rows (2-d) or of per-column values (1-d); ``values`` as
    they are where either is None."""
    if values is None or columns is None:
        return values
    return np.take(values, columns, axis=-1)
