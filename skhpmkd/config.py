"""Adaptive configuration manager: meta-features, the learned prior, candidate configs.

Meta-features describe a distillation task in a few numbers (size, classes, balance,
how good, confident and unanimous the teachers are, how much smaller the student is).
A learned :class:`Prior`, shipped as JSON and rebuilt by ``tools/build_prior.py`` from
synthetic tasks, ranks a portfolio of configurations for a new task from the tasks
with the nearest meta-features. :func:`propose_candidates` merges that ranking with
the configurations of similar past runs in the optimization memory; the budgeted
search (:mod:`skhpmkd.search`) then picks among them on validation rows.
"""

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.stats import skew


def meta_features(X, y, teacher_proba, *, teacher_nbytes=None, student_nbytes=None,
                  sample_weight=None):
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
    sample_weight : ndarray of shape (n_samples,), optional
        The rows' weights in the fit: the class shares and the teachers' accuracy,
        confidence and disagreement are weighted as the fit weighs the rows (a weight
        of 2 counts as the row twice); the columns are described unweighted.

    Returns
    -------
    dict of str -> float
        ``log_rows``, ``log_features``, ``n_classes``, ``imbalance`` (largest over
        smallest class share) and ``log_imbalance``, ``binary_feature_share``,
        ``log_skewness`` (log1p of the median absolute skewness of the non-binary
        columns: skewed, heavy-tailed columns favour the piecewise-linear encoding),
        ``distinct_share`` (their median number of distinct values over the rows, of
        the first 2000 rows), ``n_teachers``,
        ``teacher_accuracy_mean`` / ``_max``, ``teacher_confidence`` (mean max
        probability), ``teacher_disagreement`` (share of rows where the teachers'
        predictions differ) and, with both sizes, ``log_size_ratio``.
    """
    n_samples, n_features = X.shape
    counts = np.bincount(y, weights=sample_weight, minlength=teacher_proba.shape[2])
    if sample_weight is not None:  # in rows, so that the floor below is one row
        counts = counts * n_samples / counts.sum()
    predictions = teacher_proba.argmax(axis=2)
    accuracies = np.average(predictions == y[:, None], axis=0, weights=sample_weight)
    confidence = teacher_proba.max(axis=2)
    disagreement = predictions.min(axis=1) != predictions.max(axis=1)
    imbalance = counts.max() / max(counts[counts > 0].min(), 1)
    sample = X[:2000]
    distinct = np.array([len(np.unique(column)) for column in sample.T])
    binary = distinct <= 2
    numeric = sample[:, ~binary]
    features = {
        "log_rows": float(np.log10(n_samples)),
        "log_features": float(np.log10(n_features)),
        "n_classes": float(teacher_proba.shape[2]),
        "imbalance": float(imbalance),
        "log_imbalance": float(np.log10(imbalance)),
        "binary_feature_share": float(np.mean(binary)),
        "log_skewness": float(np.log1p(_median_abs_skew(numeric))),
        "distinct_share": float(np.median(distinct[~binary]) / len(sample)
                                if numeric.shape[1] else 0.0),
        "n_teachers": float(teacher_proba.shape[1]),
        "teacher_accuracy_mean": float(accuracies.mean()),
        "teacher_accuracy_max": float(accuracies.max()),
        "teacher_confidence": float(np.average(
            confidence, weights=None if sample_weight is None else np.broadcast_to(
                sample_weight[:, None], confidence.shape))),
        "teacher_disagreement": float(np.average(disagreement, weights=sample_weight)),
    }
    if teacher_nbytes and student_nbytes:
        features["log_size_ratio"] = float(np.log10(teacher_nbytes / student_nbytes))
    return features


def _median_abs_skew(numeric):
    """Median absolute skewness of the columns (0 for none), in float64 where
    ``numeric``'s own precision overflows (features of magnitude 1e13 and more
    in float32)."""
    if not numeric.shape[1]:
        return 0.0
    with np.errstate(all="ignore"):  # float32 may overflow: float64 then
        skewness = skew(numeric, axis=0)
    if not np.isfinite(skewness).all():
        skewness = skew(numeric.astype(np.float64), axis=0)
    return float(np.median(np.abs(skewness)))


# -- the configurations ---------------------------------------------------------------

#: Parameters the configuration manager chooses (where the user left them unset):
#: the distillation loss (``temperature``, ``alpha``), the student's input encoding,
#: learning rate and width (a multiple of the default hidden units), the temperature
#: schedule, the teacher mixture and the transfer-set augmentation.
SEARCHED_PARAMS = ("temperature", "alpha", "numeric_embedding", "temperature_schedule",
                   "ensemble", "augment", "lr", "width")

#: Values used for unset parameters when ``config="default"`` (no prior, no search).
STATIC_DEFAULTS = {"temperature": 4.0, "alpha": 0.5, "numeric_embedding": "ple",
                   "temperature_schedule": "constant", "ensemble": "mean",
                   "augment": "off", "lr": 3e-3, "width": 1.0}

#: Changes of one setting beyond temperature, alpha and encoding that the portfolio
#: scores, each from the static temperature and alpha, with either encoding.
VARIANTS = ({"lr": 1e-3}, {"lr": 1e-2}, {"width": 0.5}, {"width": 2.0},
            {"width": 4.0},
            {"temperature_schedule": "annealed"}, {"temperature_schedule": "adaptive"},
            {"ensemble": "attention"}, {"ensemble": "best"}, {"augment": "auto"})

#: Every configuration the prior scores: temperature x alpha x input encoding, then
#: each of :data:`VARIANTS` with the piecewise-linear or no encoding.
PORTFOLIO = tuple(
    [{**STATIC_DEFAULTS, "temperature": t, "alpha": a, "numeric_embedding": e}
     for e in ("ple", "none", "periodic") for t in (1.0, 2.0, 4.0, 8.0)
     for a in (0.1, 0.5, 0.9)]
    + [{**STATIC_DEFAULTS, "numeric_embedding": e, **variant}
       for variant in VARIANTS for e in ("ple", "none")])

#: Meta-features the prior compares tasks on (all known before the student trains).
PRIOR_FEATURES = ("log_rows", "log_features", "n_classes", "log_imbalance",
                  "binary_feature_share", "log_skewness", "distinct_share",
                  "teacher_accuracy_mean", "teacher_accuracy_max", "teacher_confidence",
                  "teacher_disagreement")

PRIOR_FORMAT_VERSION = 3


def config_key(config):
    """A hashable identity of a configuration's searched parameters."""
    return json.dumps([config[name] for name in SEARCHED_PARAMS])


