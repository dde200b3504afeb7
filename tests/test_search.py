"""Budgeted search: successive halving."""

import numpy as np
import pytest

from skhpmkd.classifier import HPMKDClassifier
from skhpmkd.search import (
    ETA,
    MIN_RUNG_EPOCHS,
    MIN_RUNG_ROWS,
    rung_schedule,
    pretraining_rung,
    short_rung_rows_cap,
    successive_halving,
    warm_starts,
)


class FakeNet:
    def __init__(self, epochs):
        self.history = [None] * epochs


def fake_train(config, max_epochs, max_rows=None):
    """Loss falls with epochs; ``config["quality"]`` shifts it."""
    return FakeNet(max_epochs), config["quality"] + 1.0 / max_epochs


def test_rung_schedule():
    assert rung_schedule(6, 200) == [(6, 10, None), (2, 30, None), (1, 200, None)]
    assert rung_schedule(1, 200, 800) == [(1, 200, None)]
    assert rung_schedule(9, 40, 10 ** 5, min_rows=100) == [
        (9, 10, 100), (3, 30, 300), (1, 40, None)]
    assert rung_schedule(6, 200, 800) == [(6, 10, 800), (2, 30, 800), (1, 200, None)]


def test_short_rung_rows_cap():
    assert short_rung_rows_cap(6, 10 ** 5) == MIN_RUNG_ROWS * ETA  # rungs 6, 2, 1
    assert short_rung_rows_cap(6, 800) == 800
    assert short_rung_rows_cap(1, 10 ** 5) == 10 ** 5  # no short rung


def test_the_leak_free_search_labels_a_stratified_sample_as_large_as_its_rungs():
    """The search's own teacher stage fits on no more training rows than its
    longest short rung trains on, sampled per class."""
    y = np.repeat([0, 1, 2], [30000, 8000, 2000])
    train = np.arange(0, len(y), 2)
    candidates = [{}] * 6
    rows = HPMKDClassifier._search_rows(y, train, candidates, seed=0)
    assert abs(len(rows) - MIN_RUNG_ROWS * ETA) <= 1
    assert np.isin(rows, train).all() and len(np.unique(rows)) == len(rows)
    np.testing.assert_allclose(np.bincount(y[rows]) / len(rows),
                               np.bincount(y[train]) / len(train), atol=1e-3)
    small = train[:700]
    assert HPMKDClassifier._search_rows(y, small, candidates, seed=0) is small


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_successive_halving_keeps_the_best_and_trains_it_fully(n_jobs):
    candidates = [{"quality": q} for q in (0.5, 0.2, 0.9, 0.1, 0.7, 0.3)]
    best, net, records = successive_halving(candidates, fake_train, 200, n_jobs=n_jobs)
    assert best == 3 and len(net.history) == 200
    assert [r["rung"] for r in records] == [0] * 6 + [1] * 2 + [2]
    assert {r["candidate"] for r in records if r["rung"] == 1} == {3, 1}
    assert records[-1]["max_epochs"] == 200 and records[-1]["epochs"] == 200


def test_ties_keep_the_earlier_candidate():
    candidates = [{"quality": 0.2}, {"quality": 0.2}]
    assert successive_halving(candidates, fake_train, 50)[0] == 0


#: Per-row validation losses around zero mean, for the noise guard's tests.
NOISE = np.random.default_rng(0).normal(size=50)
NOISE -= NOISE.mean()
#: A favourite and a challenger whose lower loss is within the rows' noise.
CLOSE = [{"quality": 0.50, "spread": 1.0}, {"quality": 0.49, "spread": 1.3}]


def row_losses(net):
    return net.rows


def noisy_train(config, max_epochs, max_rows=None):
    """Per-row losses ``quality + NOISE * spread``."""
    net = FakeNet(max_epochs)
    net.rows = config["quality"] + NOISE * config["spread"]
    return net, float(net.rows.mean())


