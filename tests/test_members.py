"""Member averaging: the averaging module, the Jensen-gap stop rule, the merge."""

import json

import numpy as np
import pytest
import torch

from skhpmkd.members import (
    LARGE_DATA_ROWS,
    MAX_MEMBERS,
    auto_member_count,
    grow_members,
    jensen_gap,
    members_within_budget,
    merge_members,
)
from skhpmkd.memory import decode_arrays, encode_arrays
from skhpmkd.student import MLPModule, fit_student, make_student, predict_proba_fast


def test_module_with_members_returns_the_log_of_their_averaged_probabilities():
    torch.manual_seed(0)
    module = MLPModule(4, 3, hidden_units=(8,), n_members=3).eval()
    X = torch.randn(10, 4)
    expected = torch.stack([torch.softmax(m(X), -1) for m in module.members]).mean(0)
    torch.testing.assert_close(torch.softmax(module(X), -1), expected)
    assert len(module.members) == 3 and module.encoding is None
    single = MLPModule(4, 3, hidden_units=(8,))
    assert single.members is None
    assert sum(p.numel() for p in module.parameters()) == 3 * sum(
        p.numel() for p in single.parameters())


def test_jensen_gap_is_zero_for_identical_members_and_positive_for_diverse_ones():
    labels = np.array([0, 1, 1, 0])
    p = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.9, 0.1]])
    average, gap = jensen_gap([p, p], labels)
    assert gap == pytest.approx(0.0, abs=1e-12)
    assert average == pytest.approx(-np.mean(np.log([0.8, 0.7, 0.4, 0.9])))
    q = p[:, ::-1] * 0.5 + p * 0.5
    average, gap = jensen_gap([p, p[:, ::-1]], labels)
    assert gap > 0 and average == pytest.approx(jensen_gap([q], labels)[0])


def test_members_within_budget():
    assert members_within_budget(100, None) == MAX_MEMBERS
    assert members_within_budget(100, 250) == 2
    assert members_within_budget(100, 50) == 1
    assert members_within_budget(100, 10_000) == MAX_MEMBERS
    assert members_within_budget(100, 10_000, max_members=3) == 3


def test_auto_member_count_tries_no_second_member_on_large_data():
    assert auto_member_count(100, None, LARGE_DATA_ROWS - 1) == MAX_MEMBERS
    assert auto_member_count(100, 250, LARGE_DATA_ROWS - 1) == 2
    assert auto_member_count(100, None, LARGE_DATA_ROWS) == 1
    assert auto_member_count(100, 250, 10 * LARGE_DATA_ROWS) == 1


class FakeMembers:
    """Stands in for member training: each 'net' is its validation probabilities."""

    def __init__(self, probas):
        self.probas = probas
        self.offsets = []

    def __call__(self, offset):
        self.offsets.append(offset)
        return self.probas[offset], 0.5


LABELS = np.array([0, 1, 0, 1])


def test_members_stop_when_the_jensen_gap_stops_widening():
    same = np.array([[0.7, 0.3], [0.4, 0.6], [0.6, 0.4], [0.2, 0.8]])
    train = FakeMembers([same] * 4)
    nets, members = grow_members(train, (same, 0.4, 1.0), lambda net: net, LABELS,
                                 n_members=4, min_gain=0.002)
    assert len(nets) == 1 and train.offsets == [1]
    assert [m.kept for m in members] == [True, False]
    assert members[1].jensen_gap == pytest.approx(0.0, abs=1e-9)