def is_complete(config):
    """Whether ``config`` (e.g. from a past run) sets every searched parameter."""
    return all(name in config for name in SEARCHED_PARAMS)


def resolve_config(config, fixed):
    """``config`` with the user's explicit values laid over it."""
    return {**{name: config[name] for name in SEARCHED_PARAMS}, **fixed}


def describe_config(config):
    """A short text of a configuration, e.g. ``T=2 a=0.5 ple lr=0.01``: temperature,
    alpha and encoding, then only the settings that differ from the static defaults."""
    extras = [f"{name}={config[name]:g}" if isinstance(config[name], float)
              else f"{name}={config[name]}" for name in SEARCHED_PARAMS[3:]
              if config[name] != STATIC_DEFAULTS[name]]
    return " ".join([f"T={config['temperature']:g}", f"a={config['alpha']:g}",
                     config["numeric_embedding"]] + extras)


def check_config(config):
    """Check a ``config`` dict given by the user: known names only.

    Returns
    -------
    dict
        The static defaults with ``config`` laid over them.
    """
    unknown = sorted(set(config) - set(SEARCHED_PARAMS))
    if unknown:
        raise ValueError(f"config has unknown keys {unknown}; a config dict sets some "
                         f"of {list(SEARCHED_PARAMS)}.")
    return {**STATIC_DEFAULTS, **config}


