"""Parallel pipeline: ordering, results order, thread limits."""

import os

import numpy as np
from joblib import parallel_config
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info

from skhpmkd.parallel import (
    Task,
    estimate_fit_cost,
    release_workers,
    run_tasks,
    threads_per_task,
)


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
    assert threads_per_task(2, n_tasks=1) is None
    assert threads_per_task(2, n_tasks=5) == threads_per_task(2)


def test_a_single_task_runs_here_on_every_core():
    (pid, limits), = run_tasks([Task(lambda: (os.getpid(), _thread_limits()))], n_jobs=2)
    assert pid == os.getpid() and limits == _thread_limits()


def test_workers_are_thread_limited_when_parallel():
    tasks = [Task(_thread_limits) for _ in range(2)]
    limit = threads_per_task(2)
    for limits in run_tasks(tasks, n_jobs=2):
        assert all(n <= limit for n in limits)


def test_threads_of_this_process_leave_its_thread_limits_as_they_were():
    # a limit set in one thread holds for the whole process: none is set there
    before = _thread_limits()
    with parallel_config(backend="threading"):
        for limits in run_tasks([Task(_thread_limits) for _ in range(4)], n_jobs=2):
            assert limits == before
    assert _thread_limits() == before


def test_idle_loky_workers_are_released_after_a_parallel_stage():
    def worker_pids():
        return set(run_tasks([Task(os.getpid) for _ in range(4)], n_jobs=2))

    first = worker_pids()
    assert os.getpid() not in first
    assert release_workers(2)
    assert not worker_pids() & first  # released: the next stage starts new ones
    assert not release_workers(1) and not release_workers(None)
    with parallel_config(backend="threading"):
        assert not release_workers(2)


def test_cost_model_orders_heavier_fits_first():
    small = estimate_fit_cost(LogisticRegression(), 100, 5, 2)
    forest = estimate_fit_cost(RandomForestClassifier(n_estimators=100), 100, 5, 2)
    bigger = estimate_fit_cost(RandomForestClassifier(n_estimators=100), 1000, 5, 2)
    assert small < forest < bigger


def test_known_costs_replace_the_model_only_when_every_task_was_measured():
    from skhpmkd.parallel import known_costs

    tasks = [Task(_echo, ("a",), cost=1.0, name="a"), Task(_echo, ("b",), cost=9.0,
                                                           name="b")]
    assert [t.cost for t in known_costs(tasks, {"a": 5.0, "b": 0.5})] == [5.0, 0.5]
    assert [t.cost for t in known_costs(tasks, {"a": 5.0})] == [1.0, 9.0]
    assert known_costs(tasks, None) is tasks
    results, seconds = run_tasks(tasks, n_jobs=1, return_seconds=True)
    assert results == ["a", "b"] and set(seconds) == {"a", "b"}


def test_a_fit_runs_on_a_local_dask_cluster(data3):
    distributed = __import__("pytest").importorskip("distributed")
    from conftest import fast_classifier

    X, y = data3
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, parallel_config(backend="dask"), \
            distributed.get_task_stream(client) as stream:
        clf = fast_classifier(n_jobs=2, memory=None).fit(X, y)
    assert stream.data  # the teacher fits ran as dask tasks (joblib batches them)
    local = fast_classifier(n_jobs=2, memory=None).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), local.predict_proba(X), atol=1e-6)


def test_hist_gradient_boosting_loads_before_torch():
    """torch puts its OpenMP runtime in the global symbol scope: scikit-learn's
    HistGradientBoosting extensions loaded after it run their histograms there while
    its losses (loaded earlier, e.g. by sklearn.neighbors) stay on scikit-learn's own
    runtime, and the two pools of spinning threads slowed it 3-5x. Importing skhpmkd
    must load them first, also after user code loaded scikit-learn's runtime (a fresh
    process: imports happen once)."""
    import subprocess
    import sys

    script = """
import sys
import sklearn.neighbors  # loads scikit-learn's OpenMP runtime, as user code may
import skhpmkd
names = list(sys.modules)
print(names.index("sklearn.ensemble._hist_gradient_boosting.histogram")
      < names.index("torch"))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                            text=True, timeout=120, check=True)
    assert result.stdout.split() == ["True"]
