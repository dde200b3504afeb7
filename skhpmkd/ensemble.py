"""Teacher weighting: per-sample mixture weights over the teachers (HPM-KD's attention).

The student learns from a mixture of the teachers whose weights may depend on the row.
:class:`TeacherWeighting` computes those weights: uniform (``"mean"``), all on the
teacher with the lowest log-loss (``"best"``), or from a small learned gate
(``"attention"``) that sees the row's features and the teachers' own outputs and is
trained to maximise the likelihood of the labels under the mixture. The gate is kept
only when it beats both simpler rules on held-out rows.
"""

import copy
from contextlib import contextmanager
from numbers import Integral

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted
from torch import nn

from .offsets import column_std
from .seeding import torch_seeded
from .student import take_rows
from .teachers import PROBA_EPS, stratified_holdout

#: The weighting rules :class:`TeacherWeighting` knows.
ENSEMBLE_METHODS = ("attention", "mean", "best")

#: Added inside the log of the mixture likelihood, so a mixture giving the label
#: probability 0 costs a large but finite loss.
MIXTURE_EPS = 1e-8

#: Held-out NLL gain (nats per row) that counts: one rule must beat a simpler one by
#: more than this to be chosen, and the gate's epochs by more than this to keep training.
MIN_IMPROVEMENT = 1e-4
#: A weighting replaces a simpler one only when its held-out NLL is lower by more than
#: this many standard errors of the paired per-row difference (noise guard).
SIGNIFICANCE_Z = 2.0


def teacher_features(teacher_proba):
    """Per-sample, per-teacher summaries of the teachers' outputs.

    For teacher ``k`` the columns ``3 * k``, ``3 * k + 1`` and ``3 * k + 2`` hold its
    confidence (largest probability), its normalised entropy (entropy / log C, in
    [0, 1]; 0 when C == 1) and its agreement (the probability it gives to the class
    chosen by the plain average of all teachers).

    Parameters
    ----------
    teacher_proba : array-like of shape (n_samples, n_teachers, n_classes)
        Each teacher's class probabilities; entries may be exactly 0.

    Returns
    -------
    ndarray of shape (n_samples, n_teachers * 3), float32
    """
    proba = np.asarray(teacher_proba, dtype=np.float64)
    if proba.ndim != 3:
        raise ValueError("teacher_proba must have shape (n_samples, n_teachers, "
                         f"n_classes); got shape {proba.shape}.")
    n_samples, n_teachers, n_classes = proba.shape
    confidence = proba.max(axis=2)
    positive = proba > 0
    plogp = np.where(positive, proba * np.log(np.where(positive, proba, 1.0)), 0.0)
    entropy = -plogp.sum(axis=2)
    normalised_entropy = (entropy / np.log(n_classes) if n_classes > 1
                          else np.zeros_like(entropy))
    consensus = proba.mean(axis=1).argmax(axis=1)
    agreement = proba[np.arange(n_samples), :, consensus]
    features = np.stack([confidence, normalised_entropy, agreement], axis=2)
    return features.reshape(n_samples, n_teachers * 3).astype(np.float32)


def row_nll(weights, label_proba, sample_weight=None):
    """Per-row negative log-likelihood of the labels under the weighted mixture, times
    the rows' ``sample_weight`` if given."""
    likelihood = np.sum(np.asarray(weights, dtype=np.float64) * label_proba, axis=1)
    nll = -np.log(likelihood + MIXTURE_EPS)
    return nll if sample_weight is None else nll * sample_weight


def paired_advantage(candidate, reference):
    """Mean and standard error of the per-row differences ``reference - candidate``
    (at least 2 rows): how much lower the ``candidate`` losses are."""
    diff = np.asarray(reference) - np.asarray(candidate)
    return float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(len(diff)))


def beyond_noise(advantage, standard_error, z=SIGNIFICANCE_Z, min_gain=MIN_IMPROVEMENT):
    """Whether a mean paired ``advantage`` exceeds ``min_gain`` and ``z``
    ``standard_error`` (the rule of :func:`significantly_lower`)."""
    return bool(advantage > max(min_gain, z * standard_error))


