"""Teachers: defaults, validation, prefit teachers, out-of-fold soft labels,
proba -> logit.

Soft labels for the training rows come from models that did not see those rows
(``teacher_cv`` folds) by default, as the design asks: tree ensembles are near-certain
on their own training rows. ``teacher_cv="in_sample"`` takes the probabilities of the
teachers fitted on all rows instead (no fold fits); measured against out-of-fold labels
in docs/benchmarks.md ("Ten seeds on the small datasets, and in-sample soft labels").
"""

import inspect
import warnings

import numpy as np
from sklearn import config_context
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import StratifiedKFold, StratifiedShuffleSplit, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from .parallel import Task, estimate_fit_cost, known_costs, run_tasks, threads_per_task
from .progress import expect

#: Probabilities are clipped to [PROBA_EPS, 1] before the log, so logits stay finite.
PROBA_EPS = 1e-6
#: How far a teacher's probabilities may stray from a distribution (float rounding).
PROBA_TOLERANCE = 1e-3


def default_teachers():
    """The default teacher ensemble: XGBoost, HistGradientBoosting, RandomForest.

    All three use every core when fitted alone, like XGBoost and HistGradientBoosting
    do by default (the forest gets ``n_jobs=-1``); inside parallel workers the pipeline
    caps them to the worker's share.

    Returns
    -------
    list of (str, estimator)
        Named ``"xgb"``, ``"hgb"`` and ``"rf"``, unfitted.
    """
    from xgboost import XGBClassifier

    return [
        ("xgb", XGBClassifier(n_estimators=200, learning_rate=0.1, max_depth=6,
                              tree_method="hist")),
        ("hgb", HistGradientBoostingClassifier()),
        ("rf", RandomForestClassifier(n_estimators=200, n_jobs=-1)),
    ]


DEFAULT_TEACHER_NAMES = ("xgb", "hgb", "rf")


def validate_teachers(teachers, reserved=()):
    """Check names and methods of ``[(name, estimator), ...]`` before any fitting;
    ``reserved``: names a teacher may not take (the estimator's own parameters, which
    ``set_params`` would otherwise route to the teacher)."""
    if not isinstance(teachers, list) or not teachers:
        raise ValueError("teachers must be a non-empty list of (name, estimator) pairs; "
                         f"got {teachers!r}.")
    for item in teachers:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise ValueError("each teacher must be a (name, estimator) tuple; "
                             f"got {item!r}.")
        if "__" in item[0] or not item[0]:
            raise ValueError(f"teacher name {item[0]!r} must be non-empty and contain "
                             "no '__'.")
    names = [name for name, _ in teachers]
    if len(set(names)) != len(names):
        raise ValueError(f"teacher names must be unique; got {names}.")
    clashes = sorted(set(names) & set(reserved))
    if clashes:
        raise ValueError(f"teacher names {clashes} are also parameters of the "
                         "estimator, so set_params could not tell them apart; rename "
                         "these teachers.")
    for name, estimator in teachers:
        if isinstance(estimator, type):
            raise TypeError(f"teacher {name!r} is the class {estimator.__name__}, not "
                            f"an instance of it; write {estimator.__name__}().")
        if not (hasattr(estimator, "fit") and hasattr(estimator, "predict_proba")):
            raise TypeError(f"teacher {name!r} ({type(estimator).__name__}) has no "
                            "fit/predict_proba; teachers must be probabilistic "
                            f"classifiers.{_unavailable_hint(estimator)}")


def _unavailable_hint(estimator):
    """Why an estimator whose class defines ``predict_proba`` lacks it (scikit-learn
    offers it only for some parameters), or ""."""
    if not hasattr(type(estimator), "predict_proba"):
        return ""
    return (f" {type(estimator).__name__} offers predict_proba only with some "
            "parameters (e.g. VotingClassifier with voting='soft', StackingClassifier "
            "with a final_estimator that has predict_proba, such as "
            "LogisticRegression()).")


def is_frozen(estimator):
    """True for sklearn's FrozenEstimator, whose fit does nothing."""
    return isinstance(estimator, FrozenEstimator)


