"""Tests for skhpmkd.progress and the verbose fit's progress bars."""

import pytest
from conftest import fast_classifier

from skhpmkd.parallel import Task, run_tasks
from skhpmkd.progress import expect, open_bar, progress_bar, tick, ticks_paused


def _ticking(value):
    """A task that counts itself (as a student training does) and returns value."""
    tick()
    return value


def test_disabled_bar_is_none_and_ticks_do_nothing():
    with progress_bar("work", "step", enabled=False) as bar:
        assert bar is None and open_bar() is None
        tick()
        expect(3)


def test_ticks_and_expected_total(capsys):
    with progress_bar("work", "step", sized=True) as bar:
        assert open_bar() is bar
        expect(3)
        tick()
        tick(2)
        with ticks_paused():
            tick()
        assert (bar.n, bar.total) == (3, 3)
    assert open_bar() is None
    assert "work: 100%" in capsys.readouterr().err


def test_nested_bars_restore_the_outer_one():
    with progress_bar("outer", "step") as outer:
        with progress_bar("inner", "step") as inner:
            tick()
        tick()
        assert (outer.n, inner.n) == (1, 1)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_run_tasks_counts_each_task_once(n_jobs):
    """Tasks that tick themselves in this process are paused; tasks in workers do
    not see the bar: either way one step per finished task."""
    tasks = [Task(_ticking, (i,), cost=i, name=str(i)) for i in range(5)]
    with progress_bar("tasks", "task") as bar:
        tick()  # work before the tasks
        assert run_tasks(tasks, n_jobs=n_jobs) == list(range(5))
        assert bar.n == 1 + len(tasks)


def test_verbose_levels_show_bars_from_2(data3, capsys):
    X, y = data3
    fast_classifier(memory=None, verbose=1).fit(X, y)
    captured = capsys.readouterr()
    assert "[HPMKD] fitting 2 teachers" in captured.out
    assert "teachers" not in captured.err and "epoch" not in captured.out
    fast_classifier(memory=None, verbose=2).fit(X, y)
    captured = capsys.readouterr()
    assert "teachers: 100%" in captured.err and "8/8" in captured.err  # 2 x (3 + 1)
    assert "student trainings: 1 " in captured.err
    assert "epoch" not in captured.out
    fast_classifier(memory=None, verbose=3).fit(X, y)
    assert "epoch" in capsys.readouterr().out
