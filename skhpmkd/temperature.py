"""Temperature schedules for the distillation loss and the callback that applies them.

A schedule turns the training history into the softmax temperature of the next epoch.
Each schedule is a small object with ``reset()`` and ``next_temperature(history)``; its
parameters are plain numbers in the ``params`` dict (resolved, with defaults filled
in), so a configuration search can propose and record them as data. Build one with
:func:`make_schedule` and attach it to the student with :class:`TemperatureScheduler`.
"""

import math
from collections.abc import Mapping
from numbers import Integral, Real

from skorch.callbacks import Callback

#: The schedule kinds :func:`make_schedule` accepts.
TEMPERATURE_SCHEDULES = ("constant", "annealed", "adaptive")


def _check_number(name, value, *, integer=False, low=None, high=None,
                  low_inclusive=False, high_inclusive=False):
    """``value`` as an int or float, or a ValueError naming ``name`` and its range."""
    kind = Integral if integer else Real
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok and not integer:
        ok = math.isfinite(value)
    if ok and low is not None:
        ok = value >= low if low_inclusive else value > low
    if ok and high is not None:
        ok = value <= high if high_inclusive else value < high
    if not ok:
        left = ("[" if low_inclusive else "(") + ("-inf" if low is None else str(low))
        right = ("inf" if high is None else str(high)) + ("]" if high_inclusive else ")")
        expected = "an int" if integer else "a finite number"
        raise ValueError(f"{name} must be {expected} in {left}, {right}; got {value!r}.")
    return int(value) if integer else float(value)


def epoch_gap(epoch):
    """The student-teacher gap of one finished epoch, or None when it was not recorded.

    Parameters
    ----------
    epoch : dict
        One row of a skorch ``History``.

    Returns
    -------
    float or None
        Mean of the training batches' ``distill_kl``, weighted by ``train_batch_size``.
        Validation batches (which carry ``valid_*`` keys instead) are ignored.
    """
    total, weight = 0.0, 0
    for batch in epoch.get("batches", []):
        if "distill_kl" in batch and "train_batch_size" in batch:
            total += batch["distill_kl"] * batch["train_batch_size"]
            weight += batch["train_batch_size"]
    return total / weight if weight > 0 else None


class _Schedule:
    """Shared parameter handling: ``defaults`` plus user ``params``, validated."""

    kind = None
    defaults = {}

    def __init__(self, temperature, params=None):
        self.temperature = _check_number("temperature", temperature, low=0)
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise ValueError(f"params of the {self.kind!r} temperature schedule must "
                             f"be a dict; got {type(params).__name__}.")
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            allowed = sorted(self.defaults) or "none"
            raise ValueError(f"Unknown parameters {unknown} for the {self.kind!r} "
                             f"temperature schedule; allowed: {allowed}.")
        self.params = self._resolve({**self.defaults, **params})
        self.reset()

    def _resolve(self, params):
        """Validated, typed parameters (subclasses check their own)."""
        return dict(params)

    def reset(self):
        """Forget any training state; the next call starts the schedule over."""

    def next_temperature(self, history):
        """The temperature of the epoch that ``history[-1]`` has just opened."""
        raise NotImplementedError

    def __repr__(self):
        return (f"{type(self).__name__}(temperature={self.temperature!r}, "
                f"params={self.params!r})")


class ConstantTemperature(_Schedule):
    """The same temperature in every epoch. Takes no parameters.

    Parameters
    ----------
    temperature : float
        Softmax temperature, > 0.
    params : dict, optional
        Must be empty.
    """

    kind = "constant"
    defaults = {}

    def next_temperature(self, history):
        """Always ``temperature``."""
        return self.temperature