def all_frozen(teachers):
    """Whether every ``(name, estimator)`` teacher is frozen: none is fitted here."""
    return all(is_frozen(estimator) for _, estimator in teachers)


def is_fitted(estimator):
    """Whether scikit-learn's ``check_is_fitted`` finds ``estimator`` fitted (False
    also where a third-party type's check raises its own error)."""
    try:
        check_is_fitted(estimator)
    except Exception:  # NotFittedError, or a third-party type's own error
        return False
    return True


def check_prefit_teacher(name, estimator, classes, n_features, feature_names=None):
    """A prefit teacher must be fitted, know exactly ``classes`` and take
    ``n_features``, with the column names ``feature_names`` of X if it was fitted on
    named columns (it is warned of, and takes X's columns in its order, when X has
    none)."""
    if not is_fitted(estimator):
        raise ValueError(f"teacher {name!r} is not fitted, but teacher_cv='prefit' (or "
                         "FrozenEstimator) needs a fitted teacher.")
    teacher_classes = getattr(estimator, "classes_", None)
    if teacher_classes is None or set(np.asarray(teacher_classes).tolist()) != set(
            np.asarray(classes).tolist()):
        raise ValueError(f"teacher {name!r} was fitted on classes {teacher_classes!r}, "
                         f"but y has classes {list(classes)}; all teachers must agree "
                         "with y on the classes.")
    teacher_n_features = getattr(estimator, "n_features_in_", n_features)
    if teacher_n_features != n_features:
        raise ValueError(f"teacher {name!r} was fitted on {teacher_n_features} features, "
                         f"X has {n_features}.")
    teacher_names = getattr(estimator, "feature_names_in_", None)
    if teacher_names is None:
        return
    if feature_names is None:
        warnings.warn(f"teacher {name!r} was fitted on named columns "
                      f"({_listed(teacher_names)}) but X has no column names; it takes "
                      "X's columns in that order.", UserWarning)
    elif list(teacher_names) != list(feature_names):
        raise ValueError(f"teacher {name!r} was fitted on the columns "
                         f"{_listed(teacher_names)}, X has {_listed(feature_names)}; "
                         "give X the teacher's columns, in its order.")


def _listed(names, most=8):
    """Up to ``most`` names, then how many more."""
    names = [str(name) for name in names]
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return f"{names[:most]}{more}"


def with_column_names(X, estimator):
    """``X`` as the fitted ``estimator`` takes it: a pandas DataFrame with the columns
    it was fitted on (``feature_names_in_``: a teacher fitted on a DataFrame, which may
    select columns by name), else ``X`` itself."""
    return named_frame(X, getattr(estimator, "feature_names_in_", None))


def named_frame(X, names):
    """The array ``X`` as a pandas DataFrame with the columns ``names`` (None: ``X``
    itself)."""
    if names is None or not isinstance(X, np.ndarray) or X.shape[1] != len(names):
        return X
    try:
        import pandas as pd
    except ImportError:  # named by another frame library: positional
        return X
    return pd.DataFrame(X, columns=list(names), copy=False)


def proba_to_logits(proba):
    """Log-probabilities, clipped so no class is -inf, centred per row (float32)."""
    logits = np.log(np.clip(proba, PROBA_EPS, 1.0))
    return (logits - logits.mean(axis=-1, keepdims=True)).astype(np.float32)


def _aligned_proba(estimator, X, class_codes, n_classes):
    """predict_proba with columns placed at the encoded class positions; a ValueError
    where its rows are not probability distributions."""
    given = np.asarray(estimator.predict_proba(with_column_names(X, estimator)),
                       dtype=float)
    sums = given.sum(axis=1)
    if given.size and not (np.isfinite(given).all()
                           and given.min() >= -PROBA_TOLERANCE
                           and np.abs(sums - 1).max() <= PROBA_TOLERANCE):
        raise ValueError(
            f"teacher {type(estimator).__name__}'s predict_proba gives rows that are "
            f"not probabilities (values from {given.min():.3g} to {given.max():.3g}, "
            f"row sums from {sums.min():.3g} to {sums.max():.3g}); each row must be "
            "non-negative and sum to 1.")
    proba = np.zeros((len(X), n_classes))
    proba[:, class_codes] = given
    return proba


