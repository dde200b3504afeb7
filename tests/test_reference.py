"""The linear reference: teachers that know less than a logistic regression get
their soft labels weighted down (``weak_teachers``)."""

import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier

from skhpmkd.reference import (
    WEAK_TEACHER_ALPHA,
    WEAK_TEACHER_MARGIN,
    has_weak_teachers,
    teacher_lift,
)

from conftest import fast_classifier


def linear_task(n=400, seed=0):
    """A noisy linear class over ten columns: a logistic regression's ground."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 10))
    return X, (X @ rng.normal(size=10) + rng.normal(size=n) > 0).astype(int)


def xor_task(n=400, seed=0):
    """The class is the sign of x0 * x1: no linear model finds it, a tree does."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def one_hot(y, noise_rows=()):
    """Two teachers' outputs: both right, except on ``noise_rows`` where both err."""
    proba = np.eye(2)[y]
    proba[list(noise_rows)] = proba[list(noise_rows)][:, ::-1]
    return np.stack([proba, proba], axis=1)


def test_the_lift_is_the_best_teachers_accuracy_minus_the_references():
    X, y = linear_task()
    perfect = teacher_lift(X, y, one_hot(y), seed=0)
    assert 0 < perfect < 0.2  # the reference errs on a few rows, the teachers on none
    wrong = teacher_lift(X, y, one_hot(y, noise_rows=range(200)), seed=0)
    np.testing.assert_allclose(perfect - wrong, 0.5)  # half the rows flipped
    assert teacher_lift(X, y, one_hot(y), seed=0) == perfect  # the seed fixes folds
    one_right = one_hot(y)
    one_right[:, 1] = one_right[:, 1, ::-1]  # the second teacher always wrong
    assert teacher_lift(X, y, one_right, seed=0) == perfect  # the best one counts


def test_sample_weights_weigh_both_accuracies():
    X, y = linear_task()
    wrong_rows = np.arange(100)
    weight = np.ones(len(y))
    weight[wrong_rows] = 3.0  # the teachers' errors count three times
    plain = teacher_lift(X, y, one_hot(y, wrong_rows), seed=0)
    weighted = teacher_lift(X, y, one_hot(y, wrong_rows), seed=0,
                            sample_weight=weight)
    assert weighted < plain - 0.2


def test_weighted_lift_under_metadata_routing():
    # the reference fits as the teachers do: scikit-learn's metadata routing, which
    # a user may have switched on, would refuse a Pipeline's step__sample_weight
    import sklearn

    X, y = linear_task()
    weight = np.where(y == 0, 3.0, 1.0)
    plain = teacher_lift(X, y, one_hot(y), seed=0, sample_weight=weight)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = teacher_lift(X, y, one_hot(y), seed=0, sample_weight=weight)
    assert routed == plain


def test_a_class_of_one_row_gives_no_lift():
    X, y = linear_task(n=50)
    y[0] = 2
    assert np.isnan(teacher_lift(X, y, np.full((50, 2, 3), 1 / 3), seed=0))


@pytest.mark.parametrize("lift, weak", [(-0.5, True), (-WEAK_TEACHER_MARGIN, True),
                                        (-0.0099, False), (0.0, False), (0.3, False),
                                        (float("nan"), False)])
def test_teachers_are_weak_at_the_margin_or_below(lift, weak):
    assert has_weak_teachers(lift) is weak


def stump_classifier(**params):
    """The fast classifier with one depth-2 tree as teacher and the prior's first
    proposal (no search)."""
    params = {"config": "auto", "search_budget": 1, "memory": None, **params}
    return fast_classifier(teachers=[("stump", DecisionTreeClassifier(max_depth=2))],
                           **params)


def test_weak_teachers_give_the_labels_more_weight():
    X, y = linear_task()
    clf = stump_classifier().fit(X, y)
    assert clf.teacher_lift_ <= -WEAK_TEACHER_MARGIN
    assert clf.config_["alpha"] == WEAK_TEACHER_ALPHA
    off = stump_classifier(weak_teachers="off").fit(X, y)
    assert off.teacher_lift_ is None
    assert off.config_["alpha"] != WEAK_TEACHER_ALPHA  # the prior's own proposal
    assert {k: v for k, v in clf.config_.items() if k != "alpha"} == {
        k: v for k, v in off.config_.items() if k != "alpha"}


def test_strong_teachers_keep_the_managers_label_weight():
    X, y = xor_task()
    clf = stump_classifier().fit(X, y)
    assert clf.teacher_lift_ > 0.1  # the tree finds some of it, the reference none
    assert clf.config_ == stump_classifier(weak_teachers="off").fit(X, y).config_


@pytest.mark.parametrize("params", [{"alpha": 0.3}, {"config": "default"},
                                    {"teacher_cv": "in_sample"}])
def test_no_check_where_the_label_weight_is_not_the_managers(params):
    X, y = linear_task()
    clf = stump_classifier(**params).fit(X, y)
    assert clf.teacher_lift_ is None
    off = stump_classifier(weak_teachers="off", **params).fit(X, y)
    assert clf.config_ == off.config_