def significantly_lower(candidate, reference, z=SIGNIFICANCE_Z,
                        min_gain=MIN_IMPROVEMENT):
    """Whether per-row losses ``candidate`` beat ``reference`` beyond paired noise.

    The mean paired difference must exceed ``min_gain`` (``MIN_IMPROVEMENT`` by
    default) and ``z`` standard errors (``SIGNIFICANCE_Z`` by default), so a small
    held-out split cannot pick a weighting by chance.
    """
    if len(candidate) < 2:
        return False
    return beyond_noise(*paired_advantage(candidate, reference), z, min_gain)


def mixture_nll(weights, label_proba, sample_weight=None):
    """Mean negative log-likelihood of the labels under the weighted teacher mixture.

    Parameters
    ----------
    weights : ndarray of shape (n_samples, n_teachers)
    label_proba : ndarray of shape (n_samples, n_teachers)
        Probability each teacher gives to the row's true label.
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights, about 1 on average (None: every row weighs 1).

    Returns
    -------
    float
        ``mean(s * -log(sum_k w_k p_k(y) + 1e-8))``, ``s`` the row's weight.
    """
    return float(np.mean(row_nll(weights, label_proba, sample_weight)))


def best_teacher(label_proba, sample_weight=None):
    """Index of the teacher with the lowest (weighted) log-loss (probabilities clipped
    at 1e-6)."""
    log_loss = -np.log(np.clip(label_proba, PROBA_EPS, 1.0))
    if sample_weight is not None:
        log_loss = log_loss * sample_weight[:, None]
    return int(np.argmin(log_loss.mean(axis=0)))


def unit_mean_weights(sample_weight, X):
    """``sample_weight`` checked as scikit-learn checks it (one finite non-negative
    weight per row of ``X``, not all 0) and divided by its mean, as float64; None
    stays None."""
    if sample_weight is None:
        return None
    weights = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                   ensure_non_negative=True)
    return weights / weights.mean()


def _one_hot(n_samples, n_teachers, index):
    weights = np.zeros((n_samples, n_teachers), dtype=np.float32)
    weights[:, index] = 1.0
    return weights


def _uniform(n_samples, n_teachers):
    return np.full((n_samples, n_teachers), 1.0 / n_teachers, dtype=np.float32)


def _seed_from(random_state):
    """An int seed; None draws fresh OS entropy so numpy's global RNG is not advanced."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] % np.iinfo(np.int32).max)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextmanager
def _one_torch_thread():
    """Run torch single-threaded, then restore the thread count.

    The gate's matrices are tiny: spreading them over threads costs more in
    synchronisation than it saves, and on a busy machine many times more.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class TeacherGate(nn.Module):
    """One-hidden-layer net whose softmax output is the per-row teacher weights.

    The output layer starts at zero, so an untrained gate gives exactly uniform weights.

    Parameters
    ----------
    n_inputs : int
        Standardised features plus ``3 * n_teachers`` teacher summaries.
    n_teachers : int
    hidden_units : int
    """

    def __init__(self, n_inputs, n_teachers, hidden_units):
        super().__init__()
        self.hidden = nn.Linear(n_inputs, hidden_units)
        self.output = nn.Linear(hidden_units, n_teachers)
        nn.init.zeros_(self.output.weight)
        nn.init.zeros_(self.output.bias)

    def forward(self, inputs):
        """Log-weights of shape (n_samples, n_teachers)."""
        return torch.log_softmax(self.output(torch.relu(self.hidden(inputs))), dim=-1)


