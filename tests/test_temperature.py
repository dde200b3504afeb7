"""Temperature schedules: values on hand-made histories, validation, the callback."""

import math
import pickle

import numpy as np
import pytest
from skorch.history import History

from skhpmkd.student import make_student
from skhpmkd.temperature import (
    TEMPERATURE_SCHEDULES,
    TemperatureScheduler,
    check_schedule_params,
    epoch_gap,
    make_schedule,
    schedule_params,
)


def add_epoch(history, gaps, batch_size=10, with_validation=False):
    """Append one finished epoch whose training batches recorded ``gaps``."""
    history.new_epoch()
    for gap in gaps:
        history.new_batch()
        history.record_batch("train_loss", 0.5)
        history.record_batch("distill_kl", gap)
        history.record_batch("train_batch_size", batch_size)
    if with_validation:
        history.new_batch()
        history.record_batch("valid_loss", 9.0)
        history.record_batch("valid_batch_size", batch_size)


def temperatures(schedule, epoch_gaps):
    """Drive ``schedule`` as the callback does, one finished epoch of gaps at a time.

    Returns the temperature of each epoch: the first is asked for on the empty first
    epoch, each later one after the previous epoch's batches were recorded.
    """
    schedule.reset()
    history = History()
    values = []
    for gaps in epoch_gaps:
        history.new_epoch()
        values.append(schedule.next_temperature(history))
        for gap in gaps:
            history.new_batch()
            history.record_batch("distill_kl", gap)
            history.record_batch("train_batch_size", 10)
    return values


def test_epoch_gap_weights_by_batch_size_and_skips_validation():
    history = History()
    history.new_epoch()
    for gap, size in [(1.0, 30), (3.0, 10)]:
        history.new_batch()
        history.record_batch("distill_kl", gap)
        history.record_batch("train_batch_size", size)
    history.new_batch()
    history.record_batch("valid_loss", 100.0)
    history.record_batch("valid_batch_size", 50)
    assert epoch_gap(history[-1]) == pytest.approx(1.5)
    history.new_epoch()
    assert epoch_gap(history[-1]) is None


def test_constant_schedule():
    schedule = make_schedule("constant", 3.0)
    assert schedule.params == {}
    assert temperatures(schedule, [[1.0]] * 5) == [3.0] * 5


def test_annealed_schedule_is_cosine_monotone_and_reaches_final():
    schedule = make_schedule("annealed", 5.0, {"final": 1.0, "epochs": 4})
    assert schedule.params == {"final": 1.0, "epochs": 4}
    values = temperatures(schedule, [[1.0]] * 8)
    expected = [1.0 + 4.0 * 0.5 * (1 + math.cos(math.pi * e / 4)) for e in range(5)]
    assert values[:5] == pytest.approx(expected)
    assert values[0] == 5.0
    assert values[4:] == pytest.approx([1.0] * 4)
    assert all(later <= earlier for earlier, later in zip(values, values[1:]))


def test_annealed_defaults():
    schedule = make_schedule("annealed", 4.0)
    assert schedule.params == {"final": 1.0, "epochs": 30}
    values = temperatures(schedule, [[1.0]] * 32)
    assert values[0] == 4.0 and values[30] == pytest.approx(1.0)


def test_adaptive_lowers_only_after_patience_epochs_without_improvement():
    schedule = make_schedule("adaptive", 4.0, {"patience": 3, "factor": 0.5})
    assert schedule.params == {"patience": 3, "factor": 0.5, "tol": 0.01,
                               "t_min": 1.0, "t_max": 4.0}
    # epoch 0 sets the best gap; epochs 1-3 do not improve on it.
    values = temperatures(schedule, [[1.0]] * 6)
    assert values == [4.0, 4.0, 4.0, 4.0, 2.0, 2.0]


def test_adaptive_counts_an_improvement_below_tol_as_none():
    schedule = make_schedule("adaptive", 4.0, {"patience": 2, "tol": 0.1})
    # each epoch improves by 5%, less than the 10% tolerance
    gaps = [[0.95 ** e] for e in range(5)]
    values = temperatures(schedule, gaps)
    assert values[:3] == [4.0, 4.0, 4.0] and values[3] == pytest.approx(2.8)