class Prior:
    """Learned prior: which configurations did well on tasks with similar meta-features.

    A nearest-neighbour meta-model over past tasks (built from synthetic tasks by
    ``tools/build_prior.py``): each task has its meta-features and the held-out
    log-loss of every configuration of the portfolio, turned into a regret in
    ``[0, 1]`` (0: the task's best configuration, 1: its worst). For a new task the
    ``k`` nearest tasks (standardised meta-features) vote, weighted by ``1 / (d + 1)``,
    and configurations are ranked by their weighted mean regret. ``k`` is chosen by
    leave-one-task-out validation when the prior is built.

    Parameters
    ----------
    portfolio : list of dict
        The configurations, each with every name in :data:`SEARCHED_PARAMS`.
    features : list of str
        Meta-feature names, in the column order of ``task_features``.
    task_features : array-like of shape (n_tasks, n_features)
    regret : array-like of shape (n_tasks, n_configs)
    k : int
    """

    def __init__(self, portfolio, features, task_features, regret, k):
        self.portfolio = [dict(config) for config in portfolio]
        self.features = list(features)
        self.task_features = np.asarray(task_features, dtype=float)
        self.regret = np.asarray(regret, dtype=float)
        self.k = int(k)
        self._mean = self.task_features.mean(axis=0)
        spread = self.task_features.std(axis=0)
        self._scale = np.where(spread > 0, spread, 1.0)

    @classmethod
    def from_losses(cls, portfolio, features, task_features, losses, k):
        """Build from per-task losses of each configuration (lower is better)."""
        losses = np.asarray(losses, dtype=float)
        best = losses.min(axis=1, keepdims=True)
        spread = losses.max(axis=1, keepdims=True) - best
        return cls(portfolio, features, task_features,
                   (losses - best) / np.where(spread > 0, spread, 1.0), k)

    def _vector(self, meta):
        return np.array([float(meta.get(name, self._mean[j]))
                         for j, name in enumerate(self.features)])

    def mean_regret(self, meta):
        """Neighbour-weighted mean regret of each configuration for a task."""
        distances = np.sqrt((((self.task_features - self._vector(meta)) / self._scale)
                             ** 2).mean(axis=1))
        nearest = np.argsort(distances, kind="stable")[:self.k]
        weights = 1.0 / (distances[nearest] + 1.0)
        return weights @ self.regret[nearest] / weights.sum()

    def rank(self, meta):
        """The portfolio, best-first for a task with meta-features ``meta``."""
        order = np.argsort(self.mean_regret(meta), kind="stable")
        return [dict(self.portfolio[i]) for i in order]

    def to_dict(self):
        """Plain data (JSON) for :func:`load_prior`."""
        return {"format_version": PRIOR_FORMAT_VERSION, "portfolio": self.portfolio,
                "features": self.features, "k": self.k,
                "task_features": np.round(self.task_features, 6).tolist(),
                "regret": np.round(self.regret, 6).tolist()}

    @classmethod
    def from_dict(cls, data):
        """Inverse of :meth:`to_dict`; checks the format version and shapes."""
        if data.get("format_version") != PRIOR_FORMAT_VERSION:
            version = data.get("format_version")
            raise ValueError(f"prior format version {version!r} is not "
                             f"{PRIOR_FORMAT_VERSION}; rebuild it with "
                             "tools/build_prior.py.")
        prior = cls(data["portfolio"], data["features"], data["task_features"],
                    data["regret"], data["k"])
        n_tasks, n_configs = prior.regret.shape
        if prior.task_features.shape != (n_tasks, len(prior.features)) or (
                n_configs != len(prior.portfolio)):
            raise ValueError("prior arrays do not match its portfolio and features.")
        return prior


#: The prior shipped with the package.
PRIOR_PATH = Path(__file__).with_name("data") / "prior.json"


@lru_cache(maxsize=4)
def load_prior(path=PRIOR_PATH):
    """The learned prior stored as JSON at ``path`` (the packaged one by default)."""
    with open(path, encoding="utf-8") as file:
        return Prior.from_dict(json.load(file))


def remembered_best(runs, teachers, fixed=None):
    """The searched configuration with the lowest validation loss among past runs on
    the same data and teachers, or None. ``fixed``: the values the user sets now; a
    run that had fixed others (recorded as ``config["fixed"]``) did not search them,
    so its configuration is not a choice to reuse (nor is a run recorded without
    them)."""
    fixed = fixed or {}
    searched = [run for run in runs
                if run["config"].get("config_source") in ("search", "memory")
                and run["config"].get("teachers") == teachers
                and is_complete(run["config"])
                and _fixed_the_same(run["config"].get("fixed"), fixed)]
    if not searched:
        return None
    best = min(searched, key=lambda run: run["scores"].get("valid_log_loss", np.inf))
    return {name: best["config"][name] for name in SEARCHED_PARAMS}


