"""The teacher cache: the teacher stage (:func:`~skhpmkd.teachers.fit_teachers`) kept
in a ``joblib.Memory``, so that fits on the same data and teachers (a ``GridSearchCV``
over student parameters) fit the teachers once.

joblib keys a call on its arguments and knows the functions and classes in them (a
teacher class, or a ``FunctionTransformer``'s function, of the user's own) by name
only, so an edited one would find the old entry. Each entry therefore also holds the
fitted teachers' :func:`~skhpmkd.reuse.fitted_signature`: on a hit the loaded
teachers, which run the code as it is now, must give it again, or the stage is fitted
anew and the entry replaced. This package's code is part of the key
(:func:`~skhpmkd.reuse.code_digest`). Arguments joblib cannot hash (a lambda in a
teacher, a generator of folds) fit without the cache, with a warning.
"""

import os
import warnings

import joblib
from sklearn.utils.validation import check_memory

from .reuse import code_digest, fitted_signature, signatures_match
from .teachers import fit_teachers

#: Arguments that do not change what the teacher stage returns.
IGNORED_ARGUMENTS = ["n_jobs", "past_seconds"]


def cached_teacher_stage(cache):
    """:func:`~skhpmkd.teachers.fit_teachers` through the teacher cache.

    Parameters
    ----------
    cache : str, path or joblib.Memory
        The cache's directory, or a ``joblib.Memory``.

    Returns
    -------
    callable
        Takes and returns what ``fit_teachers`` does.
    """
    memory = check_memory(os.fspath(cache) if isinstance(cache, os.PathLike) else cache)
    stage = memory.cache(_signed_stage, ignore=IGNORED_ARGUMENTS)

    def cached(teachers, X, y, **kwargs):
        try:
            joblib.hash([teachers, kwargs.get("teacher_cv")])
        except Exception as exc:  # what pickle cannot take, joblib cannot hash
            warnings.warn(f"teacher_cache cannot key these teachers or teacher_cv "
                          f"({type(exc).__name__}: {exc}); fitting the teachers "
                          "without it.", UserWarning, stacklevel=4)
            return fit_teachers(teachers, X, y, **kwargs)
        arguments = dict(kwargs, code=code_digest())
        *outputs, signature = stage(teachers, X, y, **arguments)
        n_classes = len(kwargs["label_encoder"].classes_)
        if not signatures_match(signature, _signature(outputs, X, y, n_classes)):
            warnings.warn("teacher_cache: the cached teachers predict otherwise now (a "
                          "teacher class or function of your own edited?); fitting "
                          "them again and replacing the entry.", UserWarning,
                          stacklevel=4)
            (*outputs, _), _ = stage.call(teachers, X, y, **arguments)
        return tuple(outputs)

    return cached


def _signed_stage(teachers, X, y, *, label_encoder, teacher_cv, seeds, n_jobs=None,
                  past_seconds=None, held_out=None, feature_names=None,
                  sample_weight=None, code=None):
    """``fit_teachers``' outputs, then the fitted teachers' signature. ``code``: this
    package's digest, part of the cache's key only."""
    outputs = fit_teachers(teachers, X, y, label_encoder=label_encoder,
                           teacher_cv=teacher_cv, seeds=seeds, n_jobs=n_jobs,
                           past_seconds=past_seconds, held_out=held_out,
                           feature_names=feature_names, sample_weight=sample_weight)
    return (*outputs, _signature(outputs, X, y, len(label_encoder.classes_)))


def _signature(outputs, X, y, n_classes):
    """:func:`fitted_signature` of the fitted teachers in ``fit_teachers``' outputs."""
    fitted, _, class_codes, _ = outputs
    return fitted_signature(fitted, X, y, class_codes, n_classes)
