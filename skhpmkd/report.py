"""Reports and plots of a fitted distillation: the student against its teachers.

:class:`DistillationReport` measures a fitted :class:`~skhpmkd.HPMKDClassifier` on rows
the user holds out: accuracy, log-loss, pickled size and prediction time of each teacher
and of the student, and how much of the best teacher's accuracy the student keeps. The
Display classes plot what a fit recorded, in the manner of scikit-learn's Displays
(``from_estimator`` computes, ``plot`` draws and keeps ``ax_`` and ``figure_``):
:class:`TrainingHistoryDisplay` the student's losses with its temperature per epoch,
:class:`TeacherWeightsDisplay` the per-sample teacher weights. matplotlib (the ``plot``
extra) is imported only when something is drawn.
"""

import importlib
import time

import numpy as np
from sklearn.metrics import log_loss
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, column_or_1d

from .sizes import pickled_nbytes
from .teachers import predict_teacher_proba, with_column_names

REPORT_COLUMNS = ("model", "role", "accuracy", "log_loss", "nbytes", "predict_seconds",
                  "row_seconds")
#: One-row prediction times are the fastest of this many calls per ``n_repeats``.
ONE_ROW_REPEATS = 10


def _best_of(n_repeats, predict):
    """``(result, seconds)``: what ``predict()`` returns and its fastest wall-clock time
    over ``n_repeats`` calls."""
    seconds = []
    for _ in range(n_repeats):
        start = time.perf_counter()
        result = predict()
        seconds.append(time.perf_counter() - start)
    return result, min(seconds)


def _scores(proba, codes, sample_weight=None):
    """Accuracy and log-loss of the class probabilities ``proba`` on the encoded
    labels ``codes`` (rows weighted by ``sample_weight``, if given)."""
    proba = proba / proba.sum(axis=1, keepdims=True, dtype=np.float64)
    correct = np.argmax(proba, axis=1) == codes
    return {"accuracy": float(np.average(correct, weights=sample_weight)),
            "log_loss": float(log_loss(codes, proba, labels=np.arange(proba.shape[1]),
                                       sample_weight=sample_weight))}


def _teacher_average(teachers, proba, codes, sample_weight=None):
    """The row of the teachers' plain average (probabilities ``proba``): their summed
    sizes and prediction times."""
    return {"model": "teacher average", "role": "ensemble",
            **_scores(proba, codes, sample_weight),
            **{key: sum(teacher[key] for teacher in teachers)
               for key in ("nbytes", "predict_seconds", "row_seconds")}}


def _label_codes(estimator, y, n_samples):
    """Positions of the labels ``y`` in ``estimator.classes_``; a ValueError names the
    labels the estimator never saw and a length that does not match ``X``."""
    y = column_or_1d(y, warn=True)
    if len(y) != n_samples:
        raise ValueError(f"X has {n_samples} rows but y has {len(y)} labels.")
    unknown = np.setdiff1d(y, estimator.classes_)
    if len(unknown):
        raise ValueError(f"y has labels the estimator was not fitted on: "
                         f"{unknown[:5].tolist()}; its classes are "
                         f"{estimator.classes_.tolist()}.")
    return np.searchsorted(estimator.classes_, y)


def _fitted_distiller(estimator, X=None):
    """``(distiller, X)``: the fitted HPMKDClassifier (``estimator``, or the last step
    of a fitted Pipeline, whose other steps then transform ``X``) and ``X``."""
    if hasattr(estimator, "steps"):
        check_is_fitted(estimator)
        X = None if X is None else estimator[:-1].transform(X)
        estimator = estimator[-1]
    check_is_fitted(estimator)
    if not hasattr(estimator, "without_teachers"):
        raise TypeError(f"Expected a fitted HPMKDClassifier (or a Pipeline ending in "
                        f"one), got {type(estimator).__name__}.")
    return estimator, X


