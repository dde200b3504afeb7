"""One student training for one configuration: size, input encoding, schedule, targets.

:class:`StudentTrainer` holds everything a training needs (the template, the transfer
sets, the validation rows, the device and seed) and trains a student for a given
configuration of :data:`skhpmkd.config.SEARCHED_PARAMS`. It is a plain picklable
object, so the budgeted search can send it to joblib workers, and the progressive
chain can call it for each of its steps.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from .augment import synthetic_rows
from .chain import CHAIN_MIX, with_previous_student
from .losses import mixed_soft_targets
from .student import (
    binary_levels,
    default_hidden_units,
    fit_student,
    has_default_module,
    label_log_losses,
    numeric_scaling,
    predict_proba_fast,
    quantile_bin_edges,
    scaled_units,
    take_rows,
    widest_within_budget,
)
from .progress import tick
from .teachers import proba_to_logits
from .temperature import TemperatureScheduler, make_schedule, schedule_params


def distillation_targets(labels, teacher_proba, teacher_weights, sample_weight=None):
    """The per-row targets a student trains on: labels (-1 for synthetic rows), the
    teachers' centred log-probabilities and their per-row mixture weights; with
    ``sample_weight`` (one per row), also the rows' weights, scaled to mean 1 over
    the labelled rows (synthetic rows weigh 1, as an average row)."""
    targets = {"label": labels.astype(np.int64),
               "teacher_logits": proba_to_logits(teacher_proba),
               "teacher_weights": teacher_weights}
    if sample_weight is not None:
        targets["sample_weight"] = scaled_row_weights(sample_weight, labels >= 0)
    return targets


def scaled_row_weights(sample_weight, labelled):
    """``sample_weight`` divided by its mean over the ``labelled`` rows (float32), the
    other rows set to 1; all 1 where the labelled rows weigh nothing in all."""
    weights = np.ones(len(sample_weight), dtype=np.float32)
    mean = float(np.mean(sample_weight[labelled])) if labelled.any() else 0.0
    if mean > 0:
        weights[labelled] = sample_weight[labelled] / mean
    return weights


def short_rung_rows(labels, max_labelled, seed):
    """Rows a short rung of the search trains on: ``max_labelled`` random labelled
    rows (the same ones for every configuration) and the same share of the synthetic
    rows (label -1), so that a configuration with augmentation is judged on a scaled-
    down version of its full transfer set rather than on fewer labelled rows. None
    (every row) when there are at most ``max_labelled`` labelled rows."""
    labelled, synthetic = np.flatnonzero(labels >= 0), np.flatnonzero(labels < 0)
    if max_labelled >= len(labelled):
        return None
    share = max_labelled / len(labelled)
    keep = labelled[np.sort(np.random.default_rng(seed).permutation(
        len(labelled))[:max_labelled])]
    n_synthetic = int(round(share * len(synthetic)))
    keep_synthetic = synthetic[np.sort(np.random.default_rng(seed + 1).permutation(
        len(synthetic))[:n_synthetic])]
    return np.concatenate([keep, keep_synthetic])


def transfer_key(config):
    """Which transfer set a configuration trains on: its teacher mixture and its
    augmentation."""
    return config["ensemble"], config["augment"]


#: Per input encoding, the default MLP's parameter that carries its data and the
#: function that computes that data from the training rows ("none" standardises the
#: numeric columns and encodes nothing).
ENCODINGS = {"ple": ("bin_edges", quantile_bin_edges),
             "periodic": ("periodic_scaling", numeric_scaling),
             "none": ("standard_scaling", numeric_scaling)}


def plan_student(template, X_labelled, n_classes, config, student_budget=None):
    """(module parameters, hidden units) of the default MLP student for ``config``.

    The input encoding's parameters come from the labelled rows ``X_labelled``; the
    template's hidden units are kept when it sets them, else the data's default size
    is scaled by ``config["width"]`` and then narrowed to ``student_budget`` (largest
    pickled bytes, None: no budget).
    """
    units = template.get_params().get("module__hidden_units")
    parameter, encoding_data = ENCODINGS[config["numeric_embedding"]]
    per_column = encoding_data(X_labelled)
    module_params = {parameter: per_column}
    levels = binary_levels(X_labelled, per_column)
    if levels is not None:  # else no parameter: the module is as without it
        module_params["binary_levels"] = levels
    if units is None:
        n_features = X_labelled.shape[1]
        units = scaled_units(default_hidden_units(n_features, n_classes), config["width"])
        if student_budget is not None:
            units = widest_within_budget(n_features, n_classes, units, student_budget,
                                         module_params)
    return module_params, tuple(units)


def planned_student(template, X, rows, n_classes, student_budget=None):
    """``config -> (input encoding, hidden units, synthetic rows)``: what a student of
    ``config`` would be and train on, for the settings whose effect depends on the data.

    ``X[rows]`` are the labelled training rows (taken only when a network is planned).
    The encoding is "none" where it would encode no column (every column binary) or
    the template's module is not the default MLP (which takes no encoding; its size
    is the user's, so the units are None); the synthetic rows are those of
    ``config["augment"]`` for these rows (none on large data).
    """
    default_module = has_default_module(template)

    @lru_cache(maxsize=1)
    def labelled():
        return X[rows]

    @lru_cache(maxsize=None)
    def network(numeric_embedding, width):
        if not default_module:
            return "none", None
        config = {"numeric_embedding": numeric_embedding, "width": width}
        module_params, units = plan_student(template, labelled(), n_classes, config,
                                            student_budget)
        encodes = any(value is not None
                      for per_column in module_params.values() for value in per_column)
        return numeric_embedding if encodes else "none", units

    def student(config):
        return (*network(config["numeric_embedding"], config["width"]),
                synthetic_rows(len(rows), config["augment"]))

    return student


@dataclass
class StudentTrainer:
    """Train students from ``template`` for any configuration.

    ``transfer_sets`` maps :func:`transfer_key` of each configuration that may be
    trained to its ``(X, targets)``: the training rows (then any synthetic rows) with
    their soft targets under that teacher mixture. ``valid`` is ``(X, targets)`` of
    the validation rows, or None. ``student_budget`` is the largest pickled size of a
    default-sized module (teacher bytes / ``min_compression``), or None for no budget.
    ``weight_averaging`` is the per-batch decay of the students' weight average (0:
    none); ``lr_schedule`` and ``stop_on`` are :func:`skhpmkd.student.fit_student`'s.
    ``score`` is ``(X, targets)`` of rows that judge the trained students instead of
    ``valid`` (which then serves early stopping alone), or None.
    """

    template: Any
    transfer_sets: dict
    valid: Any
    n_classes: int
    temperature_params: Any
    patience: int
    device: str
    seed: int
    student_budget: Any = None
    weight_averaging: float = 0.0
    lr_schedule: str = "constant"
    stop_on: str = "log_loss"
    verbose: bool = False
    score: Any = None

    @property
    def default_module(self):
        """Whether the template uses the default MLP (which the trainer sizes itself)."""
        return has_default_module(self.template)

    @property
    def _labelled(self):
        """Labels and, where the fit has them, sample weights of the labelled training
        rows (every transfer set has the same ones; synthetic rows, labelled -1, left
        out)."""
        _, targets = next(iter(self.transfer_sets.values()))
        labelled = targets["label"] >= 0
        return {key: targets[key][labelled] for key in ("label", "sample_weight")
                if key in targets}

    @property
    def labels(self):
        """Labels of the labelled training rows."""
        return self._labelled["label"]

    @property
    def label_weights(self):
        """Weights of the labelled training rows (None: the fit has no sample
        weights)."""
        return self._labelled.get("sample_weight")

    @property
    def n_labelled(self):
        """Labelled training rows."""
        return len(self.labels)

    def transfer_set(self, config):
        """``(X, targets)`` that a student of ``config`` learns from."""
        return self.transfer_sets[transfer_key(config)]

    def plan(self, config):
        """(module parameters, target hidden units) of the student for ``config``
        (see :func:`plan_student`)."""
        if not self.default_module:
            return None, None
        X, targets = self.transfer_set(config)
        return plan_student(self.template, X[targets["label"] >= 0], self.n_classes,
                            config, self.student_budget)

    def __call__(self, config, hidden_units=None, previous=None, max_epochs=None,
                 max_rows=None, init=None):
        """Train one student; returns ``(net, validation log-loss)``: at the epoch
        early stopping kept, on ``score`` if given, else on ``valid`` (its best).

        ``hidden_units`` overrides the planned size (chain assistants), ``previous``
        is the chain's previous network (it joins the teachers in the soft targets),
        ``max_epochs`` and ``max_rows`` cap training (the search's short rungs train
        on a random subset of the labelled rows, the same for every candidate, and
        the same share of its synthetic rows: see :func:`short_rung_rows`), and
        ``init`` is a network of the same configuration to go on training from
        (the search's last rung continues a short rung's). The size and the encoding
        are always planned on all rows.
        """
        module_params, target_units = self.plan(config)
        if module_params is not None:
            module_params = {**module_params,
                             "hidden_units": hidden_units or target_units}
        X, targets = self.transfer_set(config)
        rows = (None if max_rows is None
                else short_rung_rows(targets["label"], max_rows, self.seed))
        if rows is not None:
            X, targets = X[rows], take_rows(targets, rows)
        if previous is not None:
            targets = with_previous_student(targets, previous, X, CHAIN_MIX)
        kind = config["temperature_schedule"]
        schedule = make_schedule(kind, config["temperature"],
                                 schedule_params(kind, self.temperature_params))
        net, valid_loss = fit_student(
            self.template, X, targets, valid=self.valid,
            module_params=module_params, temperature=config["temperature"],
            alpha=config["alpha"], lr=config["lr"],
            callbacks=[("hpmkd_temperature", TemperatureScheduler(schedule))],
            patience=self.patience, device=self.device, seed=self.seed,
            max_epochs=max_epochs, weight_averaging=self.weight_averaging,
            lr_schedule=self.lr_schedule, stop_on=self.stop_on,
            init_state=None if init is None else init.module_.state_dict(),
            verbose=self.verbose)
        if self.score is not None:
            valid_loss = float(np.mean(self.valid_row_losses(net)))
        tick()
        return net, valid_loss

    @property
    def judging(self):
        """``(X, targets)`` of the rows that judge a trained student: ``score``, else
        ``valid``."""
        return self.score if self.score is not None else self.valid

    def valid_proba(self, net):
        """A trained student's probabilities on the rows that judge it."""
        return predict_proba_fast(net.module_, self.judging[0])

    @property
    def valid_labels(self):
        """Labels of the rows that judge a student."""
        return self.judging[1]["label"]

    @property
    def valid_weights(self):
        """Weights of the rows that judge a student (None: no sample weights)."""
        return self.judging[1].get("sample_weight")

    def valid_row_losses(self, net):
        """Per-row log-loss of a trained student on the rows that judge it (times
        the rows' weights, if any)."""
        return label_log_losses(self.valid_proba(net), self.valid_labels,
                                self.valid_weights)

    def prior_row_losses(self):
        """Per-row log-loss on the rows that judge a student of predicting the
        labelled training rows' (weighted) class shares (a student that learned
        nothing)."""
        counts = np.bincount(self.labels, weights=self.label_weights,
                             minlength=self.n_classes)
        shares = np.tile(counts / counts.sum(), (len(self.valid_labels), 1))
        return label_log_losses(shares, self.valid_labels, self.valid_weights)

    def teacher_row_losses(self):
        """Per-row log-loss on the rows that judge a student of the teachers' mixture:
        the outputs it learns from (out of fold unless ``teacher_cv`` says otherwise),
        mixed by the rows' teacher weights, at T=1."""
        targets = self.judging[1]
        mixture = mixed_soft_targets(torch.as_tensor(targets["teacher_logits"]),
                                     torch.as_tensor(targets["teacher_weights"]), 1.0)
        return label_log_losses(mixture.numpy(), self.valid_labels, self.valid_weights)