def _gate_loss(log_weights, label_proba, entropy_penalty, sample_weight=None):
    """Mixture NLL (rows weighted by ``sample_weight``, if given) plus
    ``entropy_penalty * KL(w || uniform)``, both row averages."""
    weights = log_weights.exp()
    row_nll = -torch.log((weights * label_proba).sum(dim=1) + MIXTURE_EPS)
    nll = (row_nll if sample_weight is None else row_nll * sample_weight).mean()
    n_teachers = log_weights.shape[1]
    kl_to_uniform = (weights * (log_weights + np.log(n_teachers))).sum(dim=1).mean()
    return nll + entropy_penalty * kl_to_uniform


class TeacherWeighting(BaseEstimator):
    """Per-sample teacher weights for the distillation targets.

    Parameters
    ----------
    method : {"attention", "mean", "best"}, default="attention"
        ``"mean"``: uniform weights ``1 / K``. ``"best"``: all weight on the teacher
        with the lowest log-loss on the data given to :meth:`fit` (out-of-fold teacher
        probabilities, so this is an honest comparison). ``"attention"``: a learned
        gate, ``softmax(Linear(ReLU(Linear([standardised X, teacher_features]))))``,
        trained to minimise the mixture negative log-likelihood
        ``-log(sum_k w_k(x) p_k(y | x) + 1e-8)`` plus ``entropy_penalty`` times the
        KL divergence from the weights to uniform. The gate is validated on held-out
        rows: unless its held-out NLL beats the better of ``"mean"`` and ``"best"`` by
        more than two standard errors of the paired per-row difference (and 1e-4
        nats), that one is used instead and ``method_`` says so. ``"best"`` replaces
        ``"mean"`` under the same rule. On small data the held-out split is small, so
        the gate must show a clear gain before it is trusted.
    entropy_penalty : float, default=0.01
        Weight of ``KL(w(x) || uniform)`` in the gate's loss. Small: it breaks ties
        toward the plain average, so the gate leaves uniform weights only where a
        teacher is measurably better, without stopping it from trusting one teacher
        fully where that one is clearly right.
    hidden_units : int, default=32
        Width of the gate's hidden layer.
    max_epochs : int, default=30
        Most passes over the gate's training rows (about 60 Adam steps each on 40,000
        rows; about 80 ms per pass on one CPU thread).
    lr : float, default=0.01
        Adam learning rate of the gate.
    batch_size : int, default=512
        Minibatch size of the gate's training.
    n_iter_no_change : int, default=5
        Early-stopping patience: epochs without a held-out NLL gain of more than
        1e-4 nats per row.
    validation_fraction : float, default=0.2
        Share of the rows held out (stratified by label) to early-stop the gate and to
        compare the methods.
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out split, the gate's initialisation and its batches. None
        draws fresh entropy. The global numpy and torch RNGs are left untouched.

    Attributes
    ----------
    method_ : str
        The method actually used: ``method``, or ``"mean"`` / ``"best"`` when the gate
        did not beat them on held-out rows (or could not be trained: fewer than 2
        teachers, or too few rows to hold any out). With a single teacher every
        method gives weight 1; ``method_`` is then ``method``, or ``"mean"`` for
        ``"attention"``.
    validation_nll_ : dict
        Held-out mixture NLL of ``"mean"``, ``"best"`` (the teacher best on the
        gate's training rows) and, when a gate was trained, ``"attention"`` (the
        early-stopped gate). In-sample when no rows could be held out.
    best_teacher_ : int
        Index of the teacher with the lowest log-loss on all rows given to fit.
    mean_weights_ : ndarray of shape (n_teachers,)
        Mean weight of each teacher on the rows given to fit.
    n_epochs_ : int
        Epochs of the kept gate (0 when no gate was trained).
    gate_ : TeacherGate or None
        The early-stopped gate, trained on the non-held-out rows; it is not refit on
        all rows, so the held-out comparison applies to exactly the gate in use.
    feature_mean_, feature_scale_ : ndarray of shape (n_features,)
        Standardisation of X for the gate (scale 1 for constant columns).
    n_features_in_, n_teachers_, n_classes_ : int
        Shapes seen at fit.
    """

    def __init__(self, method="attention", *, entropy_penalty=0.01, hidden_units=32,
                 max_epochs=30, lr=0.01, batch_size=512, n_iter_no_change=5,
                 validation_fraction=0.2, random_state=None):
        self.method = method
        self.entropy_penalty = entropy_penalty
        self.hidden_units = hidden_units
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    # -- fit --------------------------------------------------------------------------

    def fit(self, X, teacher_proba, y, sample_weight=None):
        """Choose the weighting (training and validating the gate for "attention").

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features, already preprocessed.
        teacher_proba : array-like of shape (n_samples, n_teachers, n_classes)
            Out-of-fold teacher probabilities on these rows.
        y : array-like of shape (n_samples,)
            Encoded labels ``0 .. n_classes - 1``.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of every loss the weighting is chosen on (the best teacher's
            log-loss, the gate's training and held-out likelihoods); None weighs
            every row 1.

        Returns
        -------
        self
        """
        self._check_params()
        X, proba = self._check_inputs(X, teacher_proba)
        y = self._check_labels(y, len(X), proba.shape[2])
        row_weights = unit_mean_weights(sample_weight, X)
        n_samples, n_teachers, n_classes = proba.shape
        self.n_features_in_, self.n_teachers_, self.n_classes_ = (
            X.shape[1], n_teachers, n_classes)
        self.feature_mean_ = X.mean(axis=0)
        scale = column_std(X)
        self.feature_scale_ = np.where(scale > 0, scale, 1.0).astype(np.float32)

        label_proba = proba[np.arange(n_samples), :, y]
        self.best_teacher_ = best_teacher(label_proba, row_weights)
        seed = _seed_from(self.random_state)
        train, valid = self._held_out_split(y, seed)

        best_on_train = best_teacher(label_proba[train], take_rows(row_weights, train))
        held_out, held_out_weights = label_proba[valid], take_rows(row_weights, valid)
        held_out_nll = {
            "mean": row_nll(_uniform(len(valid), n_teachers), held_out,
                            held_out_weights),
            "best": row_nll(_one_hot(len(valid), n_teachers, best_on_train), held_out,
                            held_out_weights),
        }
        self.gate_, self.n_epochs_ = None, 0
        can_train = (self.method == "attention" and n_teachers > 1
                     and len(valid) < n_samples)
        if can_train:
            inputs = self._gate_inputs(X, proba)
            self.gate_, self.n_epochs_, _ = self._train_gate(
                inputs, label_proba, train, valid, seed, row_weights)
            with torch.inference_mode(), _one_torch_thread():
                gate_weights = self.gate_(torch.from_numpy(inputs[valid])).exp().numpy()
            held_out_nll["attention"] = row_nll(gate_weights, held_out, held_out_weights)
        self.validation_nll_ = {name: float(np.mean(losses))
                                for name, losses in held_out_nll.items()}
        self.method_ = self._choose_method(held_out_nll)
        if self.method_ != "attention":
            self.gate_ = None
        self.mean_weights_ = self.weights(X, proba).mean(axis=0)
        return self

    def _choose_method(self, held_out_nll):
        """Apply the held-out rule: the gate must clearly beat both simpler rules."""
        if self.method != "attention":
            return self.method
        if self.n_teachers_ == 1:
            return "mean"
        simpler = ("best" if significantly_lower(held_out_nll["best"],
                                                 held_out_nll["mean"])
                   else "mean")
        if "attention" in held_out_nll and significantly_lower(
                held_out_nll["attention"], held_out_nll[simpler]):
            return "attention"
        return simpler

    def _held_out_split(self, y, seed):
        """Stratified (train, valid) indices; all rows as both if none can be held out."""
        split = stratified_holdout(y, self.validation_fraction, seed)
        if split is None:  # a class with one row, or too few rows per class
            everything = np.arange(len(y))
            return everything, everything
        return split

    def _train_gate(self, inputs, label_proba, train, valid, seed, row_weights=None):
        """Adam on minibatches, early-stopped on held-out mixture NLL; best state kept
        (both losses weighted by ``row_weights``, if given).

        Training stops after ``n_iter_no_change`` epochs without a held-out gain of
        more than ``MIN_IMPROVEMENT``; the state with the lowest held-out NLL is kept.

        Returns
        -------
        gate : TeacherGate
        n_epochs : int
            Epochs of the kept state (0 means the uniform start was never beaten).
        valid_nll : float
            Held-out mixture NLL of the kept state.
        """
        inputs = torch.from_numpy(inputs)
        label_proba = torch.from_numpy(label_proba)
        train_x, train_p = inputs[train], label_proba[train]
        valid_x, valid_p = inputs[valid], label_proba[valid]
        train_w, valid_w = ((None, None) if row_weights is None else (
            torch.from_numpy(row_weights[train].astype(np.float32)), row_weights[valid]))
        with torch_seeded(seed), _one_torch_thread():
            gate = TeacherGate(inputs.shape[1], label_proba.shape[1], self.hidden_units)
            optimizer = torch.optim.Adam(gate.parameters(), lr=self.lr)

            def held_out_nll():
                with torch.no_grad():
                    weights = gate(valid_x).exp()
                    return mixture_nll(weights.numpy(), valid_p.numpy(), valid_w)

            best_nll, best_state, best_epoch = held_out_nll(), copy.deepcopy(
                gate.state_dict()), 0
            progress_nll, progress_epoch = best_nll, 0
            for epoch in range(1, self.max_epochs + 1):
                order = torch.randperm(len(train_x))
                for start in range(0, len(order), self.batch_size):
                    batch = order[start:start + self.batch_size]
                    loss = _gate_loss(gate(train_x[batch]), train_p[batch],
                                      self.entropy_penalty,
                                      None if train_w is None else train_w[batch])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                nll = held_out_nll()
                if nll < best_nll:
                    best_nll, best_epoch = nll, epoch
                    best_state = copy.deepcopy(gate.state_dict())
                if nll < progress_nll - MIN_IMPROVEMENT:
                    progress_nll, progress_epoch = nll, epoch
                elif epoch - progress_epoch >= self.n_iter_no_change:
                    break
        gate.load_state_dict(best_state)
        gate.eval()
        return gate, best_epoch, best_nll

    # -- weights ----------------------------------------------------------------------

    def weights(self, X, teacher_proba):
        """Per-row teacher weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        teacher_proba : array-like of shape (n_samples, n_teachers, n_classes)

        Returns
        -------
        ndarray of shape (n_samples, n_teachers), float32
            Non-negative; each row sums to 1.
        """
        check_is_fitted(self, "method_")
        X, proba = self._check_inputs(X, teacher_proba)
        if X.shape[1] != self.n_features_in_ or proba.shape[1:] != (
                self.n_teachers_, self.n_classes_):
            raise ValueError(
                f"fitted on {self.n_features_in_} features and teacher_proba of shape "
                f"(n, {self.n_teachers_}, {self.n_classes_}); got X with {X.shape[1]} "
                f"features and teacher_proba of shape {proba.shape}.")
        n_samples = len(X)
        if self.method_ == "mean":
            return _uniform(n_samples, self.n_teachers_)
        if self.method_ == "best":
            return _one_hot(n_samples, self.n_teachers_, self.best_teacher_)
        with torch.inference_mode(), _one_torch_thread():
            weights = self.gate_(torch.from_numpy(self._gate_inputs(X, proba))).exp()
        weights = weights.numpy()
        return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)

    def _gate_inputs(self, X, proba):
        standardised = (X - self.feature_mean_) / self.feature_scale_
        return np.hstack([standardised, teacher_features(proba)]).astype(np.float32)

    # -- validation -------------------------------------------------------------------

    def _check_params(self):
        if self.method not in ENSEMBLE_METHODS:
            raise ValueError(f"method must be one of {ENSEMBLE_METHODS}; got "
                             f"{self.method!r}.")
        if not 0 < self.validation_fraction < 1:
            raise ValueError("validation_fraction must be in (0, 1); got "
                             f"{self.validation_fraction!r}.")
        if self.entropy_penalty < 0:
            raise ValueError("entropy_penalty must be >= 0; got "
                             f"{self.entropy_penalty!r}.")
        for name in ("hidden_units", "max_epochs", "batch_size", "n_iter_no_change"):
            value = getattr(self, name)
            if not isinstance(value, Integral) or value < 1:
                raise ValueError(f"{name} must be a positive int; got {value!r}.")

    @staticmethod
    def _check_inputs(X, teacher_proba):
        X = np.asarray(X, dtype=np.float32)
        proba = np.asarray(teacher_proba, dtype=np.float32)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features); got shape "
                             f"{X.shape}.")
        if proba.ndim != 3:
            raise ValueError("teacher_proba must be 3-D (n_samples, n_teachers, "
                             f"n_classes); got shape {proba.shape}.")
        if len(proba) != len(X):
            raise ValueError(f"teacher_proba has {len(proba)} rows but X has {len(X)}.")
        if proba.shape[1] < 1 or proba.shape[2] < 1 or len(X) < 1:
            raise ValueError("need at least one row, one teacher and one class; got "
                             f"teacher_proba of shape {proba.shape}.")
        return X, proba

    @staticmethod
    def _check_labels(y, n_samples, n_classes):
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n_samples:
            raise ValueError(f"y must be 1-D with {n_samples} rows, like X; got shape "
                             f"{y.shape}.")
        if y.dtype.kind not in "iuf" or (y.dtype.kind == "f" and np.any(y % 1 != 0)):
            raise ValueError("y must hold encoded integer labels 0 .. n_classes - 1; got "
                             f"dtype {y.dtype}.")
        y = y.astype(np.int64)
        if y.min() < 0 or y.max() >= n_classes:
            raise ValueError(f"y must hold encoded labels in 0 .. {n_classes - 1} "
                             f"(teacher_proba has {n_classes} classes); got values in "
                             f"[{y.min()}, {y.max()}].")
        return y


