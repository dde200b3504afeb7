"""Sample weights: from ``fit(X, y, sample_weight)`` to the teachers and every loss."""

import numpy as np
import pytest
import sklearn
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelEncoder, StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from conftest import fast_classifier
from skhpmkd import make_student
from skhpmkd.ensemble import TeacherWeighting, best_teacher
from skhpmkd.losses import distillation_loss
from skhpmkd.members import jensen_gap
from skhpmkd.memory import data_fingerprint
from skhpmkd.teachers import fit_teachers, sample_weight_param
from skhpmkd.training import distillation_targets


class WeightRecorder(ClassifierMixin, BaseEstimator):
    """A teacher that predicts the weighted class shares of its training rows and
    keeps the weights it was fitted with; ``fits`` counts the fits of all copies."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        WeightRecorder.fits += 1
        self.classes_ = np.unique(y)
        weights = np.ones(len(y)) if sample_weight is None else sample_weight
        self.seen_weights_ = np.asarray(weights, dtype=float)
        self.shares_ = np.array([weights[y == c].sum() for c in self.classes_])
        self.shares_ = self.shares_ / self.shares_.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self.shares_, (len(X), 1))


def test_weighted_loss_is_the_mean_of_weighted_row_losses():
    gen = torch.Generator().manual_seed(0)
    student, teacher_logits = torch.randn(6, 3, generator=gen), torch.randn(
        6, 2, 3, generator=gen)
    mixture = torch.full((6, 2), 0.5)
    labels = torch.tensor([0, 1, 2, -1, 1, 0])
    weights = torch.tensor([2.0, 0.0, 1.0, 1.0, 0.5, 1.5])
    loss = distillation_loss(student, teacher_logits, mixture, labels, temperature=2.0,
                             alpha=0.3, sample_weight=weights)
    targets = (torch.softmax(teacher_logits / 2.0, -1) * 0.5).sum(1)
    row_kl = (targets * (targets.log() - F.log_softmax(student / 2.0, -1))).sum(-1)
    labelled = labels >= 0
    row_ce = F.cross_entropy(student[labelled], labels[labelled], reduction="none")
    expected = (0.7 * 4.0 * (weights * row_kl).mean()
                + 0.3 * (weights[labelled] * row_ce).mean())
    torch.testing.assert_close(loss, expected)
    unweighted = distillation_loss(student, teacher_logits, mixture, labels,
                                   temperature=2.0, alpha=0.3)
    torch.testing.assert_close(unweighted, distillation_loss(
        student, teacher_logits, mixture, labels, temperature=2.0, alpha=0.3,
        sample_weight=torch.ones(6)))


def test_targets_scale_weights_to_mean_one_on_labelled_rows():
    proba = np.full((4, 1, 2), 0.5)
    targets = distillation_targets(np.array([0, 1, 1, -1]), proba, np.ones((4, 1)),
                                   np.array([1.0, 2.0, 3.0, 9.0]))
    np.testing.assert_allclose(targets["sample_weight"], [0.5, 1.0, 1.5, 1.0])
    assert "sample_weight" not in distillation_targets(
        np.array([0, 1]), proba[:2], np.ones((2, 1)))


def test_best_teacher_and_gate_losses_follow_the_weights():
    # teacher 0 is right on the first half of the rows, teacher 1 on the second
    label_proba = np.r_[np.tile([0.9, 0.3], (10, 1)), np.tile([0.2, 0.8], (10, 1))]
    first_half = np.r_[np.full(10, 5.0), np.full(10, 0.1)]
    assert best_teacher(label_proba) == 1
    assert best_teacher(label_proba, first_half) == 0
    # teacher 0 is right on class 0, teacher 1 on class 1, which has more rows
    y = np.r_[np.zeros(20, int), np.ones(40, int)]
    X = np.random.default_rng(0).normal(size=(60, 2))
    first_class = [np.where(y == 0, 0.9, 0.6), np.where(y == 0, 0.4, 0.1)]
    proba = np.stack([np.c_[p, 1 - p] for p in first_class], 1)
    unweighted = TeacherWeighting("best", random_state=0).fit(X, proba, y)
    weighted = TeacherWeighting("best", random_state=0).fit(
        X, proba, y, sample_weight=np.where(y == 0, 10.0, 1.0))
    assert (unweighted.best_teacher_, weighted.best_teacher_) == (1, 0)
    with pytest.raises(ValueError,
                       match=r"sample_weight.shape == \(5,\), expected \(60,\)"):
        TeacherWeighting().fit(X, proba, y, sample_weight=np.ones(5))


def test_weighted_jensen_gap_ignores_rows_of_weight_zero():
    probas = [np.array([[0.9, 0.1], [0.5, 0.5]]), np.array([[0.6, 0.4], [0.1, 0.9]])]
    labels = np.array([0, 1])
    assert jensen_gap(probas, labels, np.array([2.0, 0.0])) == pytest.approx(
        jensen_gap([p[:1] for p in probas], labels[:1]))


def test_fingerprint_tells_weights_apart_and_keeps_unweighted_data():
    X, y = np.ones((3, 2)), np.array([0, 1, 0])
    assert data_fingerprint(X, y) == data_fingerprint(X, y, None)
    assert data_fingerprint(X, y, np.ones(3)) != data_fingerprint(X, y)
    assert data_fingerprint(X, y, np.ones(3)) != data_fingerprint(X, y, np.r_[1, 1, 2.])


def test_teachers_get_the_weights_of_their_rows_and_pipelines_their_last_step():
    X, y = np.arange(20.0).reshape(10, 2), np.array([0, 1] * 5)
    weights = np.arange(1.0, 11.0)
    fitted, proba, _, _ = fit_teachers(
        [("rec", WeightRecorder())], X, y, label_encoder=LabelEncoder().fit(y),
        teacher_cv=2, seeds=np.array([0, 1]), sample_weight=weights)
    np.testing.assert_array_equal(fitted[0].seen_weights_, weights)
    # each row's out-of-fold output: the weighted shares of the other fold's rows
    assert not np.allclose(proba[:, 0, 1], 0.5)
    pipeline = make_pipeline(StandardScaler(), make_pipeline(LogisticRegression()))
    assert sample_weight_param(pipeline) == (
        "pipeline__logisticregression__sample_weight")
    assert sample_weight_param(make_pipeline(KNeighborsClassifier())) is None
    # a meta-estimator handing its fit parameters on takes its estimator's keyword
    assert sample_weight_param(GridSearchCV(pipeline, {})) == (
        "pipeline__logisticregression__sample_weight")
    assert sample_weight_param(GridSearchCV(KNeighborsClassifier(), {})) is None


def test_equal_weights_are_the_unweighted_fit(data3):
    X, y = data3
    unweighted = fast_classifier(memory=None).fit(X, y)
    equal = fast_classifier(memory=None).fit(X, y, sample_weight=np.full(len(y), 3.0))
    np.testing.assert_array_equal(unweighted.predict_proba(X), equal.predict_proba(X))


def test_weights_move_the_student_toward_heavy_rows(data3):
    X, y = data3
    heavy = np.where(y == 2, 20.0, 1.0)
    weighted = fast_classifier(memory=None).fit(X, y, sample_weight=heavy)
    unweighted = fast_classifier(memory=None).fit(X, y)
    assert (weighted.predict_proba(X)[:, 2].mean()
            > unweighted.predict_proba(X)[:, 2].mean() + 0.15)


def test_the_student_loss_weighs_rows_with_prefit_teachers(data3):
    # prefit teachers see no weights: only the weighting and the student do
    X, y = data3
    teachers = [(name, est.fit(X, y)) for name, est in fast_classifier().teachers]
    heavy = np.where(y == 2, 20.0, 1.0)
    proba = [fast_classifier(teachers=teachers, teacher_cv="prefit", memory=None).fit(
        X, y, sample_weight=weights).predict_proba(X)[:, 2].mean()
        for weights in (None, heavy)]
    assert proba[1] > proba[0] + 0.15


def test_search_members_and_pipeline_take_weights(data3):
    X, y = data3
    clf = fast_classifier(config="auto", search_budget=3, n_members=2, memory=None)
    pipe = make_pipeline(StandardScaler(), clf)
    pipe.fit(X, y, hpmkdclassifier__sample_weight=np.where(y == 0, 3.0, 1.0))
    assert len(clf.config_search_) > 0 and len(clf.members_) == 2
    assert pipe.score(X, y) > 0.8


def test_weights_with_metadata_routing_enabled(data3):
    X, y = data3
    weights = np.where(y == 0, 3.0, 1.0)
    scaled_lr = make_pipeline(StandardScaler(), LogisticRegression())
    with sklearn.config_context(enable_metadata_routing=True):
        clf = fast_classifier(teachers=[("lr", scaled_lr)], memory=None)
        clf.fit(X, y, sample_weight=weights)  # the teacher's own steps need no request
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False),
                             clf.set_fit_request(sample_weight=True))
        pipe.fit(X, y, sample_weight=weights)
    assert pipe.score(X, y) > 0.8


def test_weighted_fit_does_not_restore_the_unweighted_one(data3):
    X, y = data3
    fast_classifier().fit(X, y)
    weighted = fast_classifier().fit(X, y, sample_weight=np.where(y == 0, 3.0, 1.0))
    assert not weighted.restored_
    assert fast_classifier().fit(X, y).restored_


@pytest.mark.parametrize("weights, message", [
    (-np.ones(120), "Negative values"),
    (np.zeros(120), "at least one non-zero"),
    (np.ones(7), r"sample_weight.shape == \(7,\)"),
    (np.eye(120)[0], r"every training row of teacher fold \d weight zero \(1 of 120"),
])
def test_bad_weights_fail_before_any_teacher_fits(data3, weights, message):
    X, y = data3
    fits = WeightRecorder.fits
    with pytest.raises(ValueError, match=message):
        fast_classifier(teachers=[("rec", WeightRecorder())]).fit(
            X, y, sample_weight=weights)
    assert WeightRecorder.fits == fits


@pytest.mark.parametrize("params, instead", [
    ({"search_labels": "held_out", "search_budget": 2}, "the search ranks on shared"),
    ({"augment": None, "search_budget": 1}, "the augment trial judges on the valid"),
])
def test_a_rerun_of_the_teachers_that_the_weights_cannot_fit_falls_back(
        data3, params, instead):
    # the user's folds: one positive row in each of two test folds passes the check
    # of all rows; a rerun on rows without one of them leaves a fold at zero weight
    X, y = data3
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    weights = np.zeros(len(y))
    for fold, label in ((0, 0), (1, 1)):
        weights[folds[fold][1][y[folds[fold][1]] == label][0]] = 1.0
    with pytest.warns(UserWarning, match=f"rerun on .* could not fit: .*{instead}"):
        clf = fast_classifier(teachers=[("rec", WeightRecorder())], teacher_cv=folds,
                              config="auto", chain="off", **params).fit(
            X, y, sample_weight=weights)
    if "search_labels" in params:
        assert clf.search_labels_ == "shared"
    else:
        assert clf.augment_trial_["folds"] == 0  # judged on the validation split


class UnweightedLoss(torch.nn.Module):
    """A criterion of the user's own that knows nothing of sample weights."""

    def __init__(self, temperature=4.0, alpha=0.5):
        super().__init__()
        self.temperature, self.alpha = temperature, alpha

    def forward(self, student_logits, labels, teacher_logits, teacher_weights):
        return F.cross_entropy(student_logits, labels.clamp(min=0))