#: A student whose mean validation log-loss is not lower than the class shares' by
#: this share of theirs has learned nothing the validation rows can see
#: (docs/benchmarks.md, "A student that learned nothing").
LEARNED_NOTHING_MARGIN = 0.01


def learned_nothing(scores):
    """Whether :func:`validation_scores` ``scores`` (None: no validation rows) show a
    student no better than the class shares by :data:`LEARNED_NOTHING_MARGIN` of
    their log-loss, on 2 rows or more."""
    return scores is not None and scores["rows"] >= 2 and (
        scores["class_shares"] - scores["student"]
        < LEARNED_NOTHING_MARGIN * scores["class_shares"])


def validation_scores(trainer, net):
    """Mean log-losses of the trained student ``net``, of the class shares and of the
    teachers' mixture on the rows that judge a student of ``trainer`` (with their
    number, ``"rows"``); None where it has none."""
    if trainer.valid is None:
        return None
    student = trainer.valid_row_losses(net)
    return {"rows": len(student), "student": float(np.mean(student)),
            "class_shares": float(np.mean(trainer.prior_row_losses())),
            "teachers": float(np.mean(trainer.teacher_row_losses()))}


@dataclass
class CrossValidatedTrainer:
    """Train a configuration once per fold and judge it on every fold's validation
    rows pooled (the search's short rungs on small data; see
    :func:`skhpmkd.search.search_folds`).

    ``trainers`` holds one :class:`StudentTrainer` per fold, each with that fold's
    training rows as its transfer sets and its held-out rows as ``valid``.
    """

    trainers: list

    def __call__(self, config, max_epochs=None, max_rows=None):
        """Train one student per fold; returns ``(tuple of nets, pooled log-loss)``."""
        nets = tuple(trainer(config, max_epochs=max_epochs, max_rows=max_rows)[0]
                     for trainer in self.trainers)
        return nets, float(np.mean(self.valid_row_losses(nets)))

    def valid_row_losses(self, nets):
        """Per-row log-loss on every fold's validation rows, fold after fold."""
        return np.concatenate([trainer.valid_row_losses(net)
                               for trainer, net in zip(self.trainers, nets)])

    def prior_row_losses(self):
        """:meth:`StudentTrainer.prior_row_losses` of every fold, fold after fold."""
        return np.concatenate([trainer.prior_row_losses() for trainer in self.trainers])