#: Fitted attributes of a :class:`TeacherWeighting` besides its gate.
_WEIGHTING_ATTRIBUTES = ("method_", "validation_nll_", "best_teacher_", "mean_weights_",
                         "n_epochs_", "feature_mean_", "feature_scale_",
                         "n_features_in_", "n_teachers_", "n_classes_")


def weighting_snapshot(weighting):
    """A fitted :class:`TeacherWeighting` as data: its parameters, fitted attributes
    and gate weights (name to ndarray), for :func:`restore_weighting`."""
    fitted = {name: getattr(weighting, name) for name in _WEIGHTING_ATTRIBUTES}
    for name in ("best_teacher_", "n_epochs_", "n_features_in_", "n_teachers_",
                 "n_classes_"):
        fitted[name] = int(fitted[name])
    gate = weighting.gate_
    return {"params": weighting.get_params(), "fitted": fitted,
            "gate": None if gate is None else {
                name: tensor.detach().cpu().numpy()
                for name, tensor in gate.state_dict().items()}}


def restore_weighting(snapshot):
    """The :class:`TeacherWeighting` of :func:`weighting_snapshot`'s ``snapshot``."""
    weighting = TeacherWeighting(**snapshot["params"])
    for name in _WEIGHTING_ATTRIBUTES:
        setattr(weighting, name, snapshot["fitted"][name])
    for name in ("mean_weights_", "feature_mean_", "feature_scale_"):
        setattr(weighting, name, np.asarray(getattr(weighting, name)))
    state = snapshot["gate"]
    weighting.gate_ = None
    if state is not None:
        hidden_units, n_inputs = np.shape(state["hidden.weight"])
        with torch_seeded():  # its initial weights are replaced
            weighting.gate_ = TeacherGate(n_inputs, len(state["output.bias"]),
                                          hidden_units)
        weighting.gate_.load_state_dict({name: torch.from_numpy(np.array(array))
                                         for name, array in state.items()})
    return weighting