def test_a_criterion_without_sample_weight_fails_before_any_teacher_fits(data3):
    X, y = data3
    student = make_student(max_epochs=2, criterion=UnweightedLoss)
    fits = WeightRecorder.fits
    with pytest.raises(ValueError, match="criterion UnweightedLoss takes no "
                                         "sample_weight"):
        fast_classifier(teachers=[("rec", WeightRecorder())], student=student).fit(
            X, y, sample_weight=np.where(y == 0, 2.0, 1.0))
    assert WeightRecorder.fits == fits
    fast_classifier(student=student, memory=None).fit(X, y)  # unweighted: fine


def test_teacher_without_sample_weight_is_named(data3):
    X, y = data3
    fits = WeightRecorder.fits
    with pytest.raises(ValueError, match="'knn' .* does not take sample_weight"):
        fast_classifier(teachers=[("rec", WeightRecorder()),
                                  ("knn", KNeighborsClassifier())]).fit(
            X, y, sample_weight=np.where(y == 0, 2.0, 1.0))
    assert WeightRecorder.fits == fits
    # a prefit teacher is used as it is
    knn = KNeighborsClassifier().fit(X, y)
    fast_classifier(teachers=[("knn", knn)], teacher_cv="prefit").fit(
        X, y, sample_weight=np.where(y == 0, 2.0, 1.0))


