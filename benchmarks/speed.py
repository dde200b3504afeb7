"""Parallel and memory figures: the teacher stage at n_jobs=1 vs 2, cold vs warm fits.

- Teacher stage: the default teachers' out-of-fold fits and final fits
  (:func:`skhpmkd.teachers.fit_teachers`, 5 folds), timed at ``n_jobs=1`` (one fit at
  a time, each using the cores as its library does), at ``n_jobs=1`` on one thread
  (every library capped to one core: the serial baseline) and at ``n_jobs=2`` (two
  fits at once, each capped to its share of the cores).
- Student epochs: the static default student trained for a few epochs as skorch
  would by default (one dataset lookup per row, then stacking; the single-tensor
  AdamW update on CPU) and as it trains now (whole batches, the multi-tensor update);
  same seed, so the predictions must be identical.
- Warm memory: a cold ``HPMKDClassifier`` fit (empty optimization memory, empty teacher
  cache), then the same fit again with the memory warm (the teachers are refitted and
  the stored student is restored), and with both the memory and the teacher cache warm.
  Same seed, so the accuracy must match.
- Warm memory, another seed: a cold fit with the next seed (its own empty memory),
  against the same fit with the first fit's memory, where only the past search is
  reused (a new seed is a new fit: nothing is restored).
"""

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.preprocessing import LabelEncoder
from skorch.dataset import Dataset
from threadpoolctl import threadpool_limits

from skhpmkd import HPMKDClassifier, make_student
from skhpmkd.parallel import release_workers
from skhpmkd.teachers import default_teachers, fit_teachers

from .runner import split_dataset, timed_fit


def _teacher_stage_seconds(X, y, n_jobs, seed, one_thread=False):
    encoder = LabelEncoder().fit(y)
    teachers = default_teachers()
    seeds = np.full(len(teachers) + 1, seed)
    if one_thread:
        teachers = [(name, est.set_params(n_jobs=1)) if "n_jobs" in est.get_params()
                    else (name, est) for name, est in teachers]
    start = time.perf_counter()
    with threadpool_limits(1 if one_thread else None):
        fit_teachers(teachers, X, encoder.transform(y), label_encoder=encoder,
                     teacher_cv=5, seeds=seeds, n_jobs=n_jobs)
    return time.perf_counter() - start


#: The student's data loading and optimizer update as skorch would do them by default.
PER_ROW_LOADING = {"dataset": Dataset, "optimizer__foreach": False}
#: Epochs of the student epoch figure.
EPOCHS = 5


def _student_epochs(X, y, seed, teacher_cache, **student_params):
    """Mean seconds per epoch of the static default student trained for
    :data:`EPOCHS` epochs, and its probabilities on ``X`` (to compare two ways)."""
    clf = HPMKDClassifier(config="default", memory=None, teacher_cache=teacher_cache,
                          random_state=seed,
                          student=make_student(max_epochs=EPOCHS, **student_params))
    clf.fit(X, y)
    return float(np.mean(clf.student_.history[:, "dur"])), clf.predict_proba(X)


def _fit_and_score(X_train, y_train, X_test, y_test, **params):
    clf, seconds = timed_fit(HPMKDClassifier(**params), X_train, y_train)
    return {"seconds": seconds,
            "accuracy": float(clf.score(X_test, y_test)),
            "config_source": clf.config_source_, "config": clf.config_,
            "restored": bool(clf.restored_),
            "stages": clf.fit_times_}


def speed_figures(name, seed=0, log=print):
    """The figures on one dataset, as a dict."""
    X_train, X_test, y_train, y_test, _ = split_dataset(name)
    result = {"dataset": name, "seed": seed}
    stages = {"teachers_n_jobs_1": (1, False), "teachers_one_thread": (1, True),
              "teachers_n_jobs_2": (2, False)}
    for key, (n_jobs, one_thread) in stages.items():
        result[key] = _teacher_stage_seconds(X_train, y_train, n_jobs, seed, one_thread)
        log(f"teacher stage, {key}: {result[key]:.1f} s")
    # The fits below run at the default n_jobs, in this process: the n_jobs=2 stage's
    # idle workers go first (left alive, they slowed the student training 2x here).
    release_workers(2)
    with tempfile.TemporaryDirectory(prefix="skhpmkd-speed-") as work:
        memory, cache = str(Path(work) / "memory.sqlite"), str(Path(work) / "teachers")
        per_row, per_row_proba = _student_epochs(X_train, y_train, seed, cache,
                                                 **PER_ROW_LOADING)
        batched, batched_proba = _student_epochs(X_train, y_train, seed, cache)
        result["student_epoch"] = {"per_row": per_row, "batched": batched,
                                   "identical": bool(np.array_equal(per_row_proba,
                                                                    batched_proba))}
        log(f"student epoch: per-row loading {per_row:.2f} s, whole batches "
            f"{batched:.2f} s, identical predictions: "
            f"{result['student_epoch']['identical']}")
        shutil.rmtree(cache)  # the cold fit below starts with an empty teacher cache
        fresh = str(Path(work) / "fresh.sqlite")
        fits = {"cold": {"memory": memory, "teacher_cache": cache},
                "warm memory": {"memory": memory},
                "warm memory + teacher cache": {"memory": memory, "teacher_cache": cache},
                "cold, next seed": {"memory": fresh, "random_state": seed + 1},
                "warm memory, next seed": {"memory": memory, "random_state": seed + 1}}
        for label, params in fits.items():
            result[label] = _fit_and_score(X_train, y_train, X_test, y_test,
                                           **{"random_state": seed, **params})
            log(f"{label}: {result[label]['seconds']:.1f} s, accuracy "
                f"{result[label]['accuracy']:.4f} ({result[label]['config_source']}"
                f"{', restored' if result[label]['restored'] else ''})")
    return result


def format_speed(result):
    """The figures as text lines, with the ratios the targets are stated in."""
    parallel = result["teachers_n_jobs_2"]
    lines = [f"{result['dataset']} (seed {result['seed']}):",
             f"  teacher + out-of-fold stage: n_jobs=2 {parallel:.1f} s; "
             f"n_jobs=1 {result['teachers_n_jobs_1']:.1f} s "
             f"({result['teachers_n_jobs_1'] / parallel:.2f}x); "
             f"n_jobs=1 on one thread {result['teachers_one_thread']:.1f} s "
             f"({result['teachers_one_thread'] / parallel:.2f}x)"]
    epoch = result.get("student_epoch")
    if epoch:
        lines.append(f"  student epoch: {epoch['batched']:.2f} s"
                     f" vs {epoch['per_row']:.2f} s"
                     f" with per-row loading ({epoch['per_row'] / epoch['batched']:.2f}x "
                     f"faster), identical predictions: {epoch['identical']}")
    pairs = [("warm memory", "cold"), ("warm memory + teacher cache", "cold"),
             ("warm memory, next seed", "cold, next seed")]
    for label, baseline in pairs:
        warm, cold = result.get(label), result.get(baseline)
        if warm is None or cold is None:  # a result saved before this figure existed
            continue
        lines.append(f"  {label}: {warm['seconds']:.1f} s vs {baseline} "
                     f"{cold['seconds']:.1f} s ({cold['seconds'] / warm['seconds']:.2f}x "
                     f"faster), accuracy "
                     f"{100 * (warm['accuracy'] - cold['accuracy']):+.2f} pp "
                     f"({warm['config_source']}"
                     f"{', restored' if warm.get('restored') else ''})")
    return "\n".join(lines)
