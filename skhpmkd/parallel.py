"""Parallel pipeline: joblib tasks run longest-first, with thread limits inside workers.

Work is a list of :class:`Task`. :func:`run_tasks` orders tasks by cost (longest
first, so the slowest task does not start last and leave cores idle): the seconds a
task took last time when the optimization memory knows them (:func:`known_costs`),
else a cost model (:func:`estimate_fit_cost`). It runs
them through :class:`joblib.Parallel`, whose backend the caller chooses with
``joblib.parallel_config`` (loky by default; ``"dask"`` or ``"ray"`` for a cluster).
When several tasks run at once each is limited to its share of the cores (BLAS, OpenMP
and the estimators' own ``n_jobs``), so ``n_jobs=2`` on 2 cores does not oversubscribe.
:func:`release_workers` stops idle loky workers before work runs in the calling process
(a single task, or the student's final training): left alive, they slowed it.
"""

import os
from dataclasses import dataclass, field, replace
from time import perf_counter
from typing import Any, Callable

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from joblib.externals.loky import get_reusable_executor
from joblib.parallel import LokyBackend, ThreadingBackend, get_active_backend
from threadpoolctl import threadpool_limits

from .progress import open_bar, ticks_paused


@dataclass
class Task:
    """One independent unit of work: ``func(*args)`` with an estimated cost."""

    func: Callable
    args: tuple = ()
    cost: float = 1.0
    name: str = ""
    kwargs: dict = field(default_factory=dict)


def threads_per_task(n_jobs, n_tasks=None):
    """CPU threads each concurrently running task may use, or None when tasks run alone
    (one job, or a single task: :func:`run_tasks` then runs it in this process)."""
    n_workers = effective_n_jobs(n_jobs)
    if n_tasks is not None:
        n_workers = min(n_workers, n_tasks)
    if n_workers <= 1:
        return None
    return max(1, (os.cpu_count() or 1) // n_workers)


def _run_limited(task, n_threads):
    """``(result, seconds)`` of one task, within its thread limit."""
    start = perf_counter()
    if n_threads is None:
        result = task.func(*task.args, **task.kwargs)
    else:
        with threadpool_limits(limits=n_threads):
            result = task.func(*task.args, **task.kwargs)
    return result, perf_counter() - start


def known_costs(tasks, seconds):
    """Tasks with their costs replaced by measured ``seconds`` (name -> seconds), when
    every task was measured before; else the tasks as they are (the cost model)."""
    if not seconds or any(task.name not in seconds for task in tasks):
        return tasks
    return [replace(task, cost=float(seconds[task.name])) for task in tasks]


def run_tasks(tasks, n_jobs=None, verbose=0, return_seconds=False):
    """Run tasks longest-first, in parallel; return results in the tasks' order.

    Parameters
    ----------
    tasks : list of Task
    n_jobs : int or None
        As in joblib: None means 1 unless inside a ``joblib.parallel_config`` context.
    verbose : int
        joblib's verbosity.
    return_seconds : bool
        Also return each task's wall-clock seconds, by task name.

    An open progress bar (:mod:`skhpmkd.progress`) advances once per finished task.

    Returns
    -------
    results : list
        ``results[i]`` is what ``tasks[i]`` returned.
    seconds : dict
        Task name -> seconds; only with ``return_seconds``.
    """
    order = np.argsort([-task.cost for task in tasks], kind="stable")
    n_threads = threads_per_task(n_jobs, len(tasks))
    if n_threads is None:  # nothing to run side by side: this process, all its cores
        release_workers(n_jobs)
        n_jobs = 1
    elif isinstance(get_active_backend()[0], ThreadingBackend):
        # threads of this process share its thread pools: a limit set in one task
        # would hold for all of them, and the last to leave would restore another's
        n_threads = None
    bar = open_bar()
    results: list[Any] = [None] * len(tasks)
    seconds = {}
    with ticks_paused():  # a task is counted once, when it finishes, here
        outputs = Parallel(n_jobs=n_jobs, verbose=verbose,
                           return_as="list" if bar is None else "generator")(
            delayed(_run_limited)(tasks[i], n_threads) for i in order)
        for position, (output, elapsed) in zip(order, outputs):
            results[position] = output
            seconds[tasks[position].name] = elapsed
            if bar is not None:
                bar.update(1)
    return (results, seconds) if return_seconds else results


def release_workers(n_jobs):
    """Shut down joblib's idle loky worker processes before work runs in this process.

    Left alive, idle workers slowed the calling process's own torch training about 2x
    on a 2-core benchmark machine; the next parallel stage starts new ones. Nothing
    happens for one job, for another backend (dask, ray, threads) or inside a worker
    (where joblib runs nested calls with threads).

    Returns
    -------
    bool
        Whether loky workers were shut down.
    """
    backend, _ = get_active_backend()
    if effective_n_jobs(n_jobs) <= 1 or not isinstance(backend, LokyBackend):
        return False
    get_reusable_executor().shutdown(wait=True)
    return True


def estimate_fit_cost(estimator, n_samples, n_features, n_classes):
    """Rough relative cost of fitting ``estimator``, used only to order tasks.

    Proportional to rows x log(rows) x features, times the number of trees or boosting
    rounds for tree ensembles (``n_estimators``, or ``max_iter`` of a booster), times
    the classes for boosters (one tree per class per round).
    """
    params = estimator.get_params(deep=True) if hasattr(estimator, "get_params") else {}
    is_booster = "learning_rate" in params
    rounds = params.get("n_estimators")
    if rounds is None and is_booster:
        rounds = params.get("max_iter")
    rounds = rounds if isinstance(rounds, (int, np.integer)) else 1
    per_class = n_classes if is_booster and n_classes > 2 else 1
    return float(n_samples * np.log2(n_samples + 1) * n_features * rounds * per_class)
