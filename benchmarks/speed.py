"""Parallel and memory figures: the teacher stage at n_jobs=1 vs 2, cold vs warm fits.

- Teacher stage: the default teachers' out-of-fold fits and final fits
  (:func:`skhpmkd.teachers.fit_teachers`, 5 folds), timed at ``n_jobs=1`` (one fit at
  a time, each using the cores as its library does) and ``n_jobs=2`` (two fits at once,
  each capped to its share of the cores).
- Warm memory: a cold ``HPMKDClassifier`` fit (empty optimization memory, empty teacher
  cache), then the same fit again with the memory warm (the past search is reused), and
  with both the memory and the teacher cache warm. Same seed, so the accuracy must
  match.
"""

import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.preprocessing import LabelEncoder

from skhpmkd import HPMKDClassifier
from skhpmkd.teachers import default_teachers, fit_teachers

from .runner import split_dataset


def _teacher_stage_seconds(X, y, n_jobs, seed):
    encoder = LabelEncoder().fit(y)
    seeds = np.full(len(default_teachers()) + 1, seed)
    start = time.perf_counter()
    fit_teachers(default_teachers(), X, encoder.transform(y), label_encoder=encoder,
                 teacher_cv=5, seeds=seeds, n_jobs=n_jobs)
    return time.perf_counter() - start


def _timed_fit(X_train, y_train, X_test, y_test, **params):
    start = time.perf_counter()
    clf = HPMKDClassifier(**params).fit(X_train, y_train)
    return {"seconds": time.perf_counter() - start,
            "accuracy": float(clf.score(X_test, y_test)),
            "config_source": clf.config_source_, "config": clf.config_,
            "stages": clf.fit_times_}


def speed_figures(name, seed=0, log=print):
    """The figures on one dataset, as a dict."""
    X_train, X_test, y_train, y_test, _ = split_dataset(name)
    result = {"dataset": name, "seed": seed}
    for n_jobs in (1, 2):
        result[f"teachers_n_jobs_{n_jobs}"] = _teacher_stage_seconds(
            X_train, y_train, n_jobs, seed)
        log(f"teacher stage, n_jobs={n_jobs}: "
            f"{result[f'teachers_n_jobs_{n_jobs}']:.1f} s")
    with tempfile.TemporaryDirectory(prefix="skhpmkd-speed-") as work:
        memory, cache = str(Path(work) / "memory.sqlite"), str(Path(work) / "teachers")
        fits = {"cold": {"memory": memory, "teacher_cache": cache},
                "warm memory": {"memory": memory},
                "warm memory + teacher cache": {"memory": memory, "teacher_cache": cache}}
        for label, params in fits.items():
            result[label] = _timed_fit(X_train, y_train, X_test, y_test,
                                       random_state=seed, **params)
            log(f"{label}: {result[label]['seconds']:.1f} s, accuracy "
                f"{result[label]['accuracy']:.4f} ({result[label]['config_source']})")
    return result


def format_speed(result):
    """The figures as text lines, with the ratios the targets are stated in."""
    cold = result["cold"]
    lines = [f"{result['dataset']} (seed {result['seed']}):",
             f"  teacher + out-of-fold stage: n_jobs=1 {result['teachers_n_jobs_1']:.1f} s,"
             f" n_jobs=2 {result['teachers_n_jobs_2']:.1f} s, speed-up "
             f"{result['teachers_n_jobs_1'] / result['teachers_n_jobs_2']:.2f}x"]
    for label in ("warm memory", "warm memory + teacher cache"):
        warm = result[label]
        lines.append(f"  {label}: {warm['seconds']:.1f} s vs cold {cold['seconds']:.1f} s"
                     f" ({cold['seconds'] / warm['seconds']:.2f}x faster), accuracy "
                     f"{100 * (warm['accuracy'] - cold['accuracy']):+.2f} pp")
    return "\n".join(lines)
