"""Run the benchmark protocol: datasets x seeds x models -> one row per measurement."""

import itertools
import tempfile
import time

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder

from skhpmkd.config import describe_config
from skhpmkd.reference import has_weak_teachers

from .datasets import load_dataset
from .deepbridge_adapter import deepbridge_available, run_deepbridge_hpmkd
from .measure import latencies, model_size, normalised_proba, paired_interval_pp, scores
from .models import (ablations, is_ablated, make_students, make_teachers,
                     teacher_average)
from .preprocessing import make_preprocessor
from .tables import SPLIT_MARK

SPLIT_SEED = 0
TEST_SIZE = 0.25


def split_name(dataset, split_seed):
    """The rows' dataset name for a split: the plain name for the protocol's,
    ``dataset@splitK`` for another."""
    return dataset if split_seed == SPLIT_SEED else f"{dataset}{SPLIT_MARK}{split_seed}"


def split_dataset(name, split_seed=SPLIT_SEED):
    """Load, split 75/25 stratified (the protocol's ``random_state=0`` unless
    ``split_seed`` says otherwise), preprocess and encode labels."""
    dataset = load_dataset(name)
    X_train, X_test, y_train, y_test = train_test_split(
        dataset.X, dataset.y, test_size=TEST_SIZE, stratify=dataset.y,
        random_state=split_seed)
    preprocessor = make_preprocessor(dataset).fit(X_train)
    encoder = LabelEncoder().fit(dataset.y)
    return (preprocessor.transform(X_train), preprocessor.transform(X_test),
            encoder.transform(y_train), encoder.transform(y_test), len(encoder.classes_))


def timed_fit(estimator, X, y, **fit_params):
    """Fit ``estimator`` (with ``fit_params``, e.g. ``sample_weight``); return it with
    the wall-clock seconds the fit took."""
    start = time.perf_counter()
    estimator.fit(X, y, **fit_params)
    return estimator, time.perf_counter() - start


def _row(dataset, seed, model, kind, predict_proba, fitted, fit_seconds, split):
    _, X_test, _, y_test, n_classes = split
    proba = normalised_proba(predict_proba, X_test)
    return {"dataset": dataset, "seed": seed, "model": model, "kind": kind,
            **scores(proba, y_test, n_classes), "fit_seconds": fit_seconds,
            **latencies(predict_proba, X_test), **model_size(fitted), "note": "",
            "_correct": proba.argmax(axis=1) == y_test}


def _add_teacher_intervals(rows):
    """Give each student row the 95% paired bootstrap interval of its accuracy minus
    the seed's best single teacher's (pp; the teacher retention is measured against),
    then drop the rows' per-row correctness."""
    teachers = [row for row in rows
                if row["kind"] == "teacher" and row["model"] != "teacher average"]
    best = max(teachers, key=lambda row: row["accuracy"])
    for row in rows:
        if row["kind"] == "student":
            row["vs_best_teacher_low"], row["vs_best_teacher_high"] = paired_interval_pp(
                row["_correct"], best["_correct"])
    for row in rows:
        row.pop("_correct", None)
    return rows


def run_dataset(name, seeds, *, split_seed=SPLIT_SEED, ablate=False, grid=False,
                deepbridge=True, deepbridge_only=False, models=None, log=print,
                on_seed=None):
    """All models on one dataset for each seed; ``on_seed(rows)`` after each seed
    with this dataset's rows so far. Rows of a split other than the protocol's are
    named ``dataset@splitK`` (:func:`split_name`).

    Returns
    -------
    list of dict
        One row per (seed, model) with the raw measurements.
    """
    split = split_dataset(name, split_seed)
    name = split_name(name, split_seed)
    X_train, _, y_train, _, _ = split
    log(f"{name}: {len(X_train)} train rows, {X_train.shape[1]} columns after "
        f"preprocessing, seeds {list(seeds)}")
    if deepbridge_only:
        rows = [deepbridge_row(name, seed, split) for seed in seeds]
        for row in rows:
            log(f"  seed {row['seed']}: deepbridge {row['note'] or row['accuracy']}")
        return rows
    rows = []
    with tempfile.TemporaryDirectory(prefix="skhpmkd-bench-") as teacher_cache:
        for seed in seeds:
            rows += _run_seed(name, seed, split, ablate, grid, deepbridge, teacher_cache,
                              models, log)
            if on_seed is not None:
                on_seed(rows)
    return rows


def _run_seed(name, seed, split, ablate, grid, deepbridge, teacher_cache, models, log):
    """Teachers, their average, every student (or those named in ``models``) and
    DeepBridge for one seed."""
    X_train, _, y_train, _, _ = split
    rows = []
    fitted_teachers, teacher_seconds = [], 0.0
    for teacher_name, estimator in make_teachers(seed):
        estimator, seconds = timed_fit(estimator, X_train, y_train)
        teacher_seconds += seconds
        fitted_teachers.append((teacher_name, estimator))
        rows.append(_row(name, seed, teacher_name, "teacher", estimator.predict_proba,
                         estimator, seconds, split))
    average = teacher_average(fitted_teachers, X_train, y_train)
    rows.append(_row(name, seed, "teacher average", "teacher", average.predict_proba,
                     average, teacher_seconds, split))
    log(f"  seed {seed}: teachers fitted in {teacher_seconds:.1f} s")
    students = make_students(fitted_teachers, average, seed, teacher_cache, grid,
                             ablate)
    fitted = {}
    for model_name, (student, reuses_teachers) in students.items():
        if models is not None and model_name not in models:
            continue
        fitted[model_name] = _fit_student(name, seed, model_name, student,
                                          reuses_teachers, teacher_seconds, split, rows,
                                          log)
    if ablate and "hpmkd" in fitted:
        for model_name, (student, reuses_teachers) in ablations(
                fitted["hpmkd"].config_, fitted_teachers, seed, teacher_cache).items():
            if not is_ablated(model_name, ablate):
                continue
            _fit_student(name, seed, model_name, student, reuses_teachers,
                         teacher_seconds, split, rows, log)
    _add_teacher_intervals(rows)
    if deepbridge:
        rows.append(deepbridge_row(name, seed, split))
        log(f"  seed {seed}: deepbridge {rows[-1]['note'] or rows[-1]['accuracy']}")
    return rows


