"""Optional comparison: DeepBridge's HPM-KD on one train/test split.

DeepBridge publishes an "HPM-KD" in the PyPI package ``deepbridge-distillation``
(which installs the ``deepbridge`` core package). This module runs it the way its
documentation shows (the ``HPMKD`` wrapper in
``deepbridge_distillation/hpmkd_wrapper.py``, "Listing 1" of its paper) so that the
benchmark can report its accuracy next to ours, or the error it raises. It is
optional: nothing here imports DeepBridge unless it is installed and
:func:`run_deepbridge_hpmkd` is called, and the result is always a dictionary,
never an exception.

How it is called (version 2.0.0)::

    hpmkd = HPMKD(teacher_model=teacher, train_loader=(X_train, y_train),
                  auto_config=True, random_state=seed)
    hpmkd.distill()                        # default epochs=150
    proba = hpmkd.predict_proba(X_test)

Choices made beyond DeepBridge's documentation:

* ``HPMKD`` requires a pre-trained ``teacher_model``. A scikit-learn
  ``RandomForestClassifier(random_state=seed)`` is fitted on the training rows for
  it, outside the timed region. In version 2.0.0 ``HPMKD.distill`` never passes the
  teacher's probabilities to its distiller (it only scores the teacher on
  ``test_loader``), so the teacher does not influence the result.
* ``test_loader`` is not passed (it is optional and only used to score models), so
  no test labels reach DeepBridge; test probabilities come from
  ``hpmkd.predict_proba(X_test)``.
* ``random_state=seed`` is forwarded to DeepBridge's ``HPMConfig``; everything else
  keeps DeepBridge's defaults. DeepBridge seeds NumPy's global random generator, so
  the global state is saved and restored around each call.
* DeepBridge's prints, log records and warnings are silenced during each call.

Install it in the benchmark's environment with
``pip install deepbridge-distillation==2.0.0`` (install the CPU build of torch first
on machines without a GPU). ``deepbridge`` 2.0.0 pins ``numpy<2.1`` and
``pandas<=2.2.2``, so pip downgrades those if newer ones are installed; a separate
virtual environment keeps the main one untouched.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import time
import warnings

import numpy as np

__all__ = ["deepbridge_available", "run_deepbridge_hpmkd"]

_MODULES = ("deepbridge_distillation", "deepbridge")
_DISTRIBUTION = "deepbridge-distillation"
_MAX_ERROR_CHARS = 300


def deepbridge_available() -> bool:
    """Whether DeepBridge's distillation package can be imported.

    Only looks the modules up with :func:`importlib.util.find_spec`; nothing is
    imported.

    Returns
    -------
    bool
        True when both ``deepbridge_distillation`` and ``deepbridge`` are installed.
    """
    for name in _MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                return False
        except (ImportError, ValueError):
            return False
    return True


def run_deepbridge_hpmkd(X_train, y_train, X_test, y_test, *, seed: int) -> dict:
    """Fit DeepBridge's HPM-KD on one split and predict the test rows.

    Parameters
    ----------
    X_train, X_test : ndarray of shape (n_samples, n_features)
        Dense, already preprocessed float features.
    y_train, y_test : ndarray of shape (n_samples,)
        Integer class labels in ``0 .. n_classes - 1``. ``y_test`` only fixes the
        number of classes; it is never shown to DeepBridge.
    seed : int
        Seed for the teacher and for DeepBridge's ``HPMConfig.random_state``.

    Returns
    -------
    dict
        ``proba``: ndarray of shape (n_test, n_classes), float64 rows summing to 1,
        or None when DeepBridge is missing or failed.
        ``predict_proba``: callable mapping features to such an array (for latency
        timing), or None.
        ``fit_seconds``: wall time of building ``HPMKD`` and ``distill()``, or None
        when that did not complete.
        ``error``: None, or one line ``"ExceptionType: message [during stage]"``
        (stage ``import``, ``teacher``, ``fit`` or ``predict``), at most 300
        characters.
        ``note``: what was run (DeepBridge class and version, which model it chose),
        or ``"deepbridge-distillation not installed"``.

    Notes
    -----
    Never raises for DeepBridge's failures: every exception becomes ``error``.
    """
    result = {"proba": None, "predict_proba": None, "fit_seconds": None,
              "error": None, "note": f"{_DISTRIBUTION} not installed"}
    if not deepbridge_available():
        return result

    X_train = np.asarray(X_train, dtype=np.float64)
    X_test = np.asarray(X_test, dtype=np.float64)
    y_train = np.asarray(y_train).astype(np.int64)
    y_test = np.asarray(y_test).astype(np.int64)
    n_classes = int(max(y_train.max(), y_test.max())) + 1

    try:
        with _quiet():  # importing deepbridge prints a warning and creates loggers
            from deepbridge_distillation import HPMKD, __version__
    except Exception as exc:
        result["error"] = _one_line(exc, "import")
        return result
    result["note"] = (f"{_DISTRIBUTION} {__version__} HPMKD(auto_config=True), "
                      "teacher RandomForestClassifier")

    with _quiet(), _global_rng_restored():
        stage = "teacher"
        try:
            from sklearn.ensemble import RandomForestClassifier
            teacher = RandomForestClassifier(random_state=seed).fit(X_train, y_train)

            stage = "fit"
            start = time.perf_counter()
            hpmkd = HPMKD(teacher_model=teacher, train_loader=(X_train, y_train),
                          auto_config=True, random_state=seed)
            hpmkd.distill()
            result["fit_seconds"] = time.perf_counter() - start
            result["note"] += _chosen_model(hpmkd)

            stage = "predict"
            classes = _classes_of(hpmkd)

            def predict_proba(X):
                """DeepBridge's student probabilities as (n, n_classes) float64."""
                with _quiet():
                    raw = hpmkd.predict_proba(np.asarray(X, dtype=np.float64))
                return _as_proba(raw, len(X), classes, n_classes)

            proba = predict_proba(X_test)
            # A model whose output ignores its input (DeepBridge's multi-teacher
            # ensemble replays cached validation predictions) fails this shape check.
            if not np.allclose(predict_proba(X_test[:1]), proba[:1]):
                raise ValueError("predict_proba of one row differs from the same row "
                                 "predicted in the full test batch")
            result["proba"] = proba
            result["predict_proba"] = predict_proba
        except Exception as exc:  # any DeepBridge failure is reported, not raised
            result["error"] = _one_line(exc, stage)
    return result


