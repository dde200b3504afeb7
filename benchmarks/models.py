"""Benchmark models: teachers, their average, plain MLP, vanilla KD, HPM-KD, ablations.

Every student shares the default student architecture and training loop, so the rows
differ only in what the student learns from:

- ``mlp``: the labels alone (``alpha=1``: the soft term has zero weight);
- ``kd``: vanilla KD, the teachers' average probabilities on their own training rows
  (in-sample), ``T=4``, ``alpha=0.5``;
- ``hpmkd``: ``HPMKDClassifier`` with its defaults, fitting its own teachers
  (``config="auto"``: the learned prior proposes, successive halving picks);
- ``hpmkd -config`` / ``hpmkd -search``: HPM-KD without the configuration manager
  (static defaults) / with the prior's first proposal (no search);
- ``hpmkd -X`` / ``hpmkd +X`` (with ``--ablate``): HPM-KD with component X switched
  off / on at the configuration the ``hpmkd`` row of the same seed chose
  (:func:`component_flips`);
- ``grid T=t a=a`` (with ``--grid``): HPM-KD with ``config="default"`` and the
  temperature and alpha set by hand, the manual grid the configuration manager is
  compared with.

Every ``hpmkd`` variant shares the teacher stage of the ``hpmkd`` row of the same
seed through ``teacher_cache``, so its fit time excludes the teachers (the ``hpmkd``
row's includes them).

Every HPM-KD row runs with ``memory=None``: each fit starts cold, so no row learns
from another through the optimization memory.
"""

from itertools import product


from sklearn.ensemble import VotingClassifier
from sklearn.frozen import FrozenEstimator

from skhpmkd import HPMKDClassifier
from skhpmkd.teachers import default_teachers


def make_teachers(seed):
    """The default teachers, unfitted, seeded with ``seed``."""
    return [(name, estimator.set_params(random_state=seed))
            for name, estimator in default_teachers()]


def frozen(fitted_teachers):
    """Fitted teachers wrapped so that HPMKDClassifier uses them as they are."""
    return [(name, FrozenEstimator(estimator)) for name, estimator in fitted_teachers]


def teacher_average(fitted_teachers, X_train, y_train):
    """Soft-voting average of already fitted teachers."""
    return VotingClassifier(frozen(fitted_teachers), voting="soft").fit(X_train, y_train)


#: Every HPM-KD distillation component off: what the plain MLP and vanilla KD rows are
#: trained with. They keep the student architecture (numeric_embedding="ple") and its
#: training loop (early stopping, weight averaging), so the rows compare ways of
#: training the same network on different targets, on every column.
PLAIN = {"ensemble": "mean", "temperature_schedule": "constant", "chain": "off",
         "augment": "off", "config": "default", "numeric_embedding": "ple",
         "n_members": 1, "search_warm_start": False, "student_features": "all",
         "memory": None}

#: The manual grid of ``--grid``.
GRID_TEMPERATURES = (1.0, 2.0, 4.0, 8.0)
GRID_ALPHAS = (0.1, 0.5, 0.9)


def grid_row(temperature, alpha):
    """The row name of one cell of the manual grid."""
    return f"grid T={temperature:g} a={alpha:g}"


def student_rows():
    """Every row name ``--models`` can select: :func:`make_students`' rows with the
    grid and every ablation of a search component."""
    return ["mlp", "kd", "hpmkd", *ablation_params(),
            *ablation_params(SEARCH_COMPONENTS),
            *(grid_row(t, a) for t, a in product(GRID_TEMPERATURES, GRID_ALPHAS))]


def make_students(fitted_teachers, average, seed, teacher_cache=None, grid=False,
                  ablate=False):
    """Student models to fit, by row name (with ``ablate``, also the rows of
    :data:`SEARCH_COMPONENTS` it names, see :func:`is_ablated`).

    Returns
    -------
    dict of str -> (estimator, bool)
        The estimator, and whether it reuses the benchmark's fitted teachers (their fit
        time is then added to its own).
    """
    from_average = [("average", FrozenEstimator(average))]
    students = {
        "mlp": (HPMKDClassifier(teachers=from_average, alpha=1.0, random_state=seed,
                                **PLAIN), False),
        "kd": (HPMKDClassifier(teachers=from_average, temperature=4.0, alpha=0.5,
                               random_state=seed, **PLAIN), True),
        "hpmkd": (HPMKDClassifier(random_state=seed, teacher_cache=teacher_cache,
                                  memory=None), False),
    }
    flipped = {**ablation_params(),
               **{name: params
                  for name, params in ablation_params(SEARCH_COMPONENTS).items()
                  if is_ablated(name, ablate)}}
    students.update({name: (HPMKDClassifier(random_state=seed,
                                            teacher_cache=teacher_cache,
                                            memory=None, **params), False)
                     for name, params in flipped.items()})
    if grid:
        students.update({
            grid_row(t, a): (HPMKDClassifier(
                config="default", temperature=t, alpha=a, random_state=seed,
                teacher_cache=teacher_cache, memory=None), False)
            for t, a in product(GRID_TEMPERATURES, GRID_ALPHAS)})
    return students


#: Components of the configuration manager, flipped for the whole fit (a row of their
#: own in every run, not only with ``--ablate``): ``hpmkd -config`` (T=4, alpha=0.5,
#: "ple": no prior, no search) and ``hpmkd -search`` (the prior's first proposal),
#: cheap next to the teachers and the main question of a run.
MANAGER_COMPONENTS = {
    "config": ("config", "auto", "default"),
    "search": ("search_budget", 6, 0),
}