def test_members_are_kept_while_they_disagree():
    a = np.array([[0.9, 0.1], [0.6, 0.4], [0.6, 0.4], [0.3, 0.7]])
    b = np.array([[0.5, 0.5], [0.2, 0.8], [0.9, 0.1], [0.5, 0.5]])
    train = FakeMembers([a, b, a])
    nets, members = grow_members(train, (a, 0.4, 1.0), lambda net: net, LABELS,
                                 n_members=3, min_gain=0.002)
    # b widens the gap; a third copy of a narrows it again and is dropped
    assert [m.kept for m in members] == [True, True, False]
    assert len(nets) == 2 and members[1].jensen_gap > 0.002
    kept_all, _ = grow_members(FakeMembers([a, b, a]), (a, 0.4, 1.0), lambda net: net,
                               LABELS, n_members=3, min_gain=None)
    assert len(kept_all) == 3


def test_members_without_validation_rows_are_all_kept():
    train = FakeMembers([None] * 3)
    nets, members = grow_members(train, ("first", float("nan"), 1.0), None, None,
                                 n_members=3, min_gain=None)
    assert len(nets) == 3 and np.isnan(members[0].average_loss)


def test_merged_members_predict_their_average_and_leave_the_rng_alone():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    labels = (X[:, 0] > 0).astype(np.int64)
    targets = {"label": labels, "teacher_logits": np.zeros((60, 1, 2), np.float32),
               "teacher_weights": np.ones((60, 1), np.float32)}
    template = make_student(max_epochs=3, module__hidden_units=(8,))
    nets = [fit_student(template, X, targets, temperature=2.0, alpha=0.5, seed=seed)[0]
            for seed in range(3)]
    probas = [predict_proba_fast(net.module_, X) for net in nets]
    state = torch.get_rng_state()
    merged = merge_members(nets)
    assert torch.equal(state, torch.get_rng_state())
    assert len(merged.module_.members) == 3
    np.testing.assert_allclose(predict_proba_fast(merged.module_, X),
                               np.mean(probas, axis=0), atol=1e-6)
    assert merge_members(nets[:1]) is nets[0]


def test_networks_with_their_own_encodings_merge_into_their_average():
    from skhpmkd.student import quantile_bin_edges, restore_student, student_snapshot

    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    labels = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    targets = {"label": labels, "teacher_logits": np.zeros((80, 1, 2), np.float32),
               "teacher_weights": np.ones((80, 1), np.float32)}
    template = make_student(max_epochs=3)
    # encodings learned on different rows, and another width: as the augment
    # trial's fold students differ from the shipped one
    plans = [{"hidden_units": (8,), "bin_edges": quantile_bin_edges(X[:60])},
             {"hidden_units": (8,), "bin_edges": quantile_bin_edges(X[20:])},
             {"hidden_units": (6,), "bin_edges": quantile_bin_edges(X[:60])}]
    nets = [fit_student(template, X, targets, module_params=plan, temperature=2.0,
                        alpha=0.5, seed=seed)[0] for seed, plan in enumerate(plans)]
    probas = [predict_proba_fast(net.module_, X) for net in nets]
    pair = merge_members(nets[:2])
    merged = merge_members([pair, nets[2]])  # an average joined by one more network
    assert len(merged.module_.members) == 3
    own = merged.get_params()["module__member_params"]
    assert own[0] == {} and list(own[1]) == ["bin_edges"]
    assert list(own[2]) == ["hidden_units"]
    np.testing.assert_allclose(predict_proba_fast(merged.module_, X),
                               np.mean(probas, axis=0), atol=1e-6)
    # as the memory stores it: JSON, where tuples come back as lists
    stored = json.loads(json.dumps(encode_arrays(student_snapshot(merged))))
    restored = restore_student(template, decode_arrays(stored), "cpu")
    np.testing.assert_array_equal(predict_proba_fast(restored.module_, X),
                                  predict_proba_fast(merged.module_, X))
    assert restored.get_params()["module__member_params"][2]["hidden_units"] == (6,)
    assert restored.get_params()["module__hidden_units"] == (8,)


def test_member_params_must_name_every_member():
    with pytest.raises(ValueError, match="member_params has 1 entries, n_members is 2"):
        MLPModule(3, 2, n_members=2, member_params=[{}])
