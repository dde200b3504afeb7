"""Rebuild the learned prior of the configuration manager (skhpmkd/data/prior.json).

    python tools/build_prior.py [--tasks 32] [--n-jobs 2] [--seed 0] [--out PATH]
                                [--work-dir DIR]

Generates synthetic classification tasks (never the benchmark datasets) from four
families: sklearn's ``make_classification`` clusters, axis-aligned threshold rules
(tree-friendly), smooth nonlinear boundaries (network-friendly), and tasks with
one-hot categorical columns; a random share of each task's numeric columns is then
skewed, cubed, turned into counts or censored, as real columns are. For each task it
fits the default teachers once (cached), distils a student with every configuration of
``skhpmkd.config.PORTFOLIO`` and scores it on held-out rows (with ``--work-dir``, scores
are kept per configuration, so a rebuild after the portfolio grows trains only the new
configurations). The prior stores each task's meta-features and the held-out
log-loss regrets; the number of neighbours ``k`` is chosen by leave-one-task-out
validation, whose report is printed and kept in the JSON under ``"build"``.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from joblib import Memory, Parallel, delayed
from sklearn.datasets import make_classification
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skhpmkd import HPMKDClassifier
from skhpmkd.config import (PORTFOLIO, PRIOR_FEATURES, PRIOR_PATH, STATIC_DEFAULTS, Prior,
                            config_key, propose_candidates)

FAMILIES = ("clusters", "thresholds", "smooth", "categorical")
K_CHOICES = (1, 3, 5, 8, 12, 20)
SEARCH_WIDTH = 6  # the default search_budget, for the report


def _clusters(rng, n, d):
    n_classes = int(rng.choice([2, 2, 3, 4, 6]))
    informative = int(rng.integers(2, max(3, d // 2) + 1))
    weights = None
    if rng.random() < 0.4:
        shares = rng.dirichlet(np.full(n_classes, 0.7)) + 0.05
        weights = (shares / shares.sum()).tolist()
    clusters = int(rng.integers(1, 3))
    informative = max(informative, int(np.ceil(np.log2(n_classes * clusters))))
    return make_classification(
        n_samples=n, n_features=d, n_informative=min(informative, d),
        n_redundant=0, n_classes=n_classes, n_clusters_per_class=clusters,
        weights=weights, flip_y=float(rng.uniform(0, 0.1)),
        class_sep=float(rng.uniform(0.5, 2.0)), random_state=int(rng.integers(1 << 30)))


def _thresholds(rng, n, d):
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d)
    score = np.zeros(n)
    for _ in range(int(rng.integers(2, 8))):
        j, k = rng.choice(d, size=2)
        rule = (X[:, j] > rng.normal()) & (X[:, k] < rng.normal())
        score += rng.normal() * rule
    score += rng.normal(scale=float(rng.uniform(0.1, 0.6)), size=n)
    n_classes = int(rng.choice([2, 2, 3]))
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    return X, y


def _smooth(rng, n, d):
    X = rng.normal(size=(n, d))
    W = rng.normal(size=(d, 3))
    Z = X @ W
    score = np.sin(Z[:, 0]) + Z[:, 1] * Z[:, 2] / 3 + 0.5 * Z[:, 0]
    score += rng.normal(scale=float(rng.uniform(0.1, 1.0)), size=n)
    n_classes = int(rng.choice([2, 3, 4]))
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    return X, y


def _categorical(rng, n, d):
    X, y = (_clusters if rng.random() < 0.5 else _thresholds)(rng, n, d)
    columns = [X]
    for j in rng.choice(X.shape[1], size=max(1, X.shape[1] // 3), replace=False):
        levels = int(rng.integers(3, 8))
        codes = np.digitize(X[:, j],
                            np.quantile(X[:, j], np.linspace(0, 1, levels + 1)[1:-1]))
        columns.append(np.eye(levels)[codes])
        X[:, j] = 0.0
    return np.column_stack(columns), y


def _observed(rng, X):
    """Real columns are rarely Gaussian: pass a random share of the numeric columns
    through a monotone map (log-normal skew, a cube, integer counts, censoring), so the
    boundary the labels were drawn with bends in the columns the models see."""
    X = X.copy()
    share = rng.uniform(0.0, 1.0)
    for j in range(X.shape[1]):
        column = X[:, j]
        if len(np.unique(column[:100])) <= 2 or rng.random() > share:
            continue
        z = (column - column.mean()) / (column.std() + 1e-12)
        kind = rng.integers(4)
        if kind == 0:
            X[:, j] = np.exp(rng.uniform(0.5, 1.5) * z)
        elif kind == 1:
            X[:, j] = z ** 3
        elif kind == 2:
            X[:, j] = np.floor(np.exp(0.8 * z) * rng.uniform(1, 5))
        else:
            X[:, j] = np.clip(z, np.quantile(z, rng.uniform(0, 0.3)), None)
    return X


def make_task(seed, rows=(300, 2000)):
    """(family, X, y) of one synthetic task with between ``rows[0]`` and ``rows[1]``
    rows (log-uniform)."""
    rng = np.random.default_rng(seed)
    family = FAMILIES[seed % len(FAMILIES)]
    n = int(np.exp(rng.uniform(np.log(rows[0]), np.log(rows[1]))))
    d = int(rng.integers(4, 31))
    X, y = {"clusters": _clusters, "thresholds": _thresholds, "smooth": _smooth,
            "categorical": _categorical}[family](rng, n, d)
    X = _observed(np.random.default_rng([seed, 1]), np.asarray(X, dtype=np.float64))
    return family, X, np.asarray(y)


def split_task(seed, rows=(300, 2000)):
    """``(family, X, y, X_train, X_test, y_train, y_test)`` of one synthetic task
    (:func:`make_task`), split 75/25 (stratified) and standardised on its training
    rows."""
    family, X, y = make_task(seed, rows)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    return (family, X, y, scaler.transform(X_train), scaler.transform(X_test),
            y_train, y_test)


def score_task(seed, cache_dir):
    """Meta-features and held-out scores of every portfolio configuration on one task.

    Scores are kept per configuration in ``cache_dir``, so an interrupted build resumes
    and a configuration added to the portfolio is the only one trained on a rebuild."""
    done = Path(cache_dir) / f"task{seed}.json"
    kept = json.loads(done.read_text()) if done.exists() else {"configs": []}
    scored = {config_key(c): (loss, accuracy) for c, loss, accuracy in zip(
        kept["configs"], kept.get("losses", []), kept.get("accuracies", []))}
    missing = [config for config in PORTFOLIO if config_key(config) not in scored]
    family, X, y, X_train, X_test, y_train, y_test = split_task(seed)
    meta = kept.get("meta_features")
    if missing:
        cache = Memory(Path(cache_dir) / f"task{seed}", verbose=0)
        with threadpool_limits(1):
            for config in missing:
                clf = HPMKDClassifier(config=config, teacher_cache=cache, memory=None,
                                      random_state=seed, n_jobs=1)
                clf.fit(X_train, y_train)
                proba = clf.predict_proba(X_test)
                scored[config_key(config)] = (
                    log_loss(y_test, proba, labels=clf.classes_),
                    accuracy_score(y_test, clf.classes_[proba.argmax(1)]))
                meta = clf.meta_features_
    losses = [scored[config_key(config)][0] for config in PORTFOLIO]
    accuracies = [scored[config_key(config)][1] for config in PORTFOLIO]
    print(f"task {seed:3d} {family:12s} n={len(X):5d} d={X.shape[1]:3d} "
          f"classes={len(np.unique(y))} best={np.argmin(losses)} "
          f"(trained {len(missing)})", flush=True)
    result = {"seed": seed, "family": family, "meta_features": meta,
              "configs": [dict(config) for config in PORTFOLIO],
              "losses": losses, "accuracies": accuracies}
    if missing:
        done.write_text(json.dumps(result))
    return result


def leave_one_task_out(features, losses, k):
    """Mean regrets (log-loss) of the prior's first pick and of the best of the
    SEARCH_WIDTH candidates the search would train (:func:`propose_candidates`), each
    task ranked by a prior built without it."""
    prior = Prior.from_losses(PORTFOLIO, PRIOR_FEATURES, features, losses, k)
    index = {config_key(config): i for i, config in enumerate(PORTFOLIO)}
    first, best_of_search = [], []
    for t in range(len(losses)):
        meta = dict(zip(PRIOR_FEATURES, features[t]))
        without_t = Prior(PORTFOLIO, PRIOR_FEATURES, np.delete(features, t, axis=0),
                          np.delete(prior.regret, t, axis=0), k)
        ranked = without_t.rank(meta)
        candidates = propose_candidates(meta, {}, SEARCH_WIDTH, prior=without_t)
        first.append(prior.regret[t, index[config_key(ranked[0])]])
        best_of_search.append(min(prior.regret[t, index[config_key(config)]]
                                  for config, _ in candidates))
    return float(np.mean(first)), float(np.mean(best_of_search))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=32)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=PRIOR_PATH)
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="keep per-task scores and teacher caches here (an "
                             "interrupted build resumes); default: a temporary one")
    args = parser.parse_args(argv)
    start = time.time()
    with tempfile.TemporaryDirectory() as temporary:
        work_dir = args.work_dir or Path(temporary)
        work_dir.mkdir(parents=True, exist_ok=True)
        tasks = Parallel(n_jobs=args.n_jobs)(
            delayed(score_task)(args.seed + i, work_dir) for i in range(args.tasks))
    features = np.array([[t["meta_features"][name] for name in PRIOR_FEATURES]
                         for t in tasks])
    losses = np.array([t["losses"] for t in tasks])
    report = {k: leave_one_task_out(features, losses, k) for k in K_CHOICES}
    best_k = min(K_CHOICES, key=lambda k: report[k][0])
    prior = Prior.from_losses(PORTFOLIO, PRIOR_FEATURES, features, losses, best_k)
    default_index = PORTFOLIO.index(STATIC_DEFAULTS)
    default_regret = float(prior.regret[:, default_index].mean())
    data = prior.to_dict()
    data["build"] = {
        "command": "python tools/build_prior.py " + " ".join(argv or sys.argv[1:]),
        "tasks": args.tasks, "seed": args.seed, "seconds": round(time.time() - start),
        "families": [t["family"] for t in tasks],
        "leave_one_task_out_regret": {str(k): {"first": v[0], "best_of_search": v[1]}
                                      for k, v in report.items()},
        "static_default_regret": default_regret,
        "accuracy": {"static_default": float(np.mean([t["accuracies"][default_index]
                                                       for t in tasks])),
                     "oracle": float(np.mean([max(t["accuracies"]) for t in tasks]))},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"k={best_k}; leave-one-task-out regret (0 best config, 1 worst):")
    print(f"  static default {default_regret:.3f}")
    for k, (first, search) in report.items():
        print(f"  k={k:2d}: prior's first pick {first:.3f}, best of its first "
              f"{SEARCH_WIDTH} candidates {search:.3f}")
    print(f"wrote {args.out} ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