def predict_teacher_proba(teachers, X, class_codes, n_classes):
    """Fitted teachers' probabilities, shape (n_samples, n_teachers, n_classes).

    ``class_codes[k]`` are the encoded positions of teacher ``k``'s classes, as returned
    by :func:`fit_teachers`.
    """
    return np.stack([_aligned_proba(teacher, X, codes, n_classes)
                     for teacher, codes in zip(teachers, class_codes)], axis=1)


def _class_codes(estimator, label_encoder, prefit):
    """Positions of the estimator's classes in the encoded label space.

    Teachers fitted here learned the encoded labels; prefit ones know the user's labels.
    """
    classes = np.asarray(estimator.classes_)
    if prefit:
        return label_encoder.transform(classes)
    return classes.astype(int)


def sample_weight_param(estimator):
    """The keyword of ``estimator.fit`` that takes sample weights: ``"sample_weight"``,
    ``"<last step>__sample_weight"`` for a Pipeline whose last step takes them (any
    depth), the inner estimator's keyword for a meta-estimator that hands its fit
    parameters on (``GridSearchCV``), or None where it takes none."""
    if isinstance(estimator, Pipeline):
        name, last = estimator.steps[-1]
        inner = (sample_weight_param(last)
                 if last is not None and last != "passthrough" else None)
        return None if inner is None else f"{name}__{inner}"
    if has_fit_parameter(estimator, "sample_weight"):
        return "sample_weight"
    inner = getattr(estimator, "estimator", None)
    if inner is not None and hasattr(inner, "fit") and _takes_any_keyword(estimator.fit):
        return sample_weight_param(inner)
    return None


def _takes_any_keyword(method):
    """Whether ``method`` has a ``**kwargs`` parameter."""
    return any(parameter.kind is inspect.Parameter.VAR_KEYWORD
               for parameter in inspect.signature(method).parameters.values())


def check_sample_weight_support(teachers, prefit):
    """Every teacher fitted here takes sample weights in ``fit`` (``prefit``: one
    bool per teacher); raises ValueError naming the first that does not."""
    for (name, estimator), is_prefit in zip(teachers, prefit):
        if not is_prefit and sample_weight_param(estimator) is None:
            raise ValueError(f"teacher {name!r} ({type(estimator).__name__}) does not "
                             "take sample_weight in fit, so it cannot be fitted with "
                             "the sample weights given; use a teacher that does, or "
                             "fit it yourself and pass it prefit.")


def _fit(estimator, X, y, sample_weight=None, feature_names=None):
    """``estimator.fit(X, y)``, with ``sample_weight`` (if given) where it takes it:
    a Pipeline's last step, also where the user enabled scikit-learn's metadata
    routing (which would otherwise want every step's request set). With
    ``feature_names`` (the user's X had named columns), X is a DataFrame of them, so
    a teacher may select columns by name."""
    X = named_frame(X, feature_names)
    if sample_weight is None:
        return estimator.fit(X, y)
    with config_context(enable_metadata_routing=False):
        return estimator.fit(X, y, **{sample_weight_param(estimator): sample_weight})


def fit_and_predict(estimator, X, y, train, test, n_classes, sample_weight=None,
                    feature_names=None):
    """Fit ``estimator`` on the ``train`` rows (weighted as :func:`_fit` does) and
    return its probabilities of the ``test`` rows over ``n_classes`` columns."""
    _fit(estimator, X[train], y[train],
         None if sample_weight is None else sample_weight[train], feature_names)
    codes = _class_codes(estimator, None, prefit=False)
    return _aligned_proba(estimator, X[test], codes, n_classes)


def _prepare_clone(estimator, seed, n_threads):
    """Clone, seed unset ``random_state`` params, cap ``n_jobs`` when tasks share
    cores."""
    estimator = clone(estimator)
    if not hasattr(estimator, "get_params"):
        return estimator
    updates = {key: seed for key, value in estimator.get_params(deep=True).items()
               if key.endswith("random_state") and value is None}
    if n_threads is not None:
        updates.update(dict.fromkeys(_n_jobs_params(estimator), n_threads))
    return estimator.set_params(**updates) if updates else estimator


def _n_jobs_params(estimator):
    """The ``n_jobs`` parameters (nested ones too) an estimator sets, by name."""
    return {key: value for key, value in estimator.get_params(deep=True).items()
            if key.endswith("n_jobs") and value is not None}


def stratified_holdout(y, fraction, seed):
    """(train, held-out) row indices of one stratified split, or None when a class has
    too few rows to hold any out."""
    splitter = StratifiedShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    try:
        return next(splitter.split(np.zeros(len(y)), y))
    except ValueError:
        return None


def make_folds(teacher_cv, y, seed):
    """Folds for out-of-fold predictions, or None when a class has a single row.

    An int becomes a shuffled ``StratifiedKFold``, reduced to the smallest class count
    when a class has fewer rows than folds; a splitter or iterable is used as given.
    """
    if not isinstance(teacher_cv, (int, np.integer)):
        folds = list(check_cv(teacher_cv, y, classifier=True).split(np.zeros(len(y)), y))
        tested = np.sort(np.concatenate([test for _, test in folds]))
        if not np.array_equal(tested, np.arange(len(y))):
            raise ValueError("teacher_cv must put every row in exactly one test fold, "
                             "as KFold does, to give out-of-fold teacher outputs.")
        return folds
    smallest_class = np.bincount(y).min()
    n_splits = min(int(teacher_cv), int(smallest_class))
    if n_splits < 2:
        warnings.warn("a class has a single row, so teacher outputs cannot be "
                      "out-of-fold; using in-sample teacher probabilities.", UserWarning)
        return None
    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def folds_on_rows(folds, rows):
    """``folds`` of all rows restricted to ``rows`` (as positions into ``rows``),
    those left with no test row dropped: the user's own folds (``teacher_cv`` a
    splitter or an iterable of folds) for a teacher stage rerun on some rows."""
    position = np.full(sum(len(test) for _, test in folds), -1)  # each row tested once
    position[rows] = np.arange(len(rows))
    restricted = [(kept[kept >= 0], held[held >= 0])
                  for kept, held in ((position[train], position[test])
                                     for train, test in folds)]
    return [(train, test) for train, test in restricted if len(test)]


class ZeroWeightFoldError(ValueError):
    """A teacher fold whose training rows all weigh zero (see
    :func:`check_fold_weights`)."""


def check_fold_weights(sample_weight, folds):
    """Raise a :class:`ZeroWeightFoldError` naming a fold whose training rows all
    weigh zero (no teacher could fit on it), before any teacher fits."""
    for index, (train, _) in enumerate(folds):
        if not np.any(sample_weight[train] > 0):
            raise ZeroWeightFoldError(
                f"sample_weight gives every training row of teacher fold {index} "
                f"weight zero ({np.count_nonzero(sample_weight)} of "
                f"{len(sample_weight)} rows weigh more than zero); give more rows a "
                "positive weight, or lower teacher_cv.")