#: Settings of the search, flipped for the whole fit with ``--ablate`` only:
#: ``search_folds`` cross-validates the short rungs on small data (a whole search per
#: row; the same fit as ``hpmkd`` where the validation split has 1,000 rows);
#: ``validation_held_out`` keeps the validation rows out of the fold teachers, which
#: changes what the search sees (a whole search per row too); ``search_labels``
#: ranks the short rungs on labels of teachers refitted without the validation rows
#: (the same fit as ``hpmkd`` where the search keeps its pick); ``confirm_winner``
#: checks a challenger's win against the favourite with both averaged over their
#: members (the same fit as ``hpmkd`` where the favourite wins or one student is kept);
#: ``augment_trial`` tries the chosen configuration with augmentation (the same fit
#: where it is not kept); ``warm_start`` continues the last rung from the rung
#: before's network (the same fit where that rung trained on all rows);
#: ``weak_teachers`` gives the labels alpha=0.9 where a linear model beats the
#: teachers out of fold (the same fit where it does not); ``fold_members`` adds the
#: augment trial's fold students to the shipped average (the same fit where the trial
#: did not judge on folds, or kept augmentation); ``screening`` gives the student
#: every column (the same fit where ``student_features="auto"`` keeps them all: more
#: than 40 rows per column or at most 100 columns, every suite dataset).
SEARCH_COMPONENTS = {
    "cv": ("search_folds", "auto", 1),
    "held_out": ("validation_held_out", True, False),
    "search_labels": ("search_labels", "held_out", "shared"),
    "confirm": ("confirm_winner", True, False),
    "augment_trial": ("augment_trial", True, False),
    "warm_start": ("search_warm_start", "auto", False),
    "weak_teachers": ("weak_teachers", "auto", "off"),
    "fold_members": ("fold_members", True, False),
    "screening": ("student_features", "auto", "all"),
}

#: Components the configuration manager chooses per task: (searched parameter, value
#: when on, value when off). ``--ablate`` flips each at the configuration the
#: ``hpmkd`` row chose; "on" for the input encoding is the static default.
CHOSEN_COMPONENTS = {
    "attention": ("ensemble", "attention", "mean"),
    "adaptive_T": ("temperature_schedule", "adaptive", "constant"),
    "embedding": ("numeric_embedding", "ple", "none"),
    "augment": ("augment", "auto", "off"),
}

#: Components set by the classifier's own parameters, not chosen by the manager:
#: (parameter, value when on, value when off).
FIXED_COMPONENTS = {
    "chain": ("chain", "auto", "off"),
    "members": ("n_members", "auto", 1),
    "averaging": ("weight_averaging", 0.99, 0.0),
    "lr_plateau": ("lr_schedule", "plateau", "constant"),
    "stop_objective": ("early_stopping_on", "objective", "log_loss"),
}


#: Names ``--ablate`` takes: every component a row ``hpmkd -name`` / ``+name`` flips.
ABLATION_COMPONENTS = (*SEARCH_COMPONENTS, *CHOSEN_COMPONENTS, *FIXED_COMPONENTS, "oof")


def is_ablated(row, ablate):
    """Whether the ablation row ``row`` (``hpmkd -name`` or ``hpmkd +name``) runs:
    ``ablate`` is True (every component), False (none) or a set of component names."""
    return ablate is True or bool(ablate) and row.removeprefix("hpmkd ")[1:] in ablate


def ablation_params(components=MANAGER_COMPONENTS):
    """Row name -> parameters that flip one component against HPMKDClassifier's default.

    A component on by default gets a row ``hpmkd -name`` (switched off); one off by
    default gets ``hpmkd +name`` (switched on). Either way the row measures it.
    """
    defaults = HPMKDClassifier().get_params()
    rows = {}
    for name, (param, on, off) in components.items():
        row, value = _flipped(name, on, off, is_on=defaults[param] == on)
        rows[row] = {param: value}
    return rows


def _flipped(name, on, off, is_on):
    """Row name and value that flip component ``name``: ``hpmkd -name`` and ``off``
    where it is on, ``hpmkd +name`` and ``on`` where it is off."""
    return (f"hpmkd -{name}", off) if is_on else (f"hpmkd +{name}", on)


def component_flips(chosen):
    """Row name -> parameters: each component flipped at the configuration ``chosen``
    (a fitted ``hpmkd``'s ``config_``), everything else kept, no search.

    A component the chosen configuration (or the default parameters) uses gets a row
    ``hpmkd -name`` (switched off); one it leaves off gets ``hpmkd +name`` (switched
    on). ``HPMKDClassifier(config=chosen)`` reproduces the ``hpmkd`` row exactly, so
    each row differs from it in that one component only.
    """
    rows = {}
    for name, (param, on, off) in CHOSEN_COMPONENTS.items():
        row, value = _flipped(name, on, off, is_on=chosen[param] != off)
        rows[row] = {"config": {**chosen, param: value}}
    for name, params in ablation_params(FIXED_COMPONENTS).items():
        rows[name] = {"config": dict(chosen), **params}
    return rows


def ablations(chosen, fitted_teachers, seed, teacher_cache=None):
    """HPM-KD with one component flipped at a time at the chosen configuration (same
    row format as make_students)."""
    rows = {name: (HPMKDClassifier(random_state=seed, teacher_cache=teacher_cache,
                                   memory=None, **params), False)
            for name, params in component_flips(chosen).items()}
    # in-sample soft labels from the benchmark's teachers instead of out-of-fold ones
    rows["hpmkd -oof"] = (HPMKDClassifier(teachers=frozen(fitted_teachers),
                                          config=dict(chosen), random_state=seed,
                                          memory=None), True)
    return rows