def test_the_best_ranked_candidate_stays_unless_beaten_beyond_noise():
    assert successive_halving(CLOSE, noisy_train, 30, row_losses=row_losses)[0] == 0
    assert successive_halving(CLOSE, noisy_train, 30)[0] == 1  # plain ranking: noise
    clear = [{"quality": 0.50, "spread": 1.0}, {"quality": 0.20, "spread": 1.0}]
    assert successive_halving(clear, noisy_train, 30, row_losses=row_losses)[0] == 1


def test_a_favourite_that_learned_nothing_loses_its_guard():
    """The close challenger wins where the favourite is on average no better than
    predicting the class shares (the baseline), and only there."""
    at_chance = np.full(50, 0.50)  # the favourite's mean loss
    assert successive_halving(CLOSE, noisy_train, 30, row_losses=row_losses,
                              baseline_losses=at_chance)[0] == 1
    # lower than the baseline on average, if not beyond noise: the guard holds
    other_noise = np.random.default_rng(1).normal(size=50)
    slightly_worse = 0.52 + other_noise - other_noise.mean()
    assert successive_halving(CLOSE, noisy_train, 30, row_losses=row_losses,
                              baseline_losses=slightly_worse)[0] == 0


def test_prior_row_losses_predict_the_training_class_shares():
    from skhpmkd.training import CrossValidatedTrainer, StudentTrainer

    def trainer(train_labels, valid_labels):
        targets = {"label": np.asarray(train_labels)}
        return StudentTrainer(None, {("mean", "off"): (None, targets)},
                              (None, {"label": np.asarray(valid_labels)}), 3, None,
                              10, "cpu", 0)

    one = trainer([0, 0, 1, 1, -1, -1], [0, 1, 2])  # synthetic rows (-1) do not count
    np.testing.assert_allclose(one.prior_row_losses(),
                               [np.log(2), np.log(2), -np.log(1e-12)])
    two = trainer([2, 2, 2, 0], [2])
    pooled = CrossValidatedTrainer([one, two]).prior_row_losses()
    np.testing.assert_allclose(pooled[-1], -np.log(0.75))
    assert len(pooled) == 4


def test_the_threshold_grows_with_the_number_of_challengers():
    from skhpmkd.ensemble import SIGNIFICANCE_Z
    from skhpmkd.search import challenger_z

    assert challenger_z(1) == pytest.approx(SIGNIFICANCE_Z)
    assert challenger_z(0) == pytest.approx(SIGNIFICANCE_Z)
    assert SIGNIFICANCE_Z < challenger_z(2) < challenger_z(5) < 3.0


def test_short_rungs_train_on_fewer_rows():
    seen = []

    def train(config, max_epochs, max_rows=None):
        seen.append(max_rows)
        return fake_train(config, max_epochs)

    candidates = [{"quality": q} for q in (0.5, 0.2, 0.9)]
    _, _, records = successive_halving(candidates, train, 50, n_rows=1000, min_rows=100)
    assert seen == [100, 100, 100, None]  # the last rung: every row
    assert [r["rows"] for r in records] == seen


def test_search_folds_pool_enough_disjoint_stratified_validation_rows():
    import numpy as np

    from skhpmkd.search import search_folds

    y = np.repeat([0, 1, 2], [150, 100, 50])
    folds = search_folds(y, 0.1, seed=0)  # 30 validation rows: as many folds as allowed
    assert len(folds) == 10
    held_out = np.concatenate([valid for _, valid in folds])
    assert len(np.unique(held_out)) == len(held_out) == len(y)
    for train, valid in folds:
        assert len(np.intersect1d(train, valid)) == 0 and len(train) + len(valid) == 300
        assert np.bincount(y[valid]).tolist() == [15, 10, 5]
    assert len(search_folds(y, 0.1, seed=0, min_rows=90)) == 3
    assert len(search_folds(y, 0.1, seed=0, n_folds=4)) == 4
    assert search_folds(y, 0.1, seed=0, n_folds=1) == []
    assert len(search_folds(y, 0.25, seed=0)) == 4  # never more folds than splits
    assert search_folds(np.repeat([0, 1], [9000, 1000]), 0.1, seed=0) == []
    assert len(search_folds(np.repeat([0, 1], [40, 3]), 0.1, seed=0)) == 3
    assert search_folds(np.repeat([0, 1], [40, 1]), 0.1, seed=0) == []
    same = search_folds(y, 0.1, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, same))