class AnnealedTemperature(_Schedule):
    """Cosine annealing of the temperature, then a constant tail.

    In epoch ``e`` (0-based, ``e = len(history) - 1``) the temperature is
    ``final + (temperature - final) * (1 + cos(pi * min(e, epochs) / epochs)) / 2``:
    ``temperature`` in the first epoch, ``final`` from epoch ``epochs`` on. It depends
    only on the epoch count, so a continued ``partial_fit`` carries on where it was.

    Parameters
    ----------
    temperature : float
        Starting temperature, > 0.
    params : dict, optional
        ``final`` (float > 0, default 1.0): the temperature at the end of the anneal.
        ``epochs`` (int >= 1, default 30): how many epochs the anneal takes.
    """

    kind = "annealed"
    defaults = {"final": 1.0, "epochs": 30}

    def _resolve(self, params):
        return {"final": _check_number("final", params["final"], low=0),
                "epochs": _check_number("epochs", params["epochs"], integer=True,
                                        low=1, low_inclusive=True)}

    def next_temperature(self, history):
        """The cosine-annealed temperature of the epoch ``history[-1]``."""
        epoch = max(len(history) - 1, 0)
        progress = min(epoch, self.params["epochs"]) / self.params["epochs"]
        final = self.params["final"]
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return final + (self.temperature - final) * cosine


class AdaptiveTemperature(_Schedule):
    """Lower the temperature when the student-teacher gap stops shrinking.

    Training starts at ``temperature``. At the start of every later epoch the previous
    epoch's gap (:func:`epoch_gap`) is compared with the best gap seen at the current
    temperature: an improvement by more than the relative ``tol`` becomes the new best;
    otherwise a patience counter grows. After ``patience`` epochs without improvement
    the temperature is multiplied by ``factor`` (the soft targets have been absorbed,
    so the targets are sharpened towards the teachers' decisions: a curriculum from
    soft to sharp), and both the counter and the best gap are reset, because gaps at
    different temperatures are not comparable. The temperature stays within
    ``[t_min, t_max]`` and never rises above its starting value. Epochs that recorded
    no ``distill_kl`` leave everything unchanged.

    The result is a deterministic function of the history: ``next_temperature`` reads
    every finished epoch it has not yet seen, so after ``reset()`` a continued history
    (``partial_fit``) is replayed to the same temperature.

    Parameters
    ----------
    temperature : float
        Starting temperature, > 0.
    params : dict, optional
        ``patience`` (int >= 1, default 3): epochs without improvement before lowering.
        ``factor`` (float in (0, 1), default 0.7): multiplier applied to the temperature.
        ``tol`` (float in [0, 1), default 0.01): relative improvement that counts.
        ``t_min`` (float > 0, default ``min(1.0, temperature)``): lowest temperature.
        ``t_max`` (float >= t_min, default ``temperature``, or ``t_min`` where that is
        higher): highest temperature; the start is clipped to it.
    """

    kind = "adaptive"
    defaults = {"patience": 3, "factor": 0.7, "tol": 0.01, "t_min": None, "t_max": None}

    def _resolve(self, params):
        t_min = min(1.0, self.temperature) if params["t_min"] is None else params["t_min"]
        resolved = {
            "patience": _check_number("patience", params["patience"], integer=True,
                                      low=1, low_inclusive=True),
            "factor": _check_number("factor", params["factor"], low=0, high=1),
            "tol": _check_number("tol", params["tol"], low=0, high=1, low_inclusive=True),
            "t_min": _check_number("t_min", t_min, low=0),
        }
        # the default never falls below an explicit t_min: a starting temperature
        # that the configuration manager picks cannot make valid params invalid
        t_max = (max(self.temperature, resolved["t_min"]) if params["t_max"] is None
                 else params["t_max"])
        resolved["t_max"] = _check_number("t_max", t_max, low=resolved["t_min"],
                                          low_inclusive=True)
        return resolved

    def reset(self):
        """Back to the starting temperature, with no gap history."""
        self._current = min(max(self.temperature, self.params["t_min"]),
                            self.params["t_max"])
        self._best_gap = math.inf
        self._epochs_without_improvement = 0
        self._epochs_seen = 0

    def _observe(self, gap):
        """Update the state with one finished epoch's gap."""
        if gap is None:
            return
        if gap < self._best_gap * (1.0 - self.params["tol"]):
            self._best_gap = gap
            self._epochs_without_improvement = 0
            return
        self._epochs_without_improvement += 1
        if self._epochs_without_improvement >= self.params["patience"]:
            lowered = self._current * self.params["factor"]
            self._current = max(lowered, self.params["t_min"])
            self._best_gap = math.inf
            self._epochs_without_improvement = 0

    def next_temperature(self, history):
        """The temperature of the epoch ``history[-1]``, after reading finished epochs."""
        finished = max(len(history) - 1, 0)
        if finished < self._epochs_seen:  # a new, shorter history: start over
            self.reset()
        for index in range(self._epochs_seen, finished):
            self._observe(epoch_gap(history[index]))
        self._epochs_seen = finished
        return self._current