def fit_teachers(teachers, X, y, *, label_encoder, teacher_cv, seeds, n_jobs=None,
                 past_seconds=None, held_out=None, feature_names=None,
                 sample_weight=None):
    """Fit the teachers and compute their soft labels on the training rows.

    Parameters
    ----------
    teachers : list of (str, estimator)
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Encoded labels ``0 .. n_classes - 1``.
    label_encoder : fitted LabelEncoder
        Maps prefit/frozen teachers' classes into the encoded space.
    teacher_cv : int, splitter, iterable, "prefit" or "in_sample"
        "in_sample": no folds; the teachers fitted on all rows label them.
    seeds : ndarray of int
        Seeds: ``seeds[0]`` for the folds, ``seeds[1 + k]`` for teacher ``k``.
    n_jobs : int or None
    past_seconds : dict, optional
        Seconds each fit (``"<name>:all"``, ``"<name>:fold<f>"``) took on this data
        before; when every fit is known they order the work instead of the cost model.
    held_out : ndarray of int, optional
        Rows that no fold's teacher trains on: the student's validation rows. The
        other rows' out-of-fold outputs then carry nothing of their labels, so a
        student that copies the teachers closely does not look better on them than
        it is. They still get out-of-fold outputs of their own, and the teachers
        fitted on all rows still see them.
    feature_names : ndarray of str, optional
        X's column names, which prefit teachers fitted on named columns must have;
        the teachers fitted here get X as a DataFrame of them.
    sample_weight : ndarray of shape (n_samples,), optional
        Passed to every fit here (each fold's rows' share); prefit teachers are used
        as they are.

    Returns
    -------
    fitted : list of estimator
        One per teacher, fitted on all rows (or the prefit teacher itself).
    proba : ndarray of shape (n_samples, n_teachers, n_classes)
        Out-of-fold probabilities where folds are used, else in-sample.
    class_codes : list of ndarray
        Per fitted teacher, the encoded positions of its ``classes_``.
    seconds : dict
        Seconds of each fit, by the names above.
    """
    n_samples, n_features = X.shape
    n_classes = len(label_encoder.classes_)
    prefit = [teacher_cv == "prefit" or is_frozen(est) for _, est in teachers]
    for (name, est), is_prefit in zip(teachers, prefit):
        if is_prefit:
            check_prefit_teacher(name, est, label_encoder.classes_, n_features,
                                 feature_names)
    if sample_weight is not None:
        check_sample_weight_support(teachers, prefit)
    in_sample = isinstance(teacher_cv, str) and teacher_cv == "in_sample"
    folds = None if all(prefit) or in_sample else make_folds(teacher_cv, y, seeds[0])
    if folds is not None and held_out is not None:
        folds = [(np.setdiff1d(train, held_out), test) for train, test in folds]
    if folds is not None and sample_weight is not None and not all(prefit):
        check_fold_weights(sample_weight, folds)
    n_threads = threads_per_task(n_jobs, (1 + len(folds or [])) * prefit.count(False))

    tasks, slots = [], []
    for k, ((name, est), is_prefit) in enumerate(zip(teachers, prefit)):
        if is_prefit:
            continue
        cost = estimate_fit_cost(est, n_samples, n_features, n_classes)
        tasks.append(Task(_fit, (_prepare_clone(est, seeds[1 + k], n_threads), X, y,
                                 sample_weight, feature_names),
                          cost=cost, name=f"{name}:all"))
        slots.append((k, None))
        for f, (train, test) in enumerate(folds or []):
            clone_k = _prepare_clone(est, seeds[1 + k], n_threads)
            tasks.append(Task(fit_and_predict,
                              (clone_k, X, y, train, test, n_classes, sample_weight,
                               feature_names),
                              cost=cost * len(train) / n_samples, name=f"{name}:fold{f}"))
            slots.append((k, f))
    expect(len(tasks))
    results, seconds = run_tasks(known_costs(tasks, past_seconds), n_jobs=n_jobs,
                                 return_seconds=True)

    fitted = [est if is_prefit else None for (_, est), is_prefit in zip(teachers, prefit)]
    proba = np.zeros((n_samples, len(teachers), n_classes))
    for (k, f), result in zip(slots, results):
        if f is None:
            fitted[k] = result
        else:
            proba[folds[f][1], k] = result
    class_codes = [_class_codes(estimator, label_encoder, is_prefit)
                   for estimator, is_prefit in zip(fitted, prefit)]
    for k, estimator in enumerate(fitted):
        if prefit[k] or folds is None:
            proba[:, k] = _aligned_proba(estimator, X, class_codes[k], n_classes)
    fitted = [estimator if is_prefit else _with_n_jobs_of(estimator, given)
              for estimator, (_, given), is_prefit in zip(fitted, teachers, prefit)]
    return fitted, proba, class_codes, seconds


def _with_n_jobs_of(fitted, estimator):
    """The ``fitted`` clone with the ``n_jobs`` values of the user's ``estimator``
    (:func:`_prepare_clone` caps them while tasks share the cores): a kept teacher
    predicts with the threads the user gave it."""
    given = _n_jobs_params(estimator) if hasattr(estimator, "get_params") else {}
    return fitted.set_params(**given) if given else fitted
