"""Repeated fits: a seeded fit's student kept in the optimization memory and restored
when the same fit runs again (a notebook cell run twice, a script rerun).

A fit is the same when the data (its fingerprint), the estimator's parameters (the
teachers and the student template included, hashed by joblib), the device, the
package versions and this package's code are, and its ``random_state`` is an int: a
fit seeded otherwise is not repeatable, and is never restored. The parameters that
only say where and how loudly a fit runs (:data:`NEUTRAL_PARAMS`) are left out. Only
students of the default module and loss are stored (:func:`is_restorable`).

Before a stored student is used, the teachers just fitted must give the outputs the
stored fit had (their log-loss on the labels, per teacher, to a relative 1e-4). A
teacher whose behaviour changed while its parameters did not (a teacher class of the
user's own, edited) therefore makes the fit train again. A restore fits the teachers
on all rows only and compares their outputs on a fixed sample of the rows and on
rows mixed from them (:func:`fitted_signature`); the teacher weighting comes back
from the memory, so no out-of-fold outputs are needed (with a ``teacher_cache``,
whose cached stage holds them, the out-of-fold signature is compared instead).

The stored student is JSON (weights as base64 text of their bytes, see
:func:`skhpmkd.memory.encode_arrays`), never a pickle.
"""

import functools
import hashlib
from numbers import Integral
from pathlib import Path

import joblib
import numpy as np

from .losses import DistillationLoss
from .memory import decode_arrays, encode_arrays, package_versions
from .student import has_default_module, student_snapshot
from .teachers import predict_teacher_proba

#: Parameters that do not change what a fit learns: where it runs in parallel, what it
#: prints, and the caches themselves.
NEUTRAL_PARAMS = ("memory", "teacher_cache", "n_jobs", "verbose")

#: Relative tolerance of the teachers' out-of-fold log-loss between a stored fit and
#: this one (thread counts move the last digits of tree ensembles' outputs).
SIGNATURE_RTOL = 1e-4


def is_restorable(student):
    """Whether a student template is built from this package's code only: the default
    MLP module and :class:`~skhpmkd.losses.DistillationLoss`. A module or loss class of
    the user's own is known by its name, not its code, so an edited one would restore
    a stale student; such fits always train."""
    return has_default_module(student) and student.criterion is DistillationLoss


def fit_key(params, fingerprint, device):
    """The key of a fit's student, or None when the fit is not repeatable.

    Parameters
    ----------
    params : dict
        The estimator's ``get_params(deep=False)``.
    fingerprint : str
        The data's :func:`skhpmkd.memory.data_fingerprint`.
    device : str
        The resolved torch device.

    Returns
    -------
    str or None
        None when ``random_state`` is not an int, or a parameter cannot be hashed.
    """
    seed = params.get("random_state")
    if not isinstance(seed, Integral) or isinstance(seed, bool):
        return None
    relevant = {name: value for name, value in params.items()
                if name not in NEUTRAL_PARAMS}
    try:
        return joblib.hash(["skhpmkd-student-v1", fingerprint, relevant, str(device),
                            package_versions(), code_digest()])
    except Exception:  # a parameter that cannot be pickled for hashing
        return None


@functools.cache
def code_digest():
    """SHA-256 of this package's source files and shipped data (the prior): a source
    checkout's version number does not change when they do, so they are part of a
    fit's key."""
    return package_digest(Path(__file__).parent)


def package_digest(package):
    """SHA-256 of the ``*.py`` files and ``data/*.json`` files of a package directory
    (their names and bytes)."""
    digest = hashlib.sha256()
    for path in sorted([*package.glob("*.py"), *package.glob("data/*.json")]):
        relative = path.relative_to(package).as_posix()
        digest.update(relative.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def teacher_signature(proba, y):
    """Per teacher, the mean log-loss of its out-of-fold probabilities on the labels.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_teachers, n_classes)
    y : ndarray of shape (n_samples,)
        Encoded labels.

    Returns
    -------
    list of float
    """
    picked = proba[np.arange(len(y)), :, y]
    return (-np.log(np.clip(picked, 1e-12, None))).mean(axis=0).tolist()


#: Most rows :func:`fitted_signature` predicts.
SIGNATURE_ROWS = 5000


def fitted_signature(teachers, X, y, class_codes, n_classes, max_rows=SIGNATURE_ROWS):
    """:func:`teacher_signature` of the fitted ``teachers``' own outputs on at most
    ``max_rows`` evenly spaced rows of ``X`` (the same rows for the same data), then
    on as many rows mixed from them (every other column from the rows in reverse
    order), judged by the first rows' labels: a teacher that recalls its training
    rows (a nearest neighbour, a deep tree) gives the same outputs on them whatever
    its code does, but not off them. Mixed rows hold only values their columns
    have; where a teacher cannot predict them, the signature is the rows' alone."""
    rows = np.unique(np.linspace(0, len(X) - 1, min(len(X), max_rows)).astype(int))
    signature = teacher_signature(
        predict_teacher_proba(teachers, X[rows], class_codes, n_classes), y[rows])
    mixed = np.where(np.arange(X.shape[1]) % 2 == 1, X[rows[::-1]], X[rows])
    try:
        mixed_proba = predict_teacher_proba(teachers, mixed, class_codes, n_classes)
    except Exception:  # a teacher that validates combinations of values
        return signature
    return signature + teacher_signature(mixed_proba, y[rows])


def signatures_match(stored, signature):
    """Whether a stored signature matches ``signature`` (to :data:`SIGNATURE_RTOL`);
    False for one that is not a list of numbers."""
    try:
        stored = np.asarray(stored, dtype=float)
    except (TypeError, ValueError):
        return False
    return stored.shape == (len(signature),) and bool(np.allclose(
        stored, signature, rtol=SIGNATURE_RTOL, atol=0.0))


def store_fit(memory, key, signature, student, attributes, run_id=None):
    """Store a fitted student and the fitted attributes that go with it.

    Never fails the fit: a student that cannot be stored as data (a module of the
    user's own with parameters that are not numbers, arrays or text) is skipped.

    Returns
    -------
    bool
        Whether it was stored.
    """
    try:
        payload = dict(encode_arrays(attributes), teacher_signature=signature,
                       student=encode_arrays(student_snapshot(student)))
        return bool(memory.store_student(key, payload, run_id=run_id))
    except (TypeError, ValueError):
        return False


def load_fit(memory, key, signature=None):
    """The fit stored under ``key``; with ``signature``, only if its teachers'
    out-of-fold signature matches it (:func:`teacher_signature`; the restore
    without folds checks ``fitted_signature`` itself, once it has fitted them).

    Returns
    -------
    dict or None
        The stored attributes, ``student`` (a snapshot for
        :func:`skhpmkd.student.restore_student`), ``teacher_weighting`` (a snapshot
        for :func:`skhpmkd.ensemble.restore_weighting`, where stored) and
        ``run_id``; None when nothing usable is stored.
    """
    stored = memory.stored_student(key)
    if stored is None:
        return None
    payload = stored["payload"]
    try:
        if signature is not None and not signatures_match(
                payload["teacher_signature"], signature):
            return None
        return dict(payload, student=decode_arrays(payload["student"]),
                    teacher_weighting=decode_arrays(payload.get("teacher_weighting")),
                    run_id=stored["run_id"])
    except (KeyError, TypeError, ValueError):
        return None