def test_adaptive_keeps_temperature_while_the_gap_improves():
    schedule = make_schedule("adaptive", 4.0, {"patience": 1})
    gaps = [[1.0 / (e + 1)] for e in range(10)]
    assert temperatures(schedule, gaps) == [4.0] * 10


def test_adaptive_stays_within_bounds_and_never_rises():
    schedule = make_schedule("adaptive", 4.0, {"patience": 1, "factor": 0.5,
                                               "t_min": 1.5})
    values = temperatures(schedule, [[1.0]] * 12)
    assert max(values) == 4.0 and min(values) == 1.5
    assert all(1.5 <= value <= 4.0 for value in values)
    assert all(later <= earlier for earlier, later in zip(values, values[1:]))
    capped = make_schedule("adaptive", 4.0, {"t_max": 3.0})
    assert capped.next_temperature(History()) == 3.0


def test_adaptive_unchanged_without_distill_kl():
    schedule = make_schedule("adaptive", 4.0, {"patience": 1})
    history = History()
    values = []
    for _ in range(6):
        history.new_epoch()
        values.append(schedule.next_temperature(history))
        history.new_batch()
        history.record_batch("train_loss", 0.3)
        history.record_batch("train_batch_size", 10)
    assert values == [4.0] * 6


def test_adaptive_ignores_validation_batches_and_replays_after_reset():
    schedule = make_schedule("adaptive", 4.0, {"patience": 2, "factor": 0.5})
    history = History()
    for _ in range(5):
        add_epoch(history, [1.0, 1.0], with_validation=True)
    history.new_epoch()
    first = schedule.next_temperature(history)
    schedule.reset()
    assert schedule.next_temperature(history) == first == 2.0
    assert schedule.next_temperature(history) == first  # same history, same answer
    assert schedule.next_temperature(History()) == 4.0  # a fresh history starts over


@pytest.mark.parametrize("kind, temperature, params", [
    ("cyclic", 4.0, None),
    ("constant", 0.0, None),
    ("constant", -1.0, None),
    ("constant", float("nan"), None),
    ("constant", 4.0, {"final": 1.0}),
    ("annealed", 4.0, {"epochs": 0}),
    ("annealed", 4.0, {"epochs": 2.5}),
    ("annealed", 4.0, {"final": 0.0}),
    ("annealed", 4.0, {"speed": 1}),
    ("annealed", 4.0, [("epochs", 3)]),
    ("adaptive", 4.0, {"factor": 1.0}),
    ("adaptive", 4.0, {"factor": 0.0}),
    ("adaptive", 4.0, {"patience": 0}),
    ("adaptive", 4.0, {"patience": True}),
    ("adaptive", 4.0, {"tol": -0.1}),
    ("adaptive", 4.0, {"t_min": 0.0}),
    ("adaptive", 4.0, {"t_min": 3.0, "t_max": 2.0}),
])
def test_bad_kind_or_params_raise(kind, temperature, params):
    with pytest.raises(ValueError):
        make_schedule(kind, temperature, params)


def test_every_listed_kind_builds_and_pickles():
    history = History()
    history.new_epoch()
    for kind in TEMPERATURE_SCHEDULES:
        schedule = pickle.loads(pickle.dumps(make_schedule(kind, 2.0)))
        assert schedule.next_temperature(history) == 2.0