_SCHEDULE_CLASSES = {cls.kind: cls for cls in
                     (ConstantTemperature, AnnealedTemperature, AdaptiveTemperature)}


def make_schedule(kind, temperature, params=None):
    """Build a temperature schedule.

    Parameters
    ----------
    kind : {"constant", "annealed", "adaptive"}
        See :class:`ConstantTemperature`, :class:`AnnealedTemperature` and
        :class:`AdaptiveTemperature` for what each does and its parameters.
    temperature : float
        Starting temperature, > 0.
    params : dict, optional
        The schedule's parameters; missing ones take their defaults.

    Returns
    -------
    schedule
        With ``reset()``, ``next_temperature(history)`` and the resolved ``params``.

    Raises
    ------
    ValueError
        For an unknown ``kind``, unknown parameter names or out-of-range values.
    """
    if kind not in _SCHEDULE_CLASSES:
        raise ValueError(f"Unknown temperature schedule {kind!r}; "
                         f"choose one of {TEMPERATURE_SCHEDULES}.")
    return _SCHEDULE_CLASSES[kind](temperature, params)


def schedule_params(kind, params):
    """The entries of ``params`` (a dict or None) that the schedule ``kind`` takes."""
    if not params or kind not in _SCHEDULE_CLASSES:
        return params
    return {name: value for name, value in params.items()
            if name in _SCHEDULE_CLASSES[kind].defaults}


def check_schedule_params(params, kind=None, temperature=None):
    """Check a classifier's ``temperature_params`` before any fitting.

    Parameters
    ----------
    params : dict or None
        The schedules' parameters.
    kind : str or None
        The schedule they are for; None where the configuration manager picks it,
        so each schedule takes the parameters it knows (:func:`schedule_params`)
        and every name must be some schedule's.
    temperature : float or None
        The starting temperature (None: one the configuration manager picks; the
        check assumes 1.0, the lowest it proposes).

    Raises
    ------
    ValueError
        Naming ``temperature_params`` and the parameter at fault.
    """
    if params is None:
        return
    if not isinstance(params, Mapping):
        raise ValueError("temperature_params must be a dict or None; got "
                         f"{type(params).__name__}.")
    known = sorted({name for cls in _SCHEDULE_CLASSES.values() for name in cls.defaults})
    unknown = sorted(set(params) - set(known))
    if kind is None and unknown:
        raise ValueError(f"temperature_params holds {unknown}, which no temperature "
                         f"schedule takes (they take {known}).")
    for each in TEMPERATURE_SCHEDULES if kind is None else (kind,):
        try:
            make_schedule(each, 1.0 if temperature is None else temperature,
                          schedule_params(each, params) if kind is None else params)
        except ValueError as exc:
            raise ValueError(f"temperature_params: {exc}") from None


class TemperatureScheduler(Callback):
    """skorch callback that sets the distillation temperature at every epoch start.

    On ``on_train_begin`` the schedule is reset. On ``on_epoch_begin`` (after the net
    has opened the new history row) the schedule's temperature is written to
    ``net.criterion_.temperature`` and recorded as ``temperature`` in the history.

    Parameters
    ----------
    schedule : schedule object
        From :func:`make_schedule`.
    """

    def __init__(self, schedule):
        self.schedule = schedule

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.schedule.reset()

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        temperature = float(self.schedule.next_temperature(net.history))
        net.criterion_.temperature = temperature
        net.history.record("temperature", temperature)