def test_split_for_scoring_halves_the_validation_rows_by_class():
    import numpy as np

    from skhpmkd.search import split_for_scoring

    y = np.repeat([0, 1, 2], [150, 100, 50])
    rows = np.arange(0, 300, 5)  # 30, 20 and 10 validation rows per class
    stop, score = split_for_scoring(rows, y, seed=0)
    assert sorted(np.concatenate([stop, score]).tolist()) == rows.tolist()
    assert np.bincount(y[stop]).tolist() == np.bincount(y[score]).tolist() == [15, 10, 5]
    again = split_for_scoring(rows, y, seed=0)
    assert np.array_equal(again[0], stop) and np.array_equal(again[1], score)
    assert split_for_scoring(np.array([0, 1, 150, 151, 299]), y, seed=0) is None


def test_the_last_rung_trains_with_final_train_and_is_not_row_scored():
    calls = []

    def fold_train(config, max_epochs, max_rows=None):
        calls.append(("folds", max_epochs))
        nets = (FakeNet(max_epochs), FakeNet(max_epochs - 1))
        return nets, config["quality"] + 1.0 / max_epochs

    def final_train(config, max_epochs, max_rows=None):
        calls.append(("final", max_epochs))
        return fake_train(config, max_epochs)

    def row_losses(nets):
        assert isinstance(nets, tuple)
        return [0.0, 0.0]

    candidates = [{"quality": q} for q in (0.5, 0.2, 0.9)]
    best, net, records = successive_halving(candidates, fold_train, 40,
                                            row_losses=row_losses,
                                            final_train=final_train)
    assert calls == [("folds", 10)] * 3 + [("final", 40)]
    assert [r["folds"] for r in records] == [2, 2, 2, 1]
    assert records[0]["epochs"] == 10 and len(net.history) == 40


def test_cross_validated_trainer_pools_the_folds_validation_rows():
    import numpy as np

    from skhpmkd.training import CrossValidatedTrainer

    class FoldTrainer:
        def __init__(self, losses):
            self.losses = np.asarray(losses)

        def __call__(self, config, max_epochs=None, max_rows=None):
            return FakeNet(max_epochs), float(self.losses.mean())

        def valid_row_losses(self, net):
            return self.losses

    trainer = CrossValidatedTrainer([FoldTrainer([1.0, 2.0, 3.0]), FoldTrainer([6.0])])
    nets, loss = trainer({}, max_epochs=5)
    assert len(nets) == 2 and loss == 3.0  # the rows' mean, not the folds'
    assert trainer.valid_row_losses(nets).tolist() == [1.0, 2.0, 3.0, 6.0]


def test_short_rungs_keep_the_labelled_rows_and_scale_the_synthetic_ones():
    import numpy as np

    from skhpmkd.training import short_rung_rows

    plain = np.zeros(100, dtype=int)
    augmented = np.concatenate([plain, np.full(900, -1)])
    rows_plain = short_rung_rows(plain, 20, seed=3)
    rows_augmented = short_rung_rows(augmented, 20, seed=3)
    # the same labelled rows for both, and a fifth of the synthetic ones
    assert np.array_equal(rows_augmented[:20], rows_plain) and len(rows_plain) == 20
    assert len(rows_augmented) == 20 + 180 and (rows_augmented[20:] >= 100).all()
    assert len(np.unique(rows_augmented)) == len(rows_augmented)
    # at most max_labelled labelled rows: everything, synthetic rows included
    assert short_rung_rows(augmented, 100, seed=3) is None