def _fit_student(name, seed, model_name, student, reuses_teachers, teacher_seconds,
                 split, rows, log):
    """Fit one student row, append its measurements to ``rows``; return it fitted."""
    X_train, _, y_train, _, _ = split
    student, seconds = timed_fit(clone(student), X_train, y_train)
    seconds += teacher_seconds if reuses_teachers else 0.0
    rows.append(_row(name, seed, model_name, "student", student.predict_proba,
                     student, seconds, split))
    rows[-1]["note"] = _config_note(student)
    rows[-1]["valid_log_loss"] = shipped_valid_loss(student)
    rows[-1]["oof_best_teacher"] = oof_best_teacher(student)
    log(f"  seed {seed}: {model_name:<24} accuracy {rows[-1]['accuracy']:.4f}  "
        f"fit {seconds:.1f} s  {rows[-1]['note']}")
    return student


def oof_best_teacher(student):
    """The name of the teacher a user would deploy without looking at the test rows:
    the one with the lowest out-of-fold log-loss on the training rows (as the fit's
    teacher weighting measured it)."""
    names = list(student.named_teachers_)
    return names[student.teacher_weighting_.best_teacher_]


def shipped_valid_loss(student):
    """Validation log-loss of the student an HPM-KD fit ships: its members' average
    when members were grown, else the chosen chain's target network's (nan without
    validation rows). It is what a manual grid would compare its cells by."""
    kept = [member for member in student.members_ if member["kept"]]
    if kept:
        return float(kept[-1]["average_loss"])
    return next((float(step["valid_loss"]) for step in student.chain_
                 if step["role"] == "target" and step["length"] == student.chain_length_),
                float("nan"))


def _config_note(student):
    """The configuration HPM-KD chose, e.g. ``T=2 a=0.5 ple (search)``, how many
    students it averages (``x3``) and how many assistants its chain kept (``chain
    1``), and ``weak teachers`` where a linear model beat them (``alpha`` 0.9); empty
    for the static defaults, one student and no assistant."""
    note = (f"{describe_config(student.config_)} ({student.config_source_})"
            if student.config_source_ in ("search", "prior", "memory", "config") else "")
    parts = [note]
    lift = getattr(student, "teacher_lift_", None)
    if lift is not None and has_weak_teachers(lift):
        parts.append("weak teachers")
    members = getattr(student, "n_members_", 1)
    if members > 1:
        parts.append(f"x{members}")
    assistants = getattr(student, "chain_length_", 0)
    if assistants > 0:
        parts.append(f"chain {assistants}")
    return " ".join(parts).strip()


def deepbridge_row(dataset, seed, split):
    """DeepBridge's HPM-KD on the same split: its scores, or the error it raised."""
    X_train, X_test, y_train, y_test, n_classes = split
    result = run_deepbridge_hpmkd(X_train, y_train, X_test, y_test, seed=seed)
    row = {"dataset": dataset, "seed": seed, "model": "deepbridge", "kind": "external",
           "fit_seconds": result["fit_seconds"], "note": result["error"] or ""}
    if result["proba"] is not None:
        row.update(scores(result["proba"], y_test, n_classes))
        if result["predict_proba"] is not None:
            row.update(latencies(result["predict_proba"], X_test))
    elif not result["error"]:
        row["note"] = result["note"]
    return row


def run(datasets, seeds, *, split_seeds=(SPLIT_SEED,), ablate=False, grid=False,
        deepbridge=True, deepbridge_only=False, models=None, log=print,
        on_progress=None):
    """Rows for every dataset on every split; DeepBridge only when it is installed.
    ``models``: only these students (teachers are always fitted and reported).
    ``ablate``: True for every ablation row, or a set of component names (see
    ``models.is_ablated``). ``split_seeds``: the train/test splits' random states.

    ``on_progress(rows)`` is called with all rows so far after each seed of each
    dataset (to save partial results of a long run)."""
    deepbridge = deepbridge and deepbridge_available()
    if not deepbridge:
        log("deepbridge-distillation is not installed: its row is skipped "
            "(pip install deepbridge-distillation to compare)")
    rows = []
    for name, split_seed in itertools.product(datasets, split_seeds):
        # run_dataset calls on_seed before ``+=`` extends rows: rows are the earlier
        # datasets' there
        rows += run_dataset(
            name, seeds, split_seed=split_seed, ablate=ablate, grid=grid,
            deepbridge=deepbridge, deepbridge_only=deepbridge and deepbridge_only,
            models=models, log=log,
            on_seed=None if on_progress is None else
            lambda dataset_rows: on_progress(rows + dataset_rows))
    return rows


def machine_description():
    """CPU count, platform and package versions, for the results' header."""
    import os
    import platform

    import sklearn
    import skorch
    import torch
    import xgboost

    import skhpmkd

    return {"cpu_count": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "numpy": np.__version__,
            "scikit-learn": sklearn.__version__, "torch": torch.__version__,
            "skorch": skorch.__version__, "xgboost": xgboost.__version__,
            "skhpmkd": skhpmkd.__version__}
