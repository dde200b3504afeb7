"""The student: default MLP module, skorch distillation net, devices, fast inference."""

import functools
import inspect
import math
import signal
import threading
import warnings
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import clone
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, LRScheduler
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from skorch.history import History
from skorch.utils import to_tensor
from torch import nn
from torch.nn import functional as F
from torch.optim.lr_scheduler import ReduceLROnPlateau
from torch.utils.data import default_collate, default_convert

from .losses import DistillationLoss, soft_kl, weighted_mean
from .seeding import torch_seeded
from .sizes import pickled_nbytes

#: Bounds of the default hidden width (see :func:`default_hidden_units`).
MIN_WIDTH, MAX_WIDTH = 32, 256
#: Learning-rate schedules of :func:`fit_student`: "constant", or "plateau" (the rate
#: is multiplied by ``PLATEAU_FACTOR`` whenever the monitored loss has not improved
#: for a third of the early-stopping patience, so it drops at most twice before
#: training stops).
LR_SCHEDULES = ("constant", "plateau")
PLATEAU_FACTOR = 0.3
#: What early stopping in :func:`fit_student` may watch on the validation rows.
STOPPING_MONITORS = ("log_loss", "objective")


def default_hidden_units(n_features, n_classes):
    """Hidden layer sizes chosen from the data.

    Two hidden layers of equal width: twice the number of inputs plus outputs, rounded
    up to a power of two and kept within ``[32, 256]``. Wide enough to absorb a tree
    ensemble's function on typical tabular data, small enough to stay >= 10x smaller.
    """
    width = 2 ** int(np.ceil(np.log2(2 * (n_features + n_classes))))
    width = int(np.clip(width, MIN_WIDTH, MAX_WIDTH))
    return (width, width)


def scaled_units(hidden_units, width):
    """``hidden_units`` times ``width``, rounded, at least 8 per layer."""
    return tuple(max(8, int(round(units * width))) for units in hidden_units)


#: Most quantile bins per numeric column for the piecewise-linear encoding.
MAX_BINS = 16
#: Fewest bins per numeric column.
MIN_BINS = 2
#: Fewest training rows per bin.
MIN_ROWS_PER_BIN = 16
#: Budget of encoded inputs over all numeric columns: it keeps the first layer, and so
#: the student's size and prediction time, in proportion when there are many columns.
MAX_ENCODED_INPUTS = 256

#: Smallest spread an encoding divides by: float32's smallest normal number, so that
#: columns of any unit the float32 input holds (1e-30, 1e30) are scaled alike.
FLOAT32_TINY = float(np.finfo(np.float32).tiny)


def numeric_columns(X):
    """Per column, whether it has more than two distinct values; binary columns
    (one-hot categories) gain nothing from an encoding and pass through (mapped onto
    {0, 1}: see :func:`binary_levels`)."""
    return [len(np.unique(column)) > 2 for column in np.asarray(X).T]


def binary_levels(X, per_column):
    """Per column, the ``(low, high)`` that an encoding maps onto {0, 1} for a column
    that passes through it (None in ``per_column``, the encoding's data from
    :func:`quantile_bin_edges` or :func:`numeric_scaling`: two values or fewer) and
    holds values other than 0 and 1, else None; None for all where there is no such
    column. A column of two values maps them onto 0 and 1: a standardised rare
    category would otherwise reach the network as, say, {-0.04, 25.9}, and a year pair
    as {1999, 2000}. A column of one value ``c`` maps it onto 0, with ``(c, c +
    max(|c|, 1))``: a constant of 1e6 would otherwise swamp every other input of the
    first layer (the student trained at chance beside one)."""
    X = np.asarray(X)
    levels = [None] * len(per_column)
    for j, value in enumerate(per_column):
        if value is None:  # its values are its minimum and maximum
            low, high = float(X[:, j].min()), float(X[:, j].max())
            if low == high and low not in (0.0, 1.0):
                levels[j] = (low, low + max(abs(low), 1.0))
            elif low != high and not {low, high} <= {0.0, 1.0}:
                levels[j] = (low, high)
    return levels if any(level is not None for level in levels) else None


