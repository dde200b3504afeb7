"""Tests for skhpmkd.report: the distillation report and the plot Displays."""

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import fast_classifier, fast_teachers
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skhpmkd import (
    DistillationReport,
    HPMKDClassifier,
    TeacherWeightsDisplay,
    TrainingHistoryDisplay,
)
from skhpmkd.sizes import pickled_nbytes


@pytest.fixture(scope="module")
def fitted():
    """A fast classifier fitted on 90 rows of a 3-class problem with string labels,
    and its 60 held-out rows."""
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4,
                               n_redundant=0, n_classes=3, class_sep=2.0,
                               random_state=0)
    y = np.array(["ant", "bee", "cat"])[y]
    clf = fast_classifier(ensemble="attention", memory=None).fit(X[:90], y[:90])
    return clf, X[90:], y[90:]


@pytest.fixture
def pyplot():
    """matplotlib's pyplot on the Agg backend; figures closed afterwards."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_report_measures_each_teacher_and_the_student(fitted):
    clf, X, y = fitted
    report = DistillationReport.from_estimator(clf, X, y, n_repeats=1)
    assert [row["model"] for row in report.models] == ["tree", "lr", "teacher average",
                                                       "student"]
    assert [row["role"] for row in report.models] == ["teacher", "teacher", "ensemble",
                                                      "student"]
    for name, teacher in clf.named_teachers_.items():
        row = next(row for row in report.models if row["model"] == name)
        predicted = clf.classes_[teacher.predict(X)]
        assert row["accuracy"] == pytest.approx(accuracy_score(y, predicted))
        assert row["nbytes"] == pickled_nbytes(teacher)
        assert row["predict_seconds"] > 0 and row["row_seconds"] > 0
    average = np.mean([t.predict_proba(X) for t in clf.teachers_], axis=0)
    row = report.models[2]
    assert row["accuracy"] == pytest.approx(accuracy_score(
        y, clf.classes_[average.argmax(axis=1)]))
    assert row["log_loss"] == pytest.approx(log_loss(y, average), rel=1e-5)
    for key in ("nbytes", "predict_seconds", "row_seconds"):
        assert row[key] == pytest.approx(sum(t[key] for t in report.teachers))
    assert report.student["accuracy"] == pytest.approx(accuracy_score(y, clf.predict(X)))
    assert report.student["log_loss"] == pytest.approx(
        log_loss(y, clf.predict_proba(X), labels=clf.classes_), rel=1e-5)
    assert report.student["nbytes"] == clf.student_nbytes_


def test_weighted_report_matches_weighted_metrics(fitted):
    clf, X, y = fitted
    weights = np.linspace(0.0, 3.0, len(y))
    report = DistillationReport.from_estimator(clf, X, y, sample_weight=weights,
                                               n_repeats=1)
    assert report.student["accuracy"] == pytest.approx(
        accuracy_score(y, clf.predict(X), sample_weight=weights))
    assert report.student["log_loss"] == pytest.approx(log_loss(
        y, clf.predict_proba(X), labels=clf.classes_, sample_weight=weights), rel=1e-5)
    teacher = clf.named_teachers_["tree"]
    assert report.teachers[0]["accuracy"] == pytest.approx(accuracy_score(
        y, clf.classes_[teacher.predict(X)], sample_weight=weights))
    best = clf.classes_[clf.teachers_[report.models.index(report.best_teacher)]
                        .predict(X)]
    assert report.agreement == pytest.approx(np.average(best == clf.predict(X),
                                                        weights=weights))
    with pytest.raises(ValueError, match="Negative values"):
        DistillationReport.from_estimator(clf, X, y, sample_weight=-weights)


def test_report_summary_against_the_best_teacher(fitted):
    clf, X, y = fitted
    report = DistillationReport.from_estimator(clf, X, y, n_repeats=1)
    accuracies = {row["model"]: row["accuracy"] for row in report.teachers}
    best = max(accuracies, key=accuracies.get)
    assert report.best_teacher["model"] == best
    assert report.retention == pytest.approx(report.student["accuracy"]
                                             / accuracies[best])
    best_labels = clf.named_teachers_[best].predict(X)
    agreement = np.mean(clf.classes_[best_labels] == clf.predict(X))
    assert report.agreement == pytest.approx(agreement)
    teacher_bytes = sum(pickled_nbytes(t) for t in clf.teachers_)
    assert report.compression_ratio == pytest.approx(teacher_bytes
                                                     / clf.student_nbytes_)
    assert report.n_samples == len(X)
    assert report.speedup == pytest.approx(report.models[2]["predict_seconds"]
                                           / report.student["predict_seconds"])
    assert report.row_speedup == pytest.approx(report.models[2]["row_seconds"]
                                               / report.student["row_seconds"])


def test_report_with_one_teacher_has_no_average(data3):
    X, y = data3
    clf = fast_classifier(teachers=fast_teachers()[:1], memory=None).fit(X[:80], y[:80])
    report = DistillationReport.from_estimator(clf, X[80:], y[80:], n_repeats=1)
    assert [row["role"] for row in report.models] == ["teacher", "student"]
    assert report.compression_ratio == pytest.approx(
        pickled_nbytes(clf.teachers_[0]) / clf.student_nbytes_)


def test_report_where_every_teacher_misses_every_row(data3):
    X, y = data3
    clf = fast_classifier(teachers=fast_teachers()[:1], memory=None).fit(X, y)
    missed = (clf.teachers_[0].predict(X[:10]) + 1) % 3  # never the teacher's class
    report = DistillationReport.from_estimator(clf, X[:10], missed, n_repeats=1)
    assert report.best_teacher["accuracy"] == 0 and np.isnan(report.retention)
    assert "retention nan%" in str(report) and "retention=nan" in repr(report)


def test_report_text_and_frame(fitted):
    clf, X, y = fitted
    report = DistillationReport.from_estimator(clf, X, y, n_repeats=1)
    text = str(report)
    assert len(text.splitlines()) == len(report.models) + 3
    assert "retention" in text and "tree" in text and "student" in text
    assert repr(report).startswith("DistillationReport(retention=")
    pytest.importorskip("pandas")
    frame = report.to_frame()
    assert list(frame["model"]) == ["tree", "lr", "teacher average", "student"]
    assert list(frame.columns) == ["model", "role", "accuracy", "log_loss", "nbytes",
                                   "predict_seconds", "row_seconds"]


def test_report_on_named_columns_warns_of_nothing(data3):
    X, y = data3
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    clf = fast_classifier(memory=None).fit(frame[:80], y[:80])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = DistillationReport.from_estimator(clf, frame[80:], y[80:], n_repeats=1)
    assert report.student["accuracy"] == pytest.approx(clf.score(frame[80:], y[80:]))


def test_report_rejects_bad_input(fitted):
    clf, X, y = fitted
    with pytest.raises(ValueError, match="not fitted on"):
        DistillationReport.from_estimator(clf, X, np.where(y == "ant", "dog", y))
    with pytest.raises(ValueError, match="rows but y has"):
        DistillationReport.from_estimator(clf, X, y[:-1])
    with pytest.raises(ValueError, match="n_repeats"):
        DistillationReport.from_estimator(clf, X, y, n_repeats=0)
    with pytest.raises(ValueError, match="features"):
        DistillationReport.from_estimator(clf, X[:, :4], y)
    with pytest.raises(NotFittedError):
        DistillationReport.from_estimator(HPMKDClassifier(), X, y)


def test_report_on_a_pipeline_transforms_X(fitted):
    clf, X, y = fitted
    halve = FunctionTransformer(lambda X: X / 2).fit(X)
    pipe = make_pipeline(halve, clf)  # clf was fitted on rows as they come out ...
    report = DistillationReport.from_estimator(pipe, 2 * X, y, n_repeats=1)
    # ... so on 2 * X the pipeline's report is the classifier's on X
    assert report.student["accuracy"] == pytest.approx(clf.score(X, y))
    weights = TeacherWeightsDisplay.from_estimator(pipe, 2 * X).weights
    np.testing.assert_allclose(weights, clf.teacher_weights(X))
    with pytest.raises(TypeError, match="HPMKDClassifier"):
        DistillationReport.from_estimator(LogisticRegression().fit(X, y), X, y)


def test_report_plot_draws_one_point_per_model(fitted, pyplot):
    clf, X, y = fitted
    report = DistillationReport.from_estimator(clf, X, y, n_repeats=1).plot()
    assert len(report.ax_.collections) == len(report.models)
    assert report.ax_.get_xscale() == "log"
    assert report.figure_ is report.ax_.figure
    _, ax = pyplot.subplots()
    assert report.plot(ax=ax).ax_ is ax


def test_plots_need_matplotlib(fitted, monkeypatch):
    clf, X, y = fitted
    report = DistillationReport.from_estimator(clf, X, y, n_repeats=1)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"skhpmkd\[plot\]"):
        report.plot()


def test_training_history_display(fitted, pyplot):
    clf, _, _ = fitted
    display = TrainingHistoryDisplay.from_estimator(clf)
    history = clf.student_.history
    np.testing.assert_allclose(display.train_loss, history[:, "train_loss"])
    np.testing.assert_allclose(display.valid_loss, history[:, "valid_loss"])
    np.testing.assert_allclose(display.temperature, history[:, "temperature"])
    display.plot()
    assert len(display.ax_.get_lines()) == 3  # two losses, the lowest-loss epoch
    assert len(display.ax_temperature_.get_lines()) == 1
    np.testing.assert_array_equal(display.ax_.get_lines()[0].get_xdata(),
                                  np.arange(1, len(history) + 1))


def test_training_history_display_without_validation_or_temperature(pyplot):
    display = TrainingHistoryDisplay([1.0, 0.5, 0.4]).plot()
    assert display.ax_temperature_ is None
    assert len(display.ax_.get_lines()) == 1


def test_teacher_weights_display(fitted, pyplot):
    clf, X, _ = fitted
    display = TeacherWeightsDisplay.from_estimator(clf, X)
    assert display.weights.shape == (len(X), 2)
    np.testing.assert_allclose(display.weights.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(display.weights, clf.teacher_weights(X))
    display.plot()
    labels = [tick.get_text() for tick in display.ax_.get_xticklabels()]
    assert labels == ["tree", "lr"]
    with pytest.raises(ValueError, match="one column per teacher"):
        TeacherWeightsDisplay(display.weights, ["tree"])
