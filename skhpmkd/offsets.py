"""Column offsets that keep the student's float32 input as fine as the data.

The student computes in float32, which keeps about seven significant digits. A column
whose spread is small beside its magnitude (a Unix time in seconds over a day, an
amount near 1e10 that varies by units) loses its levels in the cast, while the
teachers were fitted on float64. :func:`column_offsets` finds those columns and a
float64 offset for each (its median); :func:`student_input` subtracts the offsets
before the cast, at fit and at prediction alike, so the student sees the column's
differences at float32's resolution near 0. Columns the cast keeps within tolerance
get no offset, and where none needs one nothing changes. :func:`column_std` gives the
float32 input's standard deviations where float32's own squares would overflow or
underflow (columns in units of 1e30 or 1e-30).
"""

import numpy as np

#: A column gets an offset where the float32 cast moves one of its values by more
#: than this share of its standard deviation (about 1,000 levels per standard
#: deviation). The real benchmark datasets' columns move by at most 2e-5 of theirs.
CAST_TOLERANCE = 1e-3


def column_offsets(X):
    """Float64 offsets that :func:`student_input` subtracts before the float32 cast.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Finite rows, float64 or float32.

    Returns
    -------
    ndarray of shape (n_features,) or None
        A column's median where the float32 cast moves a value by more than
        :data:`CAST_TOLERANCE` of its standard deviation, else 0; None where no
        column does (float32 ``X``, constant columns and ordinary data).
    """
    if X.dtype == np.float32:
        return None
    offsets = np.zeros(X.shape[1])
    for j, column in enumerate(X.T):  # one column at a time: no copy of all of X
        cast_error = np.abs(column - column.astype(np.float32)).max(initial=0.0)
        spread = column.std()
        if spread > 0 and cast_error > CAST_TOLERANCE * spread:
            offsets[j] = np.median(column)
    return offsets if offsets.any() else None


def student_input(X, offsets):
    """``X`` as the student takes it: a float32 copy, less the float64 ``offsets``
    (from :func:`column_offsets`; None: none)."""
    if offsets is None:
        return X.astype(np.float32)
    return (X.astype(np.float64) - offsets).astype(np.float32)


def column_std(X):
    """Per-column standard deviation of ``X`` in ``X``'s dtype, the columns whose
    squared deviations leave that dtype's range (float32 spreads beyond about 1.8e19
    or below 1e-19) computed in float64: ``X.std`` alone gives them inf or 0."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        scale = X.std(axis=0)
    outside = ~np.isfinite(scale) | (scale < np.sqrt(np.finfo(scale.dtype).tiny))
    if outside.any():
        scale[outside] = X[:, outside].std(axis=0, dtype=np.float64)
    return scale


def teacher_input(X_student, offsets):
    """Rows made in the student's input space (synthetic rows) as the teachers take
    them: the ``offsets`` added back in float64 (None: ``X_student`` itself)."""
    if offsets is None:
        return X_student
    return X_student.astype(np.float64) + offsets