def _optional(module, caller_name, install):
    """``module`` imported, or an ImportError saying that ``caller_name`` needs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{caller_name} requires {module.split('.')[0]}: "
                          f"pip install {install}") from error


def _plotting(caller_name, ax):
    """``(figure, ax)`` to draw on: ``ax`` and its figure, or a new one."""
    plt = _optional("matplotlib.pyplot", caller_name, "'skhpmkd[plot]'")

    if ax is None:
        _, ax = plt.subplots()
    return ax.figure, ax


class DistillationReport:
    """A fitted student against its teachers on held-out rows.

    Build it with :meth:`from_estimator`. ``print(report)`` shows the table;
    :meth:`to_frame` gives it as a pandas DataFrame and :meth:`plot` draws accuracy
    against size.

    Parameters
    ----------
    models : list of dict
        One row per teacher, then (with two or more teachers) their plain average,
        then the student: ``model`` (name), ``role`` ("teacher", "ensemble" or
        "student"), ``accuracy``, ``log_loss``, ``nbytes`` (pickled size),
        ``predict_seconds`` (``predict_proba`` on the report's rows) and
        ``row_seconds`` (on one row); the average's sizes and times are the
        teachers' summed.
    agreement : float
        Share of rows where the student predicts the best teacher's label.
    n_samples : int
        Rows the report was measured on.

    Attributes
    ----------
    best_teacher : dict
        The row of the most accurate teacher (the first of them on a tie).
    student : dict
        The student's row.
    retention : float
        ``student accuracy / best teacher accuracy``.
    compression_ratio : float
        All teachers' pickled bytes over the student's.
    speedup, row_speedup : float
        All teachers' prediction time over the student's, on the report's rows and
        on one row.
    ax_, figure_ : matplotlib Axes and Figure
        Where :meth:`plot` drew (set by it).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.model_selection import train_test_split
    >>> from skhpmkd import DistillationReport, HPMKDClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> clf = HPMKDClassifier(random_state=0).fit(X_train, y_train)  # doctest: +SKIP
    >>> print(DistillationReport.from_estimator(clf, X_test, y_test))  # doctest: +SKIP
    """

    def __init__(self, models, *, agreement, n_samples):
        self.models = [dict(row) for row in models]
        self.agreement = float(agreement)
        self.n_samples = int(n_samples)

    @classmethod
    def from_estimator(cls, estimator, X, y, *, sample_weight=None, n_repeats=3):
        """Measure a fitted :class:`~skhpmkd.HPMKDClassifier` on ``(X, y)``.

        Parameters
        ----------
        estimator : HPMKDClassifier or Pipeline
            A fitted estimator, or a fitted Pipeline ending in one (its other steps
            transform ``X``).
        X : array-like of shape (n_samples, n_features)
            Rows the estimator was not fitted on.
        y : array-like of shape (n_samples,)
            Their labels, among ``estimator.classes_``.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the accuracies, log-losses and the agreement (None:
            every row weighs 1).
        n_repeats : int, default=3
            Prediction times are the fastest of this many calls on all rows (of ten
            times as many on one row), in this process's threads.

        Returns
        -------
        DistillationReport
        """
        if int(n_repeats) < 1:
            raise ValueError(f"n_repeats must be at least 1, got {n_repeats}.")
        estimator, X = _fitted_distiller(estimator, X)
        estimator._check_teachers_kept("DistillationReport.from_estimator")
        X = estimator._validated_X(X)
        codes = _label_codes(estimator, y, len(X))
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
        n_classes = len(estimator.classes_)

        def measured(name, role, predict, nbytes):
            proba, seconds = _best_of(n_repeats, lambda: predict(X))
            _, row_seconds = _best_of(ONE_ROW_REPEATS * n_repeats,
                                      lambda: predict(X[:1]))
            return proba, {"model": name, "role": role,
                           **_scores(proba, codes, sample_weight),
                           "nbytes": int(nbytes), "predict_seconds": float(seconds),
                           "row_seconds": float(row_seconds)}

        teacher_probas, models = [], []
        for (name, teacher), class_codes in zip(estimator.named_teachers_.items(),
                                                estimator._teacher_class_codes):
            proba, model = measured(name, "teacher", lambda rows: predict_teacher_proba(
                [teacher], rows, [class_codes], n_classes)[:, 0], pickled_nbytes(teacher))
            teacher_probas.append(proba)
            models.append(model)
        if len(models) > 1:
            models.append(_teacher_average(models, np.mean(teacher_probas, axis=0),
                                           codes, sample_weight))
        proba, model = measured(
            "student", "student",
            lambda rows: estimator.predict_proba(with_column_names(rows, estimator)),
            estimator.student_nbytes_)
        models.append(model)
        best = int(np.argmax([model["accuracy"] for model in models
                              if model["role"] == "teacher"]))
        agreement = np.average(np.argmax(proba, axis=1)
                               == np.argmax(teacher_probas[best], axis=1),
                               weights=sample_weight)
        return cls(models, agreement=agreement, n_samples=len(codes))

    @property
    def teachers(self):
        """The teachers' rows."""
        return [model for model in self.models if model["role"] == "teacher"]

    @property
    def student(self):
        """The student's row."""
        return next(model for model in self.models if model["role"] == "student")

    @property
    def best_teacher(self):
        """The most accurate teacher's row (the first of them on a tie)."""
        return max(self.teachers, key=lambda model: model["accuracy"])

    @property
    def retention(self):
        """Student accuracy over the best teacher's (nan where no teacher was right
        on any row)."""
        best = self.best_teacher["accuracy"]
        return self.student["accuracy"] / best if best > 0 else float("nan")

    def _all_teachers_over_student(self, key):
        return (sum(model[key] for model in self.teachers)
                / max(self.student[key], 1e-12))

    @property
    def compression_ratio(self):
        """All teachers' pickled bytes over the student's."""
        return self._all_teachers_over_student("nbytes")

    @property
    def speedup(self):
        """All teachers' prediction time on the report's rows over the student's."""
        return self._all_teachers_over_student("predict_seconds")

    @property
    def row_speedup(self):
        """All teachers' prediction time on one row over the student's."""
        return self._all_teachers_over_student("row_seconds")

    def to_frame(self):
        """The table as a pandas DataFrame, one row per model.

        Returns
        -------
        pandas.DataFrame
        """
        pd = _optional("pandas", "DistillationReport.to_frame", "pandas")
        return pd.DataFrame(self.models, columns=list(REPORT_COLUMNS))

    def __str__(self):
        width = max(len("model"), *(len(model["model"]) for model in self.models))
        lines = [f"{'model':<{width}}  role      accuracy  log-loss  size (KiB)"
                 f"  ms (all rows)  ms (1 row)"]
        for model in self.models:
            lines.append(f"{model['model']:<{width}}  {model['role']:<8}  "
                         f"{model['accuracy']:8.4f}  {model['log_loss']:8.4f}  "
                         f"{model['nbytes'] / 1024:10.1f}  "
                         f"{1000 * model['predict_seconds']:13.2f}  "
                         f"{1000 * model['row_seconds']:10.3f}")
        lines.append(
            f"student against the best teacher ({self.best_teacher['model']}) on "
            f"{self.n_samples} rows: retention {100 * self.retention:.1f}%, "
            f"agreement {100 * self.agreement:.1f}%")
        lines.append(
            f"student against all teachers: {self.compression_ratio:.1f}x smaller, "
            f"{self.speedup:.1f}x faster on all rows, {self.row_speedup:.1f}x on one row")
        return "\n".join(lines)

    def __repr__(self):
        return (f"DistillationReport(retention={self.retention:.4f}, "
                f"agreement={self.agreement:.4f}, "
                f"compression_ratio={self.compression_ratio:.1f}, "
                f"n_samples={self.n_samples})")

    def plot(self, ax=None):
        """Accuracy against pickled size (log scale), one point per model: teachers
        as dots, their average as a square, the student as a star.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.

        Returns
        -------
        self
        """
        self.figure_, self.ax_ = _plotting("DistillationReport.plot", ax)
        markers = {"teacher": ("o", 50), "ensemble": ("s", 50), "student": ("*", 150)}
        for model in self.models:
            marker, size = markers[model["role"]]
            self.ax_.scatter(model["nbytes"] / 1024, model["accuracy"], marker=marker,
                             s=size)
            self.ax_.annotate(model["model"], (model["nbytes"] / 1024,
                                               model["accuracy"]),
                              textcoords="offset points", xytext=(5, 5))
        self.ax_.set_xscale("log")
        self.ax_.set_xlabel("pickled size (KiB)")
        self.ax_.set_ylabel("accuracy")
        self.ax_.set_title(f"retention {100 * self.retention:.1f}%, "
                           f"{self.compression_ratio:.1f}x smaller")
        return self


class TrainingHistoryDisplay:
    """The student's training and validation loss per epoch, with the distillation
    temperature of each epoch on a second axis.

    Build it with :meth:`from_estimator`, then :meth:`plot`. Where the student is an
    average of several trained students, the history is the first one's.

    Parameters
    ----------
    train_loss : ndarray of shape (n_epochs,)
    valid_loss : ndarray of shape (n_epochs,) or None
        None when the student trained without validation rows.
    temperature : ndarray of shape (n_epochs,) or None
        None when no temperature was recorded.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The losses' axis.
    ax_temperature_ : matplotlib Axes or None
        The temperature's axis (sharing ``ax_``'s epochs).
    figure_ : matplotlib Figure
    """

    def __init__(self, train_loss, valid_loss=None, temperature=None):
        self.train_loss = np.asarray(train_loss, dtype=float)
        self.valid_loss = None if valid_loss is None else np.asarray(valid_loss, float)
        self.temperature = None if temperature is None else np.asarray(temperature,
                                                                       float)

    @classmethod
    def from_estimator(cls, estimator):
        """The history of a fitted :class:`~skhpmkd.HPMKDClassifier`'s student.

        Parameters
        ----------
        estimator : HPMKDClassifier or Pipeline
            A fitted estimator, or a fitted Pipeline ending in one (its other steps
            transform ``X``).

        Returns
        -------
        TrainingHistoryDisplay
        """
        estimator, _ = _fitted_distiller(estimator)
        history = estimator.student_.history

        def column(key):
            values = [epoch.get(key) for epoch in history]
            return None if any(value is None for value in values) else values

        return cls(column("train_loss"), column("valid_loss"), column("temperature"))

    @property
    def epochs(self):
        """Epoch numbers, from 1."""
        return np.arange(1, len(self.train_loss) + 1)

    def plot(self, ax=None):
        """Draw the losses and the temperature.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.

        Returns
        -------
        self
        """
        self.figure_, self.ax_ = _plotting("TrainingHistoryDisplay.plot", ax)
        self.ax_.plot(self.epochs, self.train_loss, label="training (distillation) loss")
        if self.valid_loss is not None:
            self.ax_.plot(self.epochs, self.valid_loss, label="validation log-loss")
            lowest = int(np.argmin(self.valid_loss))
            self.ax_.axvline(self.epochs[lowest], color="grey", linestyle=":",
                             label="lowest validation loss")
        self.ax_.set_xlabel("epoch")
        self.ax_.set_ylabel("loss")
        self.ax_temperature_ = None
        if self.temperature is not None:
            self.ax_temperature_ = self.ax_.twinx()
            self.ax_temperature_.step(self.epochs, self.temperature, where="mid",
                                      color="black", alpha=0.5, label="temperature")
            self.ax_temperature_.set_ylabel("temperature")
            self.ax_temperature_.set_ylim(0, 1.1 * max(self.temperature.max(), 1))
        axes = [self.ax_] + [self.ax_temperature_] * (self.ax_temperature_ is not None)
        handles = [handle for axis in axes
                   for handle in axis.get_legend_handles_labels()[0]]
        self.ax_.legend(handles=handles, loc="upper right")
        return self


class TeacherWeightsDisplay:
    """How the fitted teacher weighting spreads per-sample weight over the teachers:
    one box of weights per teacher, the mean marked, uniform weight as a line.

    Build it with :meth:`from_estimator`, then :meth:`plot`.

    Parameters
    ----------
    weights : ndarray of shape (n_samples, n_teachers)
        Per-sample teacher weights (rows sum to 1).
    teacher_names : list of str

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, weights, teacher_names):
        self.weights = np.asarray(weights, dtype=float)
        self.teacher_names = list(teacher_names)
        if self.weights.ndim != 2 or self.weights.shape[1] != len(self.teacher_names):
            raise ValueError(f"weights must have one column per teacher "
                             f"({len(self.teacher_names)}), got shape "
                             f"{self.weights.shape}.")

    @classmethod
    def from_estimator(cls, estimator, X):
        """Per-sample weights a fitted :class:`~skhpmkd.HPMKDClassifier` gives to
        the teachers on ``X``.

        Parameters
        ----------
        estimator : HPMKDClassifier or Pipeline
            A fitted estimator, or a fitted Pipeline ending in one (its other steps
            transform ``X``).
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        TeacherWeightsDisplay
        """
        estimator, X = _fitted_distiller(estimator, X)
        return cls(estimator.teacher_weights(X), list(estimator.named_teachers_))

    def plot(self, ax=None):
        """Draw one box of weights per teacher.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.

        Returns
        -------
        self
        """
        self.figure_, self.ax_ = _plotting("TeacherWeightsDisplay.plot", ax)
        positions = np.arange(1, len(self.teacher_names) + 1)
        self.ax_.boxplot(self.weights, positions=positions, showmeans=True)
        self.ax_.set_xticks(positions, self.teacher_names)
        self.ax_.axhline(1 / len(self.teacher_names), color="grey", linestyle=":",
                         label="uniform")
        self.ax_.set_ylim(-0.02, 1.02)
        self.ax_.set_ylabel("per-sample teacher weight")
        self.ax_.legend(loc="upper right")
        return self