def _fixed_the_same(past, now):
    """Whether every value a past run fixed (None: not recorded) is fixed now too."""
    return past is not None and all(
        name in now and now[name] == value for name, value in past.items())


#: Parameters whose every value the search's first candidates should cover: the
#: prior is learned on synthetic tasks, and where real data differ from them a whole
#: region (say, a high label weight) can sit low in its ranking.
COVERED_PARAMS = ("alpha", "numeric_embedding")


def spread_over(ranked, params, seen=()):
    """``ranked`` (a list of ``(config, source)``) reordered so that values of
    ``params`` not in the ``seen`` configurations come early: in rank order, each
    configuration that brings a new value first, then the rest in rank order."""
    covered = {(name, config[name]) for config in seen for name in params}
    spread, rest = [], []
    for config, source in ranked:
        values = {(name, config[name]) for name in params}
        (spread if values - covered else rest).append((config, source))
        covered |= values
    return spread + rest


#: Searched parameters whose effect depends on the data (see ``student_of`` below).
DATA_DEPENDENT_PARAMS = ("numeric_embedding", "width", "augment")


def propose_candidates(meta, fixed, n, prior=None, nearest_runs=(), student_of=None):
    """Configurations to try, the favourite first, with the user's values laid over them.

    With room for a search (``n > 1``) the static defaults come first: they are the
    search's null hypothesis, which another configuration must beat on validation rows
    beyond noise (:mod:`skhpmkd.search`). The prior's first proposal, the choices of
    similar past runs and the rest of the prior's ranking follow as challengers, the
    rest spread so that every value of :data:`COVERED_PARAMS` is tried early. The
    learned prior is built from synthetic tasks, so it proposes where to look but does
    not overrule a robust default without evidence from the user's own data. Without
    room for a search (``n <= 1``) the prior's first proposal is taken.

    Parameters
    ----------
    meta : dict
        Meta-features of the task.
    fixed : dict
        Searched parameters the user set; they override every proposal.
    n : int
        Most candidates to return (at least one is returned).
    prior : Prior or None
        The learned prior; None: only the static defaults and the past runs.
    nearest_runs : list of dict
        Past runs on similar data (from the memory), nearest first; the configuration
        each one chose joins the candidates right after the prior's first proposal.
    student_of : callable, optional
        ``student_of(config)`` -> a hashable description of the student a
        configuration would train, for the settings whose effect depends on the data
        (input encoding, hidden units, synthetic rows). Candidates that would train
        the same student count once (a wide one that the size budget narrows back to
        the default's units, an encoding where no column is numeric, augmentation
        where the data are too large for synthetic rows), so that no search slot
        trains a student twice.

    Returns
    -------
    list of (dict, str)
        Each configuration with its source: ``"prior"``, ``"memory"`` or ``"default"``.
    """
    ranked = [(config, "prior") for config in prior.rank(meta)] if prior else []
    remembered = [({name: run["config"][name] for name in SEARCHED_PARAMS}, "memory")
                  for run in nearest_runs if is_complete(run["config"])]
    default = [(STATIC_DEFAULTS, "default")]
    first = ranked[:1] + remembered
    challengers = first + spread_over(ranked[1:], COVERED_PARAMS,
                                      [STATIC_DEFAULTS] + [c for c, _ in first])
    ordered = default + challengers if n > 1 else challengers + default
    candidates, seen = [], set()
    for config, source in ordered:
        config = resolve_config(config, fixed)
        key = config_key(config) if student_of is None else (
            config_key({**config, **dict.fromkeys(DATA_DEPENDENT_PARAMS)}),
            student_of(config))
        if key not in seen:
            seen.add(key)
            candidates.append((config, source))
            if len(candidates) == max(1, int(n)):
                break
    return candidates