def _as_proba(raw, n_rows, classes, n_classes):
    """Check DeepBridge's probabilities and return them as float64 (n_rows, n_classes).

    Columns follow ``classes`` (the chosen model's ``classes_``) when it is known,
    otherwise they are taken as labels ``0 .. k - 1``.
    """
    proba = np.asarray(raw, dtype=np.float64)
    if proba.ndim == 1:
        proba = np.column_stack([1.0 - proba, proba])
    if proba.ndim != 2 or proba.shape[0] != n_rows:
        raise ValueError(f"predict_proba returned shape {proba.shape} for {n_rows} "
                         f"rows; expected ({n_rows}, {n_classes})")
    if classes is None or len(classes) != proba.shape[1]:
        classes = np.arange(proba.shape[1])
    if proba.shape[1] > n_classes or np.any((classes < 0) | (classes >= n_classes)):
        raise ValueError(f"predict_proba returned {proba.shape[1]} columns for "
                         f"{n_classes} classes")
    full = np.zeros((n_rows, n_classes))
    full[:, classes] = proba
    sums = full.sum(axis=1, keepdims=True)
    if not np.all(np.isfinite(full)) or np.any(full < 0) or np.any(sums <= 0):
        raise ValueError("predict_proba returned non-finite, negative or all-zero rows")
    return full / sums


def _classes_of(hpmkd):
    """Integer ``classes_`` of the model DeepBridge chose, or None if unknown."""
    model = getattr(getattr(hpmkd, "_distiller", None), "best_model", None)
    classes = getattr(model, "classes_", None)
    if classes is None:
        return None
    try:
        return np.asarray(classes).astype(np.int64)
    except (TypeError, ValueError):
        return None


def _chosen_model(hpmkd):
    """Text for the note: which model DeepBridge selected and from which phase."""
    distiller = getattr(hpmkd, "_distiller", None)
    model = getattr(distiller, "best_model", None)
    metrics = getattr(distiller, "best_metrics", None) or {}
    if model is None:
        return ""
    source = metrics.get("source")
    score = metrics.get("accuracy", float("nan"))
    kind = ("fixed placeholder score" if source in ("chain", "ensemble")
            else "validation accuracy")
    return (f"; chose {type(model).__name__} from phase '{source}' "
            f"({kind} {score:.3f})")


def _one_line(exc, stage):
    """``"Type: message [during stage]"`` on one line, at most 300 characters."""
    suffix = f" [during {stage}]"
    text = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    limit = _MAX_ERROR_CHARS - len(suffix)
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return text + suffix


@contextlib.contextmanager
def _quiet():
    """Silence DeepBridge: stdout/stderr, warnings, and its loggers."""
    loggers = [logging.getLogger(name) for name in _MODULES]
    saved_levels = [lg.level for lg in loggers]
    children = [lg for name, lg in logging.Logger.manager.loggerDict.items()
                if isinstance(lg, logging.Logger) and name.split(".")[0] in _MODULES]
    saved_disabled = [lg.disabled for lg in children]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    for lg in children:
        lg.disabled = True
    sink = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(sink), \
                contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, saved_levels):
            lg.setLevel(level)
        for lg, disabled in zip(children, saved_disabled):
            lg.disabled = disabled


@contextlib.contextmanager
def _global_rng_restored():
    """Restore NumPy's global random state (DeepBridge calls ``np.random.seed``)."""
    state = np.random.get_state()
    try:
        yield
    finally:
        np.random.set_state(state)