def quantile_bin_edges(X, max_bins=MAX_BINS, min_rows_per_bin=MIN_ROWS_PER_BIN,
                       max_encoded_inputs=MAX_ENCODED_INPUTS):
    """Per column, the edges of quantile bins; None for columns with two or fewer values.

    Binary columns (one-hot categories) gain nothing from an encoding and pass through.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    max_bins : int
    min_rows_per_bin : int
        Bins are fewer on small data: at most ``n_samples // min_rows_per_bin``.
    max_encoded_inputs : int
        Bins are fewer with many numeric columns: at most this many over all of them
        (but at least ``MIN_BINS`` per column).

    Returns
    -------
    list of (ndarray or None)
        Strictly increasing edges (at least 2, so at least one bin) for each column.
    """
    X = np.asarray(X, dtype=np.float64)
    numeric = numeric_columns(X)
    per_column = max_encoded_inputs // max(sum(numeric), 1)
    n_bins = int(min(np.clip(len(X) // min_rows_per_bin, 1, max_bins),
                     max(per_column, MIN_BINS)))
    quantiles = np.linspace(0, 1, n_bins + 1)
    edges = []
    for column, is_numeric in zip(X.T, numeric):
        column_edges = np.unique(np.quantile(column, quantiles)) if is_numeric else []
        edges.append(column_edges if len(column_edges) >= 2 else None)
    return edges


class ColumnEncoding(nn.Module):
    """Base of the input encodings: ``per_column`` holds each column's encoding data,
    None for a column that passes through (ahead of the encoded ones), unchanged or,
    where ``binary_levels`` (see :func:`binary_levels`) gives its two values, mapped
    onto {0, 1}."""

    def __init__(self, per_column, binary_levels=None):
        super().__init__()
        self.passthrough = [j for j, value in enumerate(per_column) if value is None]
        self.encoded = [j for j, value in enumerate(per_column) if value is not None]
        self.register_buffer("passthrough_index", torch.tensor(self.passthrough,
                                                               dtype=torch.long))
        self.register_buffer("encoded_index", torch.tensor(self.encoded,
                                                           dtype=torch.long))
        self.rescaled = binary_levels is not None
        if self.rescaled:
            levels = [binary_levels[j] or (0.0, 1.0) for j in self.passthrough]
            self.register_buffer("passthrough_low", torch.tensor(
                [low for low, _ in levels], dtype=torch.float32))
            self.register_buffer("passthrough_span", torch.tensor(
                [high - low for low, high in levels], dtype=torch.float32))

    def _join(self, X, encoded):
        """The passed-through columns of ``X``, then ``encoded`` flattened per row."""
        passed = X[:, self.passthrough_index]
        if self.rescaled:
            passed = (passed - self.passthrough_low) / self.passthrough_span
        return torch.cat([passed, encoded.flatten(1)], dim=1)


class PiecewiseLinearEncoding(ColumnEncoding):
    """Piecewise-linear encoding of numeric columns (Gorishniy et al., 2022).

    A value in bin ``t`` of its column encodes as ``[1, ..., 1, frac, 0, ..., 0]``: the
    network sees where the value lies between learned-from-data quantiles, as a tree
    split does. The first and last bin extrapolate linearly. Columns without edges pass
    through unchanged. Edges are buffers, so they travel with the module's weights.
    """

    def __init__(self, bin_edges, binary_levels=None):
        super().__init__(bin_edges, binary_levels)
        n_bins = max((len(bin_edges[j]) - 1 for j in self.encoded), default=1)
        lefts = np.zeros((len(self.encoded), n_bins), dtype=np.float32)
        widths = np.ones_like(lefts)
        low = np.zeros_like(lefts)
        high = np.zeros_like(lefts)  # unused bins stay exactly 0
        for row, j in enumerate(self.encoded):
            edges = np.asarray(bin_edges[j], dtype=np.float64)
            k = len(edges) - 1
            lefts[row, :k] = edges[:-1]
            widths[row, :k] = np.maximum(np.diff(edges), FLOAT32_TINY)
            high[row, :k] = 1.0
            low[row, 0], high[row, k - 1] = -np.inf, np.inf
        for name, value in (("lefts", lefts), ("widths", widths), ("low", low),
                            ("high", high)):
            self.register_buffer(name, torch.from_numpy(value))
        self.n_outputs = len(self.passthrough) + lefts.size

    def forward(self, X):
        values = X[:, self.encoded_index].unsqueeze(-1)
        encoded = torch.clamp((values - self.lefts) / self.widths, self.low, self.high)
        return self._join(X, encoded)


#: Frequencies per numeric column of the periodic encoding.
N_FREQUENCIES = 16
#: Most outputs per numeric column of the periodic encoding's linear-ReLU layer.
MAX_PERIODIC_OUTPUTS = 16
#: Standard deviation of the periodic encoding's initial frequencies (on standardised
#: columns; the frequencies are trained with the rest of the network).
FREQUENCY_SCALE = 1.0


def numeric_scaling(X):
    """Per column, ``(mean, standard deviation)`` of the training rows; None for
    columns with two or fewer values (binary columns pass through an encoding)."""
    X = np.asarray(X, dtype=np.float64)
    return [(float(column.mean()), float(max(column.std(), FLOAT32_TINY))) if numeric
            else None
            for column, numeric in zip(X.T, numeric_columns(X))]


class StandardisedColumns(ColumnEncoding):
    """Numeric columns standardised by the training rows' mean and standard deviation
    (``numeric_embedding="none"``): what the network sees does not depend on the
    columns' units or offsets, as under the other encodings. Columns without scaling
    pass through."""

    def __init__(self, scaling, binary_levels=None):
        super().__init__(scaling, binary_levels)
        center = np.array([scaling[j][0] for j in self.encoded], dtype=np.float32)
        scale = np.array([scaling[j][1] for j in self.encoded], dtype=np.float32)
        self.register_buffer("center", torch.from_numpy(center))
        self.register_buffer("scale", torch.from_numpy(scale))
        self.n_outputs = len(scaling)

    def standardised(self, X):
        """The numeric columns of ``X``, standardised."""
        return (X[:, self.encoded_index] - self.center) / self.scale

    def forward(self, X):
        return self._join(X, self.standardised(X))


class PeriodicEncoding(StandardisedColumns):
    """Periodic encoding of numeric columns with a linear-ReLU layer per column
    ("PLR", Gorishniy et al., 2022).

    A standardised value ``x`` becomes ``[cos(2 pi c x), sin(2 pi c x)]`` for trained
    frequencies ``c`` of its column, then its own linear layer and ReLU: smooth, many
    times differentiable features that let the network fit sharp, non-monotonic
    effects of one column. Columns without scaling pass through unchanged. The
    outputs per column shrink with many numeric columns (``MAX_ENCODED_INPUTS``
    over all of them).
    """

    def __init__(self, scaling, n_frequencies=N_FREQUENCIES,
                 frequency_scale=FREQUENCY_SCALE, binary_levels=None):
        super().__init__(scaling, binary_levels)
        n_encoded = len(self.encoded)
        n_outputs = int(np.clip(MAX_ENCODED_INPUTS // max(n_encoded, 1), 2,
                                MAX_PERIODIC_OUTPUTS))
        self.frequencies = nn.Parameter(
            torch.randn(n_encoded, n_frequencies) * frequency_scale)
        bound = 1.0 / np.sqrt(2 * n_frequencies)
        self.weight = nn.Parameter(torch.empty(n_encoded, 2 * n_frequencies, n_outputs)
                                   .uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_encoded, n_outputs)
                                 .uniform_(-bound, bound))
        self.n_outputs = len(self.passthrough) + n_encoded * n_outputs

    def forward(self, X):
        angles = 2 * np.pi * self.frequencies * self.standardised(X).unsqueeze(-1)
        features = torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)
        encoded = torch.relu(torch.einsum("nfk,fko->nfo", features, self.weight)
                             + self.bias)
        return self._join(X, encoded)


