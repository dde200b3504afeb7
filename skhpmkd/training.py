"""One student training for one configuration: size, input encoding, schedule, targets.

:class:`StudentTrainer` holds everything a training needs (the template, the transfer
set, the validation rows, the device and seed) and trains a student for a given
configuration of :data:`skhpmkd.config.SEARCHED_PARAMS`. It is a plain picklable
object, so the budgeted search can send it to joblib workers, and the progressive
chain can call it for each of its steps.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from .chain import CHAIN_MIX, with_previous_student
from .student import (
    MLPModule,
    default_hidden_units,
    fit_student,
    predict_proba_fast,
    quantile_bin_edges,
    widest_within_budget,
)
from .temperature import TemperatureScheduler, make_schedule


def target_rows(targets, index):
    """The rows ``index`` of a dict of per-row target arrays."""
    return {key: value[index] for key, value in targets.items()}


@dataclass
class StudentTrainer:
    """Train students from ``template`` on ``X``/``targets`` for any configuration.

    ``student_budget`` is the largest pickled size of a default-sized module
    (teacher bytes / ``min_compression``), or None for no budget.
    """

    template: Any
    X: Any
    targets: dict
    valid: Any
    n_classes: int
    temperature_schedule: str
    temperature_params: Any
    patience: int
    device: str
    seed: int
    student_budget: Any = None
    verbose: bool = False

    @property
    def default_module(self):
        """Whether the template uses the default MLP (which the trainer sizes itself)."""
        return self.template.module is MLPModule

    def plan(self, config):
        """(module parameters, target hidden units) of the student for ``config``."""
        if not self.default_module:
            return None, None
        n_features = self.X.shape[1]
        units = self.template.get_params().get("module__hidden_units")
        module_params = {}
        if config["numeric_embedding"] == "ple":
            module_params["bin_edges"] = quantile_bin_edges(
                self.X[self.targets["label"] >= 0])
        if units is None:
            units = default_hidden_units(n_features, self.n_classes)
            if self.student_budget is not None:
                units = widest_within_budget(n_features, self.n_classes, units,
                                             self.student_budget, module_params)
        return module_params, tuple(units)

    def __call__(self, config, hidden_units=None, previous=None, max_epochs=None,
                 max_rows=None):
        """Train one student; returns ``(net, best validation log-loss)``.

        ``hidden_units`` overrides the planned size (chain assistants), ``previous``
        is the chain's previous network (it joins the teachers in the soft targets),
        ``max_epochs`` and ``max_rows`` cap training (the search's short rungs train
        on a random subset of the rows, the same for every candidate). The size and
        the encoding are always planned on all rows.
        """
        module_params, target_units = self.plan(config)
        if module_params is not None:
            module_params = {**module_params,
                             "hidden_units": hidden_units or target_units}
        X, targets = self.X, self.targets
        if max_rows is not None and max_rows < len(X):
            order = np.random.default_rng(self.seed).permutation(len(X))
            rows = np.sort(order[:max_rows])
            X, targets = X[rows], target_rows(targets, rows)
        if previous is not None:
            targets = with_previous_student(targets, previous, X, CHAIN_MIX)
        schedule = make_schedule(self.temperature_schedule, config["temperature"],
                                 self.temperature_params)
        return fit_student(
            self.template, X, targets, valid=self.valid,
            module_params=module_params, temperature=config["temperature"],
            alpha=config["alpha"],
            callbacks=[("hpmkd_temperature", TemperatureScheduler(schedule))],
            patience=self.patience, device=self.device, seed=self.seed,
            max_epochs=max_epochs, verbose=self.verbose)

    def valid_row_losses(self, net):
        """Per-row log-loss of a trained student on the validation rows."""
        X_valid, targets = self.valid
        proba = predict_proba_fast(net.module_, X_valid)
        label_proba = proba[np.arange(len(X_valid)), targets["label"]]
        return -np.log(np.clip(label_proba, 1e-12, None))
