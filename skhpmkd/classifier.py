"""HPMKDClassifier: parameters, validation, fit orchestration and fast prediction."""

import logging
from numbers import Integral, Real
from time import perf_counter

import numpy as np
import torch
from sklearn.base import ClassifierMixin, _fit_context, clone
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping
from skorch.dataset import Dataset
from skorch.helper import predefined_split

from .sizes import count_parameters, count_tree_nodes, pickled_nbytes
from .student import (
    DistillationNet,
    MLPModule,
    default_hidden_units,
    make_student,
    predict_proba_fast,
    resolve_device,
)
from .teachers import (
    DEFAULT_TEACHER_NAMES,
    default_teachers,
    fit_teachers,
    proba_to_logits,
    validate_teachers,
)

logger = logging.getLogger("skhpmkd")


def _silent(*_):
    """Message sink that drops skorch's early-stopping notice."""


def _rows(targets, index):
    """The rows ``index`` of a dict of arrays."""
    return {key: value[index] for key, value in targets.items()}


class HPMKDClassifier(ClassifierMixin, _BaseComposition):
    """Distil tabular teacher ensembles into a small torch student (HPM-KD).

    Teachers are fitted (or taken prefit); their out-of-fold probabilities on the
    training rows become soft targets, and a skorch MLP student learns them with a
    temperature-scaled KL term plus a cross-entropy term on the labels. Predictions
    come from the student alone, through a lean torch forward pass.

    Parameters
    ----------
    teachers : list of (str, estimator), default=None
        Named probabilistic classifiers, as in ``VotingClassifier``; their parameters
        are reachable as ``<name>__<param>``. None means XGBoost, HistGradientBoosting
        and RandomForest, named ``"xgb"``, ``"hgb"`` and ``"rf"``.
    teacher_cv : int, cross-validation splitter, iterable or "prefit", default=5
        How the teachers' soft labels on the training rows are made. An int ``k``:
        stratified ``k``-fold out-of-fold probabilities (each row labelled by models
        that did not see it), then each teacher is refit on all rows. ``"prefit"``:
        the teachers are already fitted and used as they are (in-sample soft labels).
        A teacher wrapped in ``sklearn.frozen.FrozenEstimator`` is treated as prefit.
    student : DistillationNet, default=None
        Template for the student net (see :func:`skhpmkd.make_student`); cloned at fit.
        Its parameters are reachable as ``student__lr``, ``student__max_epochs``,
        ``student__module__hidden_units`` and so on, also when it is None (the
        default template is created on the first such ``set_params``). With the
        default module, unset ``hidden_units`` are chosen from the data by
        :func:`skhpmkd.student.default_hidden_units`. The net's own ``train_split``
        is replaced by the split below, so no data is held out silently.
    temperature : float, default=4.0
        Softmax temperature of the distillation term.
    alpha : float, default=0.5
        Weight of the label cross-entropy; ``1 - alpha`` weighs the distillation term.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows (stratified) from the student,
        stop when their log-loss has not improved for ``n_iter_no_change`` epochs and
        keep the best epoch's weights. Teachers always use all rows. False trains the
        student on all rows for ``student__max_epochs`` epochs.
    validation_fraction : float, default=0.1
        Share of rows held out from the student for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    device : str, default="auto"
        Torch device for the student: "auto" (CUDA when available), "cpu", "cuda",
        "cuda:1", ... A model fitted on CUDA unpickles on a CPU-only machine.
    n_jobs : int, default=None
        Parallel teacher fits (teachers x folds), as in joblib. Workers share the
        cores, so each is limited to ``cores // n_jobs`` threads.
    random_state : int, RandomState instance or None, default=None
        Seeds folds, teachers whose ``random_state`` is unset, the validation split and
        the student's initialisation and batches; the global RNGs are left untouched.
    verbose : int, default=0
        0 silent; 1 prints stage lines; 2 also prints the student's epoch table.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when X had string column names.
    teachers_ : list of estimator
        Fitted teachers (trained on the labels encoded as ``0 .. n_classes - 1``;
        prefit teachers are kept as given).
    named_teachers_ : Bunch
        The fitted teachers by name.
    student_ : DistillationNet
        The fitted skorch student; predictions come from its ``module_``.
    device_ : str
        The device the student was trained on.
    fit_times_ : dict
        Wall-clock seconds of the ``"teachers"`` and ``"student"`` stages.
    teacher_nbytes_, student_nbytes_ : int
        Pickled sizes of the teacher ensemble and of the student module.
    teacher_n_nodes_ : int or None
        Decision-tree nodes of all teachers (None if a teacher is not a tree model).
    student_n_params_ : int
        Parameters of the student module.
    compression_ratio_ : float
        ``teacher_nbytes_ / student_nbytes_``.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skhpmkd import HPMKDClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), HPMKDClassifier(random_state=0))
    >>> clf.fit(X, y).predict(X[:3])  # doctest: +SKIP
    array([0, 0, 0])
    """

    _parameter_constraints: dict = {
        "teachers": [list, None],
        "teacher_cv": ["cv_object", StrOptions({"prefit"})],
        "student": [HasMethods(["fit", "initialize"]), None],
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, teachers=None, *, teacher_cv=5, student=None, temperature=4.0,
                 alpha=0.5, early_stopping=True, validation_fraction=0.1,
                 n_iter_no_change=10, device="auto", n_jobs=None, random_state=None,
                 verbose=0):
        self.teachers = teachers
        self.teacher_cv = teacher_cv
        self.student = student
        self.temperature = temperature
        self.alpha = alpha
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # -- parameters -------------------------------------------------------------------

    def get_params(self, deep=True):
        """Parameters, with ``<teacher>__<param>`` and ``student__<param>`` when deep."""
        return self._get_params("teachers", deep=deep)

    def set_params(self, **params):
        """Set parameters; ``xgb__*`` or ``student__*`` on a None default creates it."""
        prefixes = {key.split("__", 1)[0] for key in params if "__" in key}
        if self.teachers is None and "teachers" not in params and (
                prefixes & set(DEFAULT_TEACHER_NAMES)):
            self.teachers = default_teachers()
        if self.student is None and "student" not in params and "student" in prefixes:
            self.student = make_student()
        return self._set_params("teachers", **params)

    # -- fit --------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the teachers, then distil them into the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric, finite, dense. Preprocess categoricals and NaN in a Pipeline.
        y : array-like of shape (n_samples,)
            Class labels (any hashable type), at least two classes.

        Returns
        -------
        self
        """
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        teachers = self.teachers if self.teachers is not None else default_teachers()
        validate_teachers(teachers)
        student = self.student if self.student is not None else make_student()
        if not isinstance(student, DistillationNet):
            raise TypeError("student must be a skhpmkd DistillationNet (build one with "
                            f"skhpmkd.make_student); got {type(student).__name__}.")
        self._label_encoder = LabelEncoder().fit(y)
        self.classes_ = self._label_encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError("HPMKDClassifier needs at least 2 classes in y; got 1 class "
                             f"({self.classes_[0]!r}).")
        y_encoded = self._label_encoder.transform(y)
        self.device_ = resolve_device(self.device)
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=len(teachers) + 3)

        start = perf_counter()
        self._log(f"fitting {len(teachers)} teachers (teacher_cv={self.teacher_cv!r})")
        self.teachers_, proba = fit_teachers(
            teachers, X, y_encoded, label_encoder=self._label_encoder,
            teacher_cv=self.teacher_cv, seeds=seeds, n_jobs=self.n_jobs)
        self.named_teachers_ = Bunch(**{name: est for (name, _), est
                                        in zip(teachers, self.teachers_)})
        teacher_seconds = perf_counter() - start

        start = perf_counter()
        self._log(f"distilling into the student on {self.device_}")
        targets = {
            "label": y_encoded.astype(np.int64),
            "teacher_logits": proba_to_logits(proba),
            "teacher_weights": np.full(proba.shape[:2], 1.0 / len(teachers),
                                       dtype=np.float32),
        }
        self.student_ = self._fit_student(student, X.astype(np.float32), targets,
                                          seed=int(seeds[-1]))
        self.fit_times_ = {"teachers": teacher_seconds,
                           "student": perf_counter() - start}
        self._account_sizes()
        self._log(f"done: compression {self.compression_ratio_:.1f}x")
        return self

    def _validation_split(self, y, seed):
        """(train, valid) row indices for early stopping, or (all rows, None)."""
        everything = np.arange(len(y))
        if not self.early_stopping:
            return everything, None
        splitter = StratifiedShuffleSplit(n_splits=1, test_size=self.validation_fraction,
                                          random_state=seed)
        try:
            return next(splitter.split(np.zeros(len(y)), y))
        except ValueError:  # too few rows per class to hold any out
            return everything, None

    def _fit_student(self, template, X, targets, seed):
        net = clone(template)
        n_classes = len(self.classes_)
        params = {
            "module__n_features": X.shape[1],
            "module__n_classes": n_classes,
            "criterion__temperature": self.temperature,
            "criterion__alpha": self.alpha,
            "device": self.device_,
            "train_split": None,
        }
        if net.module is MLPModule and "module__hidden_units" not in net.get_params():
            params["module__hidden_units"] = default_hidden_units(X.shape[1], n_classes)
        if self.verbose >= 2:
            params["verbose"] = 1
        train, valid = self._validation_split(targets["label"], seed)
        if valid is not None:
            params["train_split"] = predefined_split(
                Dataset(X[valid], _rows(targets, valid)))
            callbacks = list(net.callbacks) if isinstance(net.callbacks, list) else []
            params["callbacks"] = callbacks + [(
                "hpmkd_early_stopping",
                EarlyStopping(monitor="valid_loss", patience=self.n_iter_no_change,
                              load_best=True, sink=_silent))]
        net.set_params(**params)
        devices = [torch.device(self.device_).index or 0] if "cuda" in self.device_ else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            net.fit(X[train], _rows(targets, train))
        # Keep neither the validation rows nor a second copy of the weights in the model.
        net.set_params(train_split=None, callbacks=template.callbacks)
        net.initialize_callbacks()
        return net

    def _account_sizes(self):
        self.teacher_nbytes_ = int(sum(pickled_nbytes(t) for t in self.teachers_))
        nodes = [count_tree_nodes(t) for t in self.teachers_]
        self.teacher_n_nodes_ = None if None in nodes else int(sum(nodes))
        module = self.student_.module_
        self.student_n_params_ = count_parameters(module)
        self.student_nbytes_ = pickled_nbytes(module)
        self.compression_ratio_ = self.teacher_nbytes_ / self.student_nbytes_

    def _log(self, message):
        logger.info(message)
        if self.verbose >= 1:
            print(f"[HPMKD] {message}", flush=True)

    # -- predict ----------------------------------------------------------------------

    def predict_proba(self, X):
        """Class probabilities from the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        X = np.require(X, requirements=["C", "W"])
        proba = predict_proba_fast(self.student_.module_, X).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Class labels from the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags
