"""Column offsets: the student's float32 input keeps the levels of columns whose
spread is far below their magnitude, and its scaling holds for columns in any unit."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skhpmkd.offsets import column_offsets, column_std, student_input, teacher_input
from skhpmkd.teachers import predict_teacher_proba, proba_to_logits
from skhpmkd.training import transfer_key
from skhpmkd.transfer import TransferData

from conftest import fast_classifier

#: Far beyond float32's resolution: 1e10's neighbours in float32 are 1,024 apart.
MAGNITUDE = 1e10


def timestamp_task(n=240, seed=0):
    """Column 0 is ``MAGNITUDE`` plus a time in [0, 300) whose half decides the
    class; column 1 is noise."""
    rng = np.random.RandomState(seed)
    t = rng.uniform(0, 300, n)
    X = np.column_stack([MAGNITUDE + t, rng.normal(size=n)])
    return X, (t > 150).astype(int)


def scaled_logistic():
    """A teacher that learns the time in float64 (trees cast X to float32)."""
    return make_pipeline(StandardScaler(), LogisticRegression())


def test_ordinary_columns_get_no_offsets():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.normal(size=200), rng.randint(1990, 2021, 200),
                         rng.uniform(0, 1e6, 200), np.full(200, 0.1),
                         1e3 + rng.normal(size=200)])
    assert column_offsets(X) is None
    assert column_offsets(X.astype(np.float32)) is None  # its levels are already cast
    np.testing.assert_array_equal(student_input(X, None), X.astype(np.float32))


def test_a_column_that_float32_would_flatten_is_offset_by_its_median():
    X, _ = timestamp_task()
    offsets = column_offsets(X)
    np.testing.assert_array_equal(offsets, [np.median(X[:, 0]), 0.0])
    assert len(np.unique(X[:, 0].astype(np.float32))) <= 2
    shifted = student_input(X, offsets)
    assert shifted.dtype == np.float32
    assert len(np.unique(shifted[:, 0])) == len(X)
    np.testing.assert_allclose(shifted[:, 0], X[:, 0] - offsets[0], atol=1e-4)
    np.testing.assert_array_equal(shifted[:, 1], X[:, 1].astype(np.float32))
    back = teacher_input(shifted, offsets)
    assert back.dtype == np.float64
    np.testing.assert_allclose(back, X, rtol=0, atol=1e-4)


def test_teachers_label_synthetic_rows_with_the_offsets_added_back():
    X, y = timestamp_task()
    offsets = column_offsets(X)
    fitted, codes = [scaled_logistic().fit(X, y)], [np.arange(2)]
    data = TransferData(student_input(X, offsets), predict_teacher_proba(
        fitted, X, codes, 2), y, (fitted, codes), 2, seed=0, offsets=offsets)
    config = {"ensemble": "mean", "augment": 1.0}
    rows = np.arange(len(X))
    sets = data.transfer_sets(data.weightings([config], rows, seed=0), [config], rows)
    X_set, targets = sets[transfer_key(config)]
    synthetic, logits = X_set[len(X):], targets["teacher_logits"][len(X):]
    assert len(synthetic) == len(X)
    np.testing.assert_array_equal(logits, proba_to_logits(predict_teacher_proba(
        fitted, synthetic.astype(np.float64) + offsets, codes, 2)))
    # the teacher read the synthetic rows' times: its labels follow them
    times = synthetic[:, 0] + (offsets[0] - MAGNITUDE)
    assert np.mean(logits[:, 0].argmax(axis=1) == (times > 150)) > 0.9


def test_the_student_learns_a_column_that_float32_would_flatten():
    X, y = timestamp_task()
    X_test, y_test = timestamp_task(seed=1)
    clf = fast_classifier(teachers=[("lr", scaled_logistic())], memory=None,
                          teacher_cv=2).fit(X, y)
    assert clf.student_offsets_[0] == np.median(X[:, 0])
    assert clf.score(X_test, y_test) > 0.9  # 0.5 without the offsets: one level
    proba = clf.predict_proba(X_test)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X_test),
                                  proba)
    np.testing.assert_array_equal(clf.without_teachers().predict_proba(X_test), proba)
    weights = clf.teacher_weights(X_test)
    np.testing.assert_allclose(weights.sum(axis=1), 1, rtol=1e-6)


class HalfTimeTeacher(ClassifierMixin, BaseEstimator):
    """Right (0.8 on the class ``x1 > 0``) in one half of :func:`timestamp_task`'s
    time and as confidently wrong in the other: only the time tells where."""

    def __init__(self, first_half=True):
        self.first_half = first_half

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        X = np.asarray(X, dtype=np.float64)
        truth = (X[:, 1] > 0).astype(int)
        right = (X[:, 0] - MAGNITUDE < 150) == self.first_half
        proba = np.full((len(X), 2), 0.2)
        proba[np.arange(len(X)), np.where(right, truth, 1 - truth)] = 0.8
        return proba


def test_the_attention_gate_reads_an_offset_column():
    """The two teachers are alike in confidence and always disagree, so the gate can
    tell whom to trust only from the time column, which float32 alone cuts to two
    levels (first-teacher weights 0.74 and 0.27 by half then, 0.94 and 0.05 with the
    offsets)."""
    def task(seed):
        X, _ = timestamp_task(n=600, seed=seed)
        return X, (X[:, 1] > 0).astype(int)

    X, y = task(0)
    clf = fast_classifier(teachers=[("first", HalfTimeTeacher(True)),
                                    ("second", HalfTimeTeacher(False))],
                          ensemble="attention", memory=None, teacher_cv=2).fit(X, y)
    assert clf.teacher_weighting_.method_ == "attention"
    X_new, _ = task(1)
    weights = clf.teacher_weights(X_new)
    first = X_new[:, 0] - MAGNITUDE < 150
    assert weights[first, 0].mean() > 0.8
    assert weights[~first, 0].mean() < 0.2


def test_column_std_computes_in_float64_where_float32_squares_leave_its_range():
    X = np.array([[1e30, 1e-30, 1.0], [-1e30, 3e-30, 3.0], [3e30, 2e-30, 2.0]],
                 dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        scale = column_std(X)
    assert scale.dtype == np.float32
    np.testing.assert_allclose(scale, X.astype(np.float64).std(axis=0), rtol=1e-6)
    np.testing.assert_array_equal(scale[2], X[:, 2].std())  # its own precision


@pytest.mark.parametrize("settings", [
    {"numeric_embedding": "ple"}, {"numeric_embedding": "none"},
    {"numeric_embedding": "periodic"}, {"ensemble": "attention"}, {"augment": "auto"}])
def test_the_student_does_not_depend_on_the_columns_units(settings):
    """Columns in units of 1e-30 or 1e30 train the same student as in units of 1,
    with teachers that are free of units too: the encodings' spreads had been floored
    at 1e-12 (a student at chance on 1e-30 units) and the gate's and augmentation's
    float32 standard deviations overflowed beyond 1.8e19."""
    X, y = make_classification(160, 4, n_informative=3, n_redundant=0, random_state=0)
    X_new = make_classification(40, 4, n_informative=3, n_redundant=0,
                                random_state=1)[0]
    probas = []
    for scale in (1.0, 1e-30, 1e30):
        clf = fast_classifier(teachers=[("nb", GaussianNB()),
                                        ("knn", KNeighborsClassifier())],
                              memory=None, **settings)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            clf.fit(X * scale, y)
        probas.append(clf.predict_proba(X_new * scale))
    assert probas[0].max(axis=1).mean() > 0.6  # it learned something to compare
    np.testing.assert_allclose(probas[1], probas[0], atol=1e-5)
    np.testing.assert_allclose(probas[2], probas[0], atol=1e-5)