def test_class_weight_multiplies_the_sample_weights(data3):
    X, y = data3
    weights = np.linspace(0.5, 2.0, len(y))
    by_class = fast_classifier(class_weight={2: 3.0}, memory=None).fit(
        X, y, sample_weight=weights)
    by_row = fast_classifier(memory=None).fit(
        X, y, sample_weight=weights * np.where(y == 2, 3.0, 1.0))
    np.testing.assert_array_equal(by_class.predict_proba(X), by_row.predict_proba(X))
    balanced = fast_classifier(class_weight="balanced", memory=None).fit(X[:100], y[:100])
    by_row = fast_classifier(memory=None).fit(
        X[:100], y[:100], sample_weight=compute_sample_weight("balanced", y[:100]))
    np.testing.assert_array_equal(balanced.predict_proba(X), by_row.predict_proba(X))
    # the prior sees the task the weights make: balanced classes
    assert balanced.meta_features_["imbalance"] == pytest.approx(1.0)


def test_bad_class_weight_fails_before_any_teacher_fits(data3):
    X, y = data3
    fits = WeightRecorder.fits
    for class_weight, error in [("bogus", ValueError), ({7: 2.0}, ValueError),
                                ({0: 0.0, 1: 0.0, 2: 0.0}, ValueError),
                                ({0: -0.5, 1: 1.0, 2: 1.0}, ValueError),
                                ({0: np.inf, 1: 1.0, 2: 1.0}, ValueError)]:
        with pytest.raises(error):
            fast_classifier(teachers=[("rec", WeightRecorder())],
                            class_weight=class_weight).fit(X, y)
    assert WeightRecorder.fits == fits
