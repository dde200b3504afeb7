"""Parallel pipeline: ordering, results order, thread limits."""

import os

from joblib import parallel_config
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

from skhpmkd.parallel import Task, estimate_fit_cost, run_tasks, threads_per_task


def _echo(value, log=None):
    if log is not None:
        log.append(value)
    return value


def _thread_limits():
    return [info["num_threads"] for info in threadpool_info()]


def test_results_keep_task_order_and_run_longest_first():
    log = []
    tasks = [Task(_echo, (name,), cost=cost, kwargs={"log": log})
             for name, cost in [("small", 1), ("big", 10), ("mid", 5)]]
    assert run_tasks(tasks, n_jobs=1) == ["small", "big", "mid"]
    assert log == ["big", "mid", "small"]


def test_threads_per_task():
    assert threads_per_task(1) is None
    assert threads_per_task(None) is None
    assert threads_per_task(2) == max(1, (os.cpu_count() or 1) // 2)
    with parallel_config(n_jobs=2):
        assert threads_per_task(None) == max(1, (os.cpu_count() or 1) // 2)


def test_workers_are_thread_limited_when_parallel():
    tasks = [Task(_thread_limits) for _ in range(2)]
    limit = threads_per_task(2)
    for limits in run_tasks(tasks, n_jobs=2):
        assert all(n <= limit for n in limits)


def test_cost_model_orders_heavier_fits_first():
    small = estimate_fit_cost(LogisticRegression(), 100, 5, 2)
    forest = estimate_fit_cost(RandomForestClassifier(n_estimators=100), 100, 5, 2)
    bigger = estimate_fit_cost(RandomForestClassifier(n_estimators=100), 1000, 5, 2)
    assert small < forest < bigger