def widest_within_budget(n_features, n_classes, hidden_units, max_nbytes,
                         module_params=None, min_width=8):
    """The default MLP's hidden units, halved until the pickled module fits
    ``max_nbytes``.

    Parameters
    ----------
    n_features, n_classes : int
    hidden_units : tuple of int
        The widest size to consider.
    max_nbytes : float
        Size budget of the pickled module.
    module_params : dict or None
        Other :class:`MLPModule` parameters (e.g. ``bin_edges``), which change its size.
    min_width : int
        Layers are not narrowed below this.

    Returns
    -------
    tuple of int
        The first size (halving every layer each time) within the budget, or the
        narrowest tried.
    """
    units = tuple(hidden_units)
    while True:
        with torch_seeded():  # its random initial weights are only weighed
            module = MLPModule(n_features, n_classes, units, **(module_params or {}))
        if pickled_nbytes(module) <= max_nbytes or max(units, default=0) <= min_width:
            return units
        units = tuple(max(min_width, width // 2) for width in units)


class MLPModule(nn.Module):
    """Multilayer perceptron that returns class logits.

    Parameters
    ----------
    n_features : int
        Number of input columns.
    n_classes : int
        Number of output logits.
    hidden_units : tuple of int, default=(64, 64)
        Widths of the hidden layers.
    dropout : float, default=0.1
        Dropout probability after each hidden layer.
    bin_edges : list of (array or None), default=None
        Quantile bin edges per column (see :func:`quantile_bin_edges`): numeric
        columns then enter through a :class:`PiecewiseLinearEncoding`.
    periodic_scaling : list of ((float, float) or None), default=None
        Mean and standard deviation per column (see :func:`numeric_scaling`): numeric
        columns then enter through a :class:`PeriodicEncoding`.
    n_members : int, default=1
        Independent networks of this shape (see :mod:`skhpmkd.members`); the module
        returns the log of their averaged probabilities, which are logits whose
        softmax is that average.
    binary_levels : list of ((float, float) or None), default=None
        Per column, the ``(low, high)`` that an encoding maps onto 0 and 1, for the
        two-valued columns other than {0, 1} and the constant ones other than 0 or 1
        (see :func:`binary_levels`); with no encoding the columns pass unchanged.
    standard_scaling : list of ((float, float) or None), default=None
        Mean and standard deviation per column (see :func:`numeric_scaling`): numeric
        columns are then standardised (:class:`StandardisedColumns`) and enter
        without further encoding. At most one of ``bin_edges``, ``periodic_scaling``
        and ``standard_scaling`` is given; with none, the columns enter as they are.
    member_params : list of dict, default=None
        With ``n_members``, one dict per member: the parameters above in which that
        member differs from the module's own (e.g. the bin edges of an encoding
        learned on other rows; see :func:`skhpmkd.members.merge_members`). None: the
        members are alike.
    """

    def __init__(self, n_features, n_classes, hidden_units=(64, 64), dropout=0.1,
                 bin_edges=None, periodic_scaling=None, n_members=1,
                 binary_levels=None, standard_scaling=None, member_params=None):
        super().__init__()
        self.encoding = self.members = None
        if n_members > 1:
            shared = {"hidden_units": hidden_units, "dropout": dropout,
                      "bin_edges": bin_edges, "periodic_scaling": periodic_scaling,
                      "binary_levels": binary_levels,
                      "standard_scaling": standard_scaling}
            own = [{}] * n_members if member_params is None else list(member_params)
            if len(own) != n_members:
                raise ValueError(f"member_params has {len(own)} entries, n_members is "
                                 f"{n_members}.")
            self.members = nn.ModuleList(
                MLPModule(n_features, n_classes, **{**shared, **params})
                for params in own)
            return
        width_in = n_features
        encodings = {"bin_edges": (bin_edges, PiecewiseLinearEncoding),
                     "periodic_scaling": (periodic_scaling, PeriodicEncoding),
                     "standard_scaling": (standard_scaling, StandardisedColumns)}
        given = [name for name, (per_column, _) in encodings.items()
                 if per_column is not None]
        if len(given) > 1:
            raise ValueError(f"MLPModule takes one of {', '.join(encodings)}, not "
                             f"both {given[0]} and {given[1]}.")
        for name, (per_column, encoding) in encodings.items():
            if per_column is None:
                continue
            if len(per_column) != n_features:
                raise ValueError(f"{name} has {len(per_column)} columns, "
                                 f"n_features is {n_features}.")
            self.encoding = encoding(per_column, binary_levels=binary_levels)
            width_in = self.encoding.n_outputs
        layers = []
        for width in hidden_units:
            layers += [nn.Linear(width_in, width), nn.ReLU(), nn.Dropout(dropout)]
            width_in = width
        layers.append(nn.Linear(width_in, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        if self.members is not None:
            log_proba = torch.stack([F.log_softmax(member(X), dim=-1)
                                     for member in self.members])
            return torch.logsumexp(log_proba, dim=0) - math.log(len(self.members))
        if self.encoding is not None:
            X = self.encoding(X)
        return self.layers(X)


def has_default_module(net):
    """Whether a student template uses the default MLP, whose input encoding and size
    the classifier plans itself."""
    return net.module is MLPModule


def softmax_rows(logits):
    """Softmax over the last axis (the net's predict non-linearity)."""
    return torch.softmax(logits, dim=-1)


class _Batch:
    """A batch fetched whole by :class:`BatchedDataset`, marked for
    :func:`collate_rows`."""

    def __init__(self, data):
        self.data = data


class BatchedDataset(Dataset):
    """skorch's ``Dataset`` that hands the ``DataLoader`` a whole batch at once.

    The ``DataLoader`` asks for the rows of a batch through ``__getitems__``: one
    fancy index per array instead of one ``__getitem__`` and one tensor per row, then
    a stack (about a third of an epoch of a small student on CPU). The batches and
    their order are the same, and so are the trained weights.
    """

    def __getitems__(self, indices):
        indices = np.asarray(indices)
        if not _is_arrays(self.X) or not (self.y is None or _is_arrays(self.y)):
            return _Batch(super().__getitem__(indices))
        y = (np.zeros(len(indices), dtype=np.float32) if self.y is None
             else take_rows(self.y, indices))
        return _Batch((take_rows(self.X, indices), y))


def _is_arrays(data):
    """Whether ``data`` is a numpy array or a dict of them (rows taken directly)."""
    if isinstance(data, dict):
        return all(isinstance(value, np.ndarray) for value in data.values())
    return isinstance(data, np.ndarray)


def take_rows(data, indices):
    """Rows ``indices`` of a numpy array or of each array of a dict (per-row targets);
    None for None (e.g. no sample weights)."""
    if data is None:
        return None
    if isinstance(data, dict):
        return {key: value[indices] for key, value in data.items()}
    return data[indices]


def collate_rows(data):
    """The ``DataLoader``'s ``collate_fn``: numpy arrays of a :class:`BatchedDataset`
    batch become tensors; a list of single rows (any other dataset) is stacked."""
    if isinstance(data, _Batch):
        return default_convert(data.data)
    return default_collate(data)


def check_weighted_criterion(criterion):
    """A weighted fit's criterion (class or module) must take ``sample_weight`` in
    ``forward``, by name or through ``**kwargs``; ValueError naming it otherwise."""
    parameters = inspect.signature(criterion.forward).parameters.values()
    if not any(param.name == "sample_weight" or param.kind is param.VAR_KEYWORD
               for param in parameters):
        name = getattr(criterion, "__name__", type(criterion).__name__)
        raise ValueError(f"the student's criterion {name} takes no sample_weight in "
                         "forward, so it cannot weigh the rows; add a sample_weight=None "
                         "argument to it, or fit without weights.")


def criterion_loss(criterion, logits, target):
    """The training objective of ``criterion`` on a batch's tensors ``target``; the
    rows' ``sample_weight`` is passed only where the fit has one."""
    weights = ({"sample_weight": target["sample_weight"]}
               if "sample_weight" in target else {})
    return criterion(logits, target["label"], target["teacher_logits"],
                     target["teacher_weights"], **weights)


class _UnsetRate(float):
    """The learning rate of a student template whose rate was not given: 3e-3 to
    train with, and for the configuration manager a rate it may choose (a rate given,
    3e-3 included, is a plain float and kept; see :func:`is_unset_rate`)."""

    def __repr__(self):
        return float.__repr__(self)

    def __reduce__(self):
        return (_UnsetRate, (float(self),))


#: The student template's learning rate where none is given (see :class:`_UnsetRate`).
DEFAULT_LR = _UnsetRate(3e-3)


def is_unset_rate(lr):
    """Whether ``lr`` is a template's default rate, not one the user gave."""
    return isinstance(lr, _UnsetRate)


class DistillationNet(NeuralNet):
    """skorch net that trains a logit-producing module with :class:`DistillationLoss`.

    The training target is a dict with keys ``label`` (n,), ``teacher_logits``
    (n, n_teachers, n_classes), ``teacher_weights`` (n, n_teachers) and, where the fit
    has sample weights, ``sample_weight`` (n,), as built by
    :class:`~skhpmkd.HPMKDClassifier`. The loss on validation data is the plain
    cross-entropy (log-loss) against the labels (weighted by ``sample_weight``), so
    ``valid_loss`` measures the student itself. Each training batch records
    ``distill_kl``, the KL from the teachers' mixture to the student at the current
    temperature (the student-teacher gap), in the history. The module must accept
    ``n_features`` and ``n_classes`` keyword arguments.

    Defaults differ from skorch's: AdamW, ``lr=3e-3``, ``batch_size=128``, up to 200
    epochs, shuffled batches, no internal validation split (``train_split=None``: the
    classifier makes its own explicit split), silent, and batches fetched whole
    (:class:`BatchedDataset`).
    """

    def __init__(self, module=MLPModule, *args, criterion=DistillationLoss,
                 optimizer=torch.optim.AdamW, lr=DEFAULT_LR, max_epochs=200,
                 batch_size=128, train_split=None, predict_nonlinearity=softmax_rows,
                 verbose=0, **kwargs):
        kwargs.setdefault("iterator_train__shuffle", True)
        kwargs.setdefault("dataset", BatchedDataset)
        for iterator in ("iterator_train", "iterator_valid"):
            kwargs.setdefault(f"{iterator}__collate_fn", collate_rows)
        super().__init__(module, *args, criterion=criterion, optimizer=optimizer, lr=lr,
                         max_epochs=max_epochs, batch_size=batch_size,
                         train_split=train_split,
                         predict_nonlinearity=predict_nonlinearity, verbose=verbose,
                         **kwargs)

    def _get_param_names(self):
        """skorch's parameter names without its bookkeeping attribute
        ``_params_to_validate``, which ``__init__`` rebuilds from the keyword
        arguments: ``get_params`` and the classifier's repr then show parameters only."""
        return [name for name in super()._get_param_names()
                if name != "_params_to_validate"]

    def get_loss(self, y_pred, y_true, X=None, training=False):
        target = to_tensor(y_true, device=y_pred.device)
        sample_weight = target.get("sample_weight")
        if not training and sample_weight is None:
            return F.cross_entropy(y_pred, target["label"])
        if not training:
            return weighted_mean(F.cross_entropy(y_pred, target["label"],
                                                 reduction="none"), sample_weight)
        loss = criterion_loss(self.criterion_, y_pred, target)
        gap = getattr(self.criterion_, "last_soft_kl_", None)
        if gap is None:  # a criterion of the user's own
            with torch.no_grad():
                gap = soft_kl(y_pred, target["teacher_logits"],
                              target["teacher_weights"], self.criterion_.temperature,
                              sample_weight)
        self.history.record_batch("distill_kl", gap.item())
        return loss


def make_student(**params):
    """A student template for ``HPMKDClassifier(student=...)``.

    Parameters
    ----------
    **params
        skorch parameters, e.g. ``lr=1e-3``, ``max_epochs=50``,
        ``module__hidden_units=(128, 64)``, ``module=MyModule``.

    Returns
    -------
    DistillationNet
        Uninitialised; the classifier clones it and sets the module's input and output
        sizes at fit time.
    """
    return DistillationNet(**params)


def is_positive_int(value):
    """Whether ``value`` is an int (numpy's too, not a bool) of at least 1."""
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1


def check_template(net):
    """Raise a ValueError naming a setting of the student template ``net`` that could
    not train (fewer than one epoch, a rate that is not positive, a layer of no units,
    a batch of no rows, a dropout outside [0, 1), an optimizer or loss that is not a
    class of the kind the training calls), before any teacher is fitted."""
    params = net.get_params(deep=False)
    max_epochs, lr = params.get("max_epochs"), params.get("lr")
    if not is_positive_int(max_epochs):
        raise ValueError(f"the student's max_epochs must be an int >= 1; got "
                         f"{max_epochs!r}.")
    if not (isinstance(lr, Real) and lr > 0):
        raise ValueError(f"the student's lr must be a positive number; got {lr!r}.")
    batch_size = params.get("batch_size")
    if not (is_positive_int(batch_size) or batch_size == -1):
        raise ValueError("the student's batch_size must be an int >= 1 (or -1: all "
                         f"rows in one batch); got {batch_size!r}.")
    units = params.get("module__hidden_units")
    if units is not None and not (isinstance(units, (tuple, list)) and all(
            is_positive_int(width) for width in units)):
        raise ValueError("the student's module__hidden_units must be a tuple of ints "
                         f">= 1, one per hidden layer; got {units!r}.")
    dropout = params.get("module__dropout")
    if has_default_module(net) and dropout is not None and not (
            isinstance(dropout, Real) and not isinstance(dropout, bool)
            and 0 <= dropout < 1):
        raise ValueError("the student's module__dropout must be a number in [0, 1); "
                         f"got {dropout!r}.")
    optimizer = params.get("optimizer")
    if not _is_subclass(_unwrapped(optimizer), torch.optim.Optimizer):
        raise ValueError("the student's optimizer must be a torch optimizer class "
                         f"(e.g. torch.optim.AdamW); got {optimizer!r}.")
    criterion = params.get("criterion")
    if not _takes_temperature_and_alpha(criterion):
        name = getattr(criterion, "__name__", repr(criterion))
        raise ValueError(
            f"the student's criterion {name} does not take temperature and alpha: a "
            "criterion of your own must be a class that does, with forward(logits, "
            "labels, teacher_logits, teacher_weights); subclass "
            "skhpmkd.losses.DistillationLoss.")


def _unwrapped(factory):
    """The class a ``functools.partial`` builds, or ``factory`` itself."""
    return factory.func if isinstance(factory, functools.partial) else factory


def _is_subclass(candidate, base):
    """``issubclass`` that is False for what is not a class."""
    return isinstance(candidate, type) and issubclass(candidate, base)


def _takes_temperature_and_alpha(criterion):
    """Whether ``criterion`` (a class or a ``functools.partial`` of one) builds a loss
    from ``temperature`` and ``alpha``, by name or through ``**kwargs`` of its own
    (``torch.nn.Module``'s refuse them): the training sets both."""
    target = _unwrapped(criterion)
    if not isinstance(target, type) or target.__init__ is torch.nn.Module.__init__:
        return False
    try:
        params = inspect.signature(criterion).parameters.values()
    except (TypeError, ValueError):
        return False
    return ({"temperature", "alpha"} <= {param.name for param in params}
            or any(param.kind is param.VAR_KEYWORD for param in params))


def _silent(*_):
    """Message sink that drops skorch's early-stopping notice."""


class WeightAveraging(Callback):
    """Exponential moving average of the module's parameters (Polyak averaging).

    After every training batch the average moves towards the current weights by
    ``1 - d``, with ``d = min(decay, (1 + n) / (10 + n))`` after ``n`` batches (a
    short warm-up, so the random initial weights fade quickly). The averaged weights
    are what the validation rows see, so early stopping judges and keeps them; the
    optimizer goes on from the raw weights at the next epoch. Without validation rows
    the averaged weights are loaded when training ends.
    """

    def __init__(self, decay=0.99):
        self.decay = decay

    def on_train_begin(self, net, **kwargs):
        self.live_ = [parameter.detach() for parameter in net.module_.parameters()]
        self.average_ = [value.detach().clone() for value in self.live_]
        self.raw_ = None
        self.n_batches_ = 0

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        self.n_batches_ += 1
        decay = min(self.decay, (1 + self.n_batches_) / (10 + self.n_batches_))
        with torch.no_grad():
            for average, live in zip(self.average_, self.live_):
                average.lerp_(live, 1.0 - decay)

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training and self.raw_ is None:  # first validation batch of the epoch
            self.raw_ = [value.clone() for value in self.live_]
            self._load(self.average_)

    def on_epoch_begin(self, net, **kwargs):
        if self.raw_ is not None:
            self._load(self.raw_)
            self.raw_ = None

    def on_train_end(self, net, **kwargs):
        if self.raw_ is None:  # no validation rows: keep the average
            self._load(self.average_)
        self.live_ = self.average_ = self.raw_ = None

    def _load(self, values):
        """Copy ``values`` into the module's parameters."""
        with torch.no_grad():
            for live, value in zip(self.live_, values):
                live.copy_(value)


class ValidObjective(Callback):
    """Record ``valid_objective`` after each epoch: the training objective (label
    cross-entropy plus the distillation term, at the epoch's temperature) on the
    validation rows, with the weights the validation rows saw."""

    def __init__(self, X, targets):
        self.X = X
        self.targets = targets

    def on_epoch_end(self, net, **kwargs):
        module = net.module_
        was_training = module.training
        module.eval()
        with torch.no_grad():
            logits = module(torch.as_tensor(self.X, device=net.device))
            objective = criterion_loss(net.criterion_, logits,
                                       to_tensor(self.targets, device=net.device))
        module.train(was_training)
        net.history.record("valid_objective", float(objective))


def lr_plateau(monitor, patience):
    """Callback that multiplies the learning rate by :data:`PLATEAU_FACTOR` once
    ``monitor`` has not improved for ``max(1, patience // 3)`` epochs."""
    return LRScheduler(ReduceLROnPlateau, monitor=monitor, factor=PLATEAU_FACTOR,
                       patience=max(1, patience // 3))


def _training_callbacks(valid, *, patience, weight_averaging, lr_schedule, stop_on):
    """The callbacks one training of :func:`fit_student` adds (weight averaging, the
    validation objective, the plateau schedule, early stopping, in that order) and the
    history column that early stopping and the plateau schedule watch."""
    callbacks = []
    if weight_averaging > 0:
        callbacks.append(("hpmkd_weight_averaging", WeightAveraging(weight_averaging)))
    monitor = "train_loss"
    if valid is not None and stop_on == "objective":
        monitor = "valid_objective"
        callbacks.append(("hpmkd_valid_objective", ValidObjective(*valid)))
    elif valid is not None:
        monitor = "valid_loss"
    if lr_schedule == "plateau":
        callbacks.append(("hpmkd_lr_plateau", lr_plateau(monitor, patience)))
    if valid is not None:
        callbacks.append(("hpmkd_early_stopping",
                          EarlyStopping(monitor=monitor, patience=patience,
                                        load_best=True, sink=_silent)))
    return callbacks, monitor


def fit_student(template, X, targets, *, valid=None, module_params=None, temperature,
                alpha, lr=None, callbacks=(), patience=10, device="cpu", seed=0,
                max_epochs=None, weight_averaging=0.0, lr_schedule="constant",
                stop_on="log_loss", init_state=None, verbose=False):
    """Train one student from a template; early stopping when validation rows are given.

    Parameters
    ----------
    template : DistillationNet
        Cloned, never modified.
    X : ndarray of shape (n_samples, n_features), float32
    targets : dict of ndarray
        ``label``, ``teacher_logits``, ``teacher_weights`` for the rows of ``X``.
    valid : (ndarray, dict) or None
        Validation rows and their targets. With them, training stops once the
        validation log-loss has not improved for ``patience`` epochs and the best
        epoch's weights are kept.
    module_params : dict or None
        Module parameters for this training, e.g. ``{"hidden_units": (64, 64)}``.
    temperature, alpha : float
        Initial criterion settings.
    lr : float or None
        Learning rate for this training (None: the template's).
    callbacks : sequence of (name, Callback)
        Extra callbacks for this training only (e.g. a temperature schedule).
    patience : int
    device : str
    seed : int
        Seeds the module's initialisation and the batch order; torch's global RNG is
        restored afterwards.
    max_epochs : int or None
        Caps the template's ``max_epochs`` (None: the template's).
    weight_averaging : float
        Decay of :class:`WeightAveraging` per batch; 0 trains without it.
    lr_schedule : {"constant", "plateau"}
        "plateau" multiplies the learning rate by :data:`PLATEAU_FACTOR` after
        ``max(1, patience // 3)`` epochs without a lower validation log-loss (training
        loss without validation rows); see :func:`lr_plateau`.
    stop_on : {"log_loss", "objective"}
        What early stopping (and the plateau schedule) watches on the validation rows:
        the student's log-loss against the labels, or the training objective
        (:class:`ValidObjective`), which also scores agreement with the teachers.
    init_state : dict or None
        Weights to start from (a module ``state_dict`` of the same architecture, e.g.
        a shorter training of the same configuration); None, or weights whose names
        or shapes differ, start from the seeded initialisation.
    verbose : bool
        Print skorch's epoch table.

    Returns
    -------
    net : DistillationNet
        Fitted; holds neither the validation rows nor the extra callbacks.
    valid_loss : float
        Best validation log-loss, or nan without validation rows.
    """
    net = clone(template)
    own_callbacks = list(net.callbacks) if isinstance(net.callbacks, list) else []
    params = {"module__n_features": X.shape[1],
              "module__n_classes": targets["teacher_logits"].shape[-1],
              "criterion__temperature": temperature, "criterion__alpha": alpha,
              "device": device, "train_split": None}
    if verbose:
        params["verbose"] = 1
    if lr is not None:
        params["lr"] = lr
    if "optimizer__foreach" not in net.get_params() and "foreach" in inspect.signature(
            net.optimizer).parameters:
        # torch picks the multi-tensor update only on CUDA; on CPU it is as exact and
        # faster for a small net's many parameter tensors
        params["optimizer__foreach"] = True
    if max_epochs is not None:
        params["max_epochs"] = min(int(max_epochs), template.max_epochs)
    params.update({f"module__{key}": value
                   for key, value in (module_params or {}).items()})
    training_callbacks, monitor = _training_callbacks(
        valid, patience=patience, weight_averaging=weight_averaging,
        lr_schedule=lr_schedule, stop_on=stop_on)
    if valid is not None:
        params["train_split"] = predefined_split(BatchedDataset(*valid))
    net.set_params(callbacks=own_callbacks + list(callbacks) + training_callbacks,
                   **params)
    with torch_seeded(seed, cuda_devices(device)), warnings.catch_warnings(), \
            _ctrl_c_noted() as interrupted:
        # In joblib workers the rows are read-only memory maps; torch only reads them.
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        if init_state is None:
            net.fit(X, targets)
        else:  # fit() is initialize() then partial_fit(): load the weights between
            net.initialize()
            if _same_shapes(net.module_.state_dict(), init_state):
                net.module_.load_state_dict(init_state)
            net.partial_fit(X, targets)
    if interrupted():
        raise KeyboardInterrupt
    # Keep neither the validation rows nor a second copy of the weights in the model.
    net.set_params(train_split=None, callbacks=template.callbacks)
    net.initialize_callbacks()
    # The validation log-loss at the epoch early stopping kept (the monitor's best).
    valid_loss = float("nan")
    if valid is not None:
        kept = int(np.argmin(net.history[:, monitor]))
        valid_loss = float(net.history[kept, "valid_loss"])
    return net, valid_loss


@contextmanager
def _ctrl_c_noted():
    """Yield a function telling whether Ctrl-C (SIGINT) came during the block.

    skorch's training loop takes a KeyboardInterrupt for a request to stop training
    (its early stopping raises one) and returns normally; a user's Ctrl-C must stop
    the whole fit instead, not leave a half-trained student that the memory would
    keep. Only in the main thread, where Python handles signals, and only while a
    handler of Python's or the user's own (which still runs) is installed.
    """
    previous = signal.getsignal(signal.SIGINT)
    noted = []
    if threading.current_thread() is not threading.main_thread() or not callable(
            previous):
        yield lambda: False
        return

    def note(signum, frame):
        noted.append(signum)
        previous(signum, frame)

    signal.signal(signal.SIGINT, note)
    try:
        yield lambda: bool(noted)
    finally:
        signal.signal(signal.SIGINT, previous)


def _same_shapes(state, other):
    """Whether two module ``state_dict``s hold tensors of the same names and shapes."""
    return state.keys() == other.keys() and all(
        tuple(state[name].shape) == tuple(other[name].shape) for name in state)


#: Net parameters that a training sets beyond the module's (see :func:`fit_student`)
#: and a restored student gets back.
_TRAINING_PARAMS = ("lr", "max_epochs", "optimizer__foreach", "criterion__temperature",
                    "criterion__alpha")


def student_snapshot(net):
    """A fitted student as data: its module parameters, weights and history.

    Returns
    -------
    dict
        ``params`` (the module's and the training's parameters), ``state`` (name to
        ndarray: the module's weights and buffers, on CPU) and ``history`` (skorch's,
        as a list of dicts). :func:`restore_student` turns it back into a net.
    """
    params = {name: value for name, value in net.get_params().items()
              if name.startswith("module__") or name in _TRAINING_PARAMS}
    state = {name: tensor.detach().cpu().numpy()
             for name, tensor in net.module_.state_dict().items()}
    return {"params": params, "state": state, "history": list(net.history)}


def restore_student(template, snapshot, device):
    """A net from ``template`` with the parameters, weights and history of
    ``snapshot`` (from :func:`student_snapshot`), on ``device``.

    Torch's global random state is left as it was (initialising the module draws
    weights that the snapshot's then replace).
    """
    net = clone(template)
    params = _hidden_units_as_tuples(snapshot["params"], "module__hidden_units")
    if params.get("module__member_params"):
        params["module__member_params"] = [
            _hidden_units_as_tuples(own, "hidden_units")
            for own in params["module__member_params"]]
    net.set_params(**params, device=device, train_split=None)
    with torch_seeded(cuda_devices=cuda_devices(device)):
        net.initialize()
    net.module_.load_state_dict({name: torch.from_numpy(np.asarray(array))
                                 for name, array in snapshot["state"].items()})
    net.history = History(snapshot["history"])
    return net


def _hidden_units_as_tuples(params, name):
    """A copy of ``params`` whose ``name`` (the layer widths) is a tuple where a JSON
    round trip made it a list (JSON has no tuples)."""
    params = dict(params)
    if isinstance(params.get(name), list):
        params[name] = tuple(params[name])
    return params


def cuda_devices(device):
    """The CUDA device indices whose random state a training on ``device`` touches."""
    return [torch.device(device).index or 0] if "cuda" in str(device) else []


def resolve_device(device):
    """Turn ``"auto"`` into ``"cuda"`` or ``"cpu"``; reject devices that are not there."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device={device!r} is not a torch device.") from exc
    if resolved.type == "meta":
        raise ValueError(f"device={device!r} holds no data, so a student cannot "
                         "train there; use device='auto', 'cpu' or 'cuda'.")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but torch finds no CUDA device; "
                         "use device='auto' or 'cpu'.")
    try:  # a device torch knows but this machine lacks: mps off a Mac, cuda:3 of 2
        torch.empty(0, device=resolved)
    except (RuntimeError, AssertionError) as exc:
        reason = str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__
        raise ValueError(f"device={device!r} is not available here ({reason}); use "
                         "device='auto' or 'cpu'.") from exc
    return str(resolved)


def module_device(module):
    """The device a module's parameters live on (CPU for a parameterless module)."""
    param = next(module.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def label_log_losses(proba, labels, sample_weight=None):
    """Per-row log-loss of probabilities ``proba`` (n_rows, n_classes) against the
    encoded ``labels`` (probabilities clipped at 1e-12), each multiplied by its row's
    ``sample_weight`` if given (so that their mean is the weighted mean)."""
    label_proba = proba[np.arange(len(labels)), labels]
    losses = -np.log(np.clip(label_proba, 1e-12, None))
    return losses if sample_weight is None else losses * sample_weight


def predict_proba_fast(module, X, batch_size=16384):
    """Class probabilities from a plain torch forward pass: eval mode, no autograd.

    Gives the same numbers as the skorch net's ``predict_proba`` at a fraction of its
    overhead. The module's train/eval mode is restored afterwards.

    Parameters
    ----------
    module : torch.nn.Module
        Returns logits.
    X : ndarray of shape (n_samples, n_features), float32
    batch_size : int, default=16384

    Returns
    -------
    ndarray of shape (n_samples, n_classes), float32
    """
    device = module_device(module)
    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            chunks = [
                torch.softmax(module(torch.as_tensor(X[start:start + batch_size],
                                                     device=device)), dim=-1)
                for start in range(0, len(X), batch_size)
            ]
            return torch.cat(chunks).cpu().numpy()
    finally:
        module.train(was_training)