def distillation_data(n=64, seed=0):
    """Four features, two classes, one teacher: the student's dict target."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype(np.float32)
    labels = (X[:, 0] > 0).astype(np.int64)
    logits = np.stack([-2.0 * X[:, 0], 2.0 * X[:, 0]], axis=1).astype(np.float32)
    targets = {"label": labels, "teacher_logits": logits[:, None, :],
               "teacher_weights": np.ones((n, 1), dtype=np.float32)}
    return X, targets


def test_scheduler_drives_the_net_temperature():
    schedule = make_schedule("annealed", 4.0, {"epochs": 4})
    net = make_student(max_epochs=5, batch_size=32, module__n_features=4,
                       module__n_classes=2,
                       callbacks=[("temperature", TemperatureScheduler(schedule))])
    X, targets = distillation_data()
    net.fit(X, targets)

    recorded = net.history[:, "temperature"]
    replay = make_schedule("annealed", 4.0, {"epochs": 4})
    expected = temperatures(replay, [[1.0]] * 5)
    assert recorded == pytest.approx(expected)
    assert recorded[0] == 4.0 and recorded[-1] == pytest.approx(1.0)
    assert net.criterion_.temperature == pytest.approx(1.0)
    assert all(len(epoch["batches"]) == 2 and "distill_kl" in epoch["batches"][0]
               for epoch in net.history)

    restored = pickle.loads(pickle.dumps(net))
    callback = dict(restored.callbacks_)["temperature"]
    assert isinstance(callback, TemperatureScheduler)
    assert callback.schedule.params == {"final": 1.0, "epochs": 4}


def test_scheduler_temperature_reaches_the_loss():
    # The recorded gap is the KL at the criterion's temperature: with a fixed module,
    # a higher temperature flattens both distributions and shrinks the gap.
    X, targets = distillation_data()
    weights = make_student(module__n_features=4, module__n_classes=2,
                           module__dropout=0.0).initialize().module_.state_dict()
    gaps = {}
    for temperature in (1.0, 8.0):
        net = make_student(max_epochs=1, lr=0.0, batch_size=64, module__n_features=4,
                           module__n_classes=2, module__dropout=0.0,
                           callbacks=[("temperature", TemperatureScheduler(
                               make_schedule("constant", temperature)))])
        net.initialize()
        net.module_.load_state_dict(weights)
        net.partial_fit(X, targets)
        assert net.criterion_.temperature == temperature
        gaps[temperature] = net.history[-1, "batches", 0, "distill_kl"]
    assert gaps[8.0] < gaps[1.0]


def test_scheduler_pickles_and_restarts_its_schedule_on_each_fit():
    callback = TemperatureScheduler(make_schedule("adaptive", 4.0, {"patience": 1}))
    restored = pickle.loads(pickle.dumps(callback))
    assert restored.schedule.params == callback.schedule.params
    assert restored.get_params()["schedule"] is restored.schedule

    net = make_student(max_epochs=3, batch_size=32, module__n_features=4,
                       module__n_classes=2, callbacks=[("temperature", restored)])
    X, targets = distillation_data()
    first = net.fit(X, targets).history[:, "temperature"]
    assert net.fit(X, targets).history[0, "temperature"] == first[0] == 4.0


def test_an_explicit_t_min_above_the_start_is_its_own_ceiling():
    schedule = make_schedule("adaptive", 1.0, {"t_min": 2.0})
    assert schedule.params["t_max"] == 2.0 and schedule.next_temperature([{}]) == 2.0


@pytest.mark.parametrize("params, kind, temperature", [
    (None, None, None), ({}, "constant", None), ({"final": 0.5}, None, None),
    ({"final": 0.5, "patience": 2}, None, 4.0), ({"epochs": 4}, "annealed", 2.0),
])
def test_good_temperature_params_pass(params, kind, temperature):
    check_schedule_params(params, kind, temperature)


@pytest.mark.parametrize("params, kind, temperature, match", [
    ([("final", 0.5)], None, None, "must be a dict"),
    ({"final": 0.5}, "constant", None, "Unknown parameters"),
    ({"speed": 1}, None, None, "no temperature schedule takes"),
    ({"factor": 1.5, "final": 0.5}, None, None, "factor"),
    ({"t_max": 0.5}, "adaptive", None, "t_max"),  # below the default t_min, 1.0
    ({"t_min": 3.0}, "adaptive", 2.0, None),
])
def test_bad_temperature_params_name_the_parameter(params, kind, temperature, match):
    if match is None:  # a t_min above the start raises the default ceiling with it
        check_schedule_params(params, kind, temperature)
        return
    with pytest.raises(ValueError, match=f"temperature_params.*{match}|{match}"):
        check_schedule_params(params, kind, temperature)


def test_each_schedule_gets_the_params_it_takes():
    params = {"final": 0.5, "patience": 2}
    assert schedule_params("annealed", params) == {"final": 0.5}
    assert schedule_params("adaptive", params) == {"patience": 2}
    assert schedule_params("constant", params) == {}
    assert schedule_params("constant", None) is None