def test_once_the_favourite_is_out_the_challengers_rank_by_loss():
    import numpy as np

    def row_losses(net):
        return net.rows

    def train(config, max_epochs, max_rows=None):
        net = FakeNet(max_epochs)
        noise = np.random.default_rng(config["seed"]).normal(size=50)
        net.rows = config["quality"] + noise - noise.mean()
        return net, float(net.rows.mean())

    # the favourite (0) is clearly worst and leaves at the first rung; candidate 2 is
    # lower than 1 but not beyond noise: it wins, as the lower loss
    candidates = [{"quality": 5.0, "seed": 0}, {"quality": 0.50, "seed": 1},
                  {"quality": 0.45, "seed": 2}]
    best, _, records = successive_halving(candidates, train, 30, row_losses=row_losses,
                                          eta=2)
    assert {r["candidate"] for r in records if r["rung"] == 1} == {1, 2}
    assert best == 2


def test_a_warm_started_last_rung_goes_on_from_the_rung_before():
    """With ``warm_start`` the last rung gets the winner's network of the rung before
    as ``init``; the short rungs never get one, nor does the last rung without
    ``warm_start``."""
    calls = []

    def train(config, max_epochs, max_rows=None, init=None):
        net, loss = fake_train(config, max_epochs)
        net.config = config
        calls.append((max_epochs, None if init is None else init.config["quality"],
                      None if init is None else len(init.history)))
        return net, loss

    candidates = [{"quality": q} for q in (0.5, 0.2, 0.9, 0.1, 0.7, 0.3)]
    best, net, records = successive_halving(candidates, train, 200, warm_start=True)
    assert best == 3 and calls[-1] == (200, 0.1, 30)
    assert all(init is None for _, init, _ in calls[:-1])
    assert [r["warm_start"] for r in records] == [False] * 8 + [True]
    calls.clear()
    records = successive_halving(candidates, train, 200)[2]
    assert calls[-1] == (200, None, None) and not records[-1]["warm_start"]


def test_no_warm_start_from_one_network_per_fold():
    calls = []

    def fold_train(config, max_epochs, max_rows=None):
        return (FakeNet(max_epochs), FakeNet(max_epochs)), config["quality"]

    def final_train(config, max_epochs, max_rows=None, init=None):
        calls.append(init)
        return fake_train(config, max_epochs)

    candidates = [{"quality": q} for q in (0.5, 0.2, 0.9)]
    records = successive_halving(candidates, fold_train, 40, final_train=final_train,
                                 warm_start=True)[2]
    assert calls == [None] and not records[-1]["warm_start"]


def test_auto_warm_starts_only_where_the_rung_before_trained_on_a_sample():
    capped = rung_schedule(6, 200, 40000)  # rungs of 5,000 and 15,000 rows, then all
    uncapped = rung_schedule(6, 200, 800)
    assert warm_starts("auto", capped, 40000)
    assert not warm_starts("auto", uncapped, 800)
    assert warm_starts(True, uncapped, 800) and not warm_starts(False, capped, 40000)
    assert not warm_starts(True, rung_schedule(1, 200, 40000), 40000)  # one rung
    assert not warm_starts("auto", rung_schedule(6, 200), None)  # rows unknown


def test_a_lone_training_pretrains_on_the_second_rungs_sample_of_large_data():
    assert pretraining_rung(40000, 200) == (MIN_RUNG_EPOCHS * ETA, MIN_RUNG_ROWS * ETA)
    assert pretraining_rung(MIN_RUNG_ROWS * ETA, 200) is None  # it would see every row
    assert pretraining_rung(40000, MIN_RUNG_EPOCHS * ETA) is None  # as long as the whole
