"""HPMKDClassifier: parameters, validation, fit orchestration and fast prediction."""

import logging
import os
import warnings
from copy import deepcopy
from dataclasses import replace
from functools import partial
from numbers import Integral, Real
from time import perf_counter

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    _num_samples,
    check_is_fitted,
    validate_data,
)
from skorch.history import History

from .augment import TRIAL_POOLED_ROWS, synthetic_rows
from .chain import check_chain, plan_chain, run_chain
from .config import (
    SEARCHED_PARAMS,
    STATIC_DEFAULTS,
    check_config,
    load_prior,
    meta_features,
    propose_candidates,
    remembered_best,
    resolve_config,
)
from .ensemble import (
    ENSEMBLE_METHODS,
    restore_weighting,
    significantly_lower,
    weighting_snapshot,
)
from .members import (MEMBER_MIN_GAIN, auto_member_count, grow_members,
                      members_within_budget, merge_members)
from .memory import data_fingerprint, decode_arrays, open_memory
from .offsets import column_offsets, student_input
from .parallel import release_workers
from .progress import progress_bar, write
from .reference import WEAK_TEACHER_ALPHA, has_weak_teachers, teacher_lift
from .reuse import (
    fit_key,
    fitted_signature,
    is_restorable,
    load_fit,
    signatures_match,
    store_fit,
    teacher_signature,
)
from .screening import column_ranking, keep_count, take_columns, top_columns
from .search import (
    pretraining_rung,
    search_folds,
    short_rung_rows_cap,
    split_for_scoring,
    successive_halving,
)
from .sizes import count_parameters, count_tree_nodes, pickled_nbytes
from .student import (
    LR_SCHEDULES,
    STOPPING_MONITORS,
    DistillationNet,
    check_template,
    check_weighted_criterion,
    has_default_module,
    is_unset_rate,
    make_student,
    predict_proba_fast,
    resolve_device,
    restore_student,
    take_rows,
)
from .teacher_cache import cached_teacher_stage
from .teachers import (
    DEFAULT_TEACHER_NAMES,
    ZeroWeightFoldError,
    all_frozen,
    default_teachers,
    fit_teachers,
    folds_on_rows,
    is_fitted,
    make_folds,
    predict_teacher_proba,
    stratified_holdout,
    validate_teachers,
)
from .temperature import TEMPERATURE_SCHEDULES, check_schedule_params
from .training import (
    CrossValidatedTrainer,
    LEARNED_NOTHING_MARGIN,
    StudentTrainer,
    learned_nothing,
    planned_student,
    validation_scores,
)
from .transfer import TransferData

logger = logging.getLogger("skhpmkd")

#: Sparse formats X may come in (densified: the teachers and the student take arrays).
SPARSE_FORMATS = ("csr", "csc", "coo")


def check_numeric_columns(X):
    """Raise a ValueError naming the columns of a DataFrame ``X`` that are not numeric
    or boolean (strings, categoricals), before any conversion fails on one value. An
    object column of numbers only passes."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(dtypes, "items"):
        return
    bad = [str(name) for position, (name, dtype) in enumerate(dtypes.items())
           if getattr(dtype, "kind", "O") not in "biuf"
           and not _holds_numbers_only(X.iloc[:, position])]
    if bad:
        raise ValueError(
            f"X has {len(bad)} non-numeric column(s): {bad[:10]}"
            f"{' ...' if len(bad) > 10 else ''}. HPMKDClassifier takes numeric "
            "features; encode these first, e.g. with a OneHotEncoder in a "
            "ColumnTransformer inside a Pipeline.")


def _holds_numbers_only(column):
    """Whether an object column holds Python or numpy numbers (or bools) only (a
    categorical column, whose dtype kind is also "O", does not qualify)."""
    if column.dtype != object:
        return False
    return all(isinstance(value, (Real, np.bool_)) for value in column)


def check_float32_range(X):
    """Raise a ValueError where a finite value of ``X`` is beyond float32's range,
    in which the student computes (it would train on infinities)."""
    limit = np.finfo(np.float32).max
    if X.dtype != np.float32 and X.size and max(X.max(), -X.min()) > limit:
        raise ValueError(f"X holds values beyond float32's range (|x| > {limit:.3g}), "
                         "in which the student computes; rescale these features "
                         "first, e.g. with a StandardScaler in a Pipeline.")


def densified(X):
    """``X`` as a dense array (a sparse matrix's ``toarray()``, else ``X`` itself)."""
    return X.toarray() if sp.issparse(X) else X


def _n_kept(members):
    """Members kept in an average (``members_``-style dicts)."""
    return sum(member["kept"] for member in members)


def augmentation_pays(augmented_losses, plain_losses):
    """The augment trial's rule: the augmented students' per-row held-out losses are
    lower than the plain ones' beyond paired noise and by at least what an extra
    member must gain (``MEMBER_MIN_GAIN``): on data the plain student already fits
    almost perfectly, a gain of a thousandth of a nat is worth neither the
    augmented training nor the change."""
    return significantly_lower(augmented_losses, plain_losses, min_gain=MEMBER_MIN_GAIN)


def checked_sample_weight(sample_weight, X, y, class_weight=None):
    """``fit``'s ``sample_weight`` (non-negative, one per row of ``X``, not all zero)
    times the weights ``class_weight`` gives the labels ``y``, as float64; None for
    no weights or equal ones (the unweighted fit)."""
    if sample_weight is None and class_weight is None:
        return None
    weights = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                   ensure_non_negative=True)
    if class_weight is not None:
        by_class = compute_sample_weight(class_weight, y)
        if not (np.all(np.isfinite(by_class)) and np.all(by_class >= 0)):
            raise ValueError("class_weight must give every class a finite, "
                             f"non-negative weight; got {class_weight!r}.")
        weights = weights * by_class
        if not weights.sum() > 0:
            raise ValueError("class_weight and sample_weight leave every row with "
                             "weight 0.")
    return None if np.all(weights == weights[0]) else weights


#: ``stacklevel`` of a warning raised in a method that ``HPMKDClassifier._fit`` calls:
#: the line that called ``fit`` (``fit``'s ``_fit_context`` wrapper is one frame); one
#: more from a method that ``_checked_fit_inputs`` calls.
_FIT_CALLER = 5


class HPMKDClassifier(ClassifierMixin, _BaseComposition):
    """Distil tabular teacher ensembles into a small torch student (HPM-KD).

    Teachers are fitted (or taken prefit); their out-of-fold probabilities on the
    training rows become soft targets, mixed per sample (plain average, or a learned
    attention gate). A skorch MLP student, whose numeric inputs are encoded
    piecewise-linearly or periodically, learns the mixture with a temperature-scaled
    KL term plus a cross-entropy term on the labels. Optional components: a
    temperature schedule, transfer-set augmentation with teacher-labelled synthetic
    rows, and a progressive chain of wider assistant students.
    Predictions come from the student alone, through a lean torch forward pass.

    Parameters
    ----------
    teachers : list of (str, estimator), default=None
        Named probabilistic classifiers, as in ``VotingClassifier``; their parameters
        are reachable as ``<name>__<param>`` (so no name may be one of this
        estimator's parameters). None means XGBoost, HistGradientBoosting and
        RandomForest, named ``"xgb"``, ``"hgb"`` and ``"rf"``. Where X is a DataFrame,
        the teachers fitted here get its column names (a teacher may select columns
        by name).
    teacher_cv : int, CV splitter, iterable, "prefit" or "in_sample", default=5
        How the teachers' soft labels on the training rows are made. An int ``k``:
        stratified ``k``-fold out-of-fold probabilities (each row labelled by models
        that did not see it), then each teacher is refit on all rows. ``"in_sample"``:
        each teacher is fitted once, on all rows, and labels them (no fold fits).
        ``"prefit"``: the teachers are already fitted and used as they are (in-sample
        soft labels). A teacher wrapped in ``sklearn.frozen.FrozenEstimator`` is
        treated as prefit. A splitter or iterable gives its folds of all rows once;
        where the teacher stage is rerun on some of the rows (the augment trial's
        folds, ``search_labels="held_out"``) those folds are restricted to them, so
        rows grouped in a fold stay together. In-sample labels were better on the
        five small suite datasets and worse on ten held-out real ones
        (docs/benchmarks.md, "Ten seeds on the small datasets, and in-sample soft
        labels"); out-of-fold stays the default, as the design asks, and the learned
        prior was built on it.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, as in scikit-learn's classifiers: ``{label: weight}``
        (classes not named weigh 1) or ``"balanced"`` (``n_samples / (n_classes *
        count)``). They multiply ``fit``'s ``sample_weight`` and act as sample
        weights do (see ``fit``): in the teachers' fits and every loss after them.
    student : DistillationNet, default=None
        Template for the student net (see :func:`skhpmkd.make_student`); cloned at fit.
        Its parameters are reachable as ``student__lr``, ``student__max_epochs``,
        ``student__module__hidden_units`` and so on, also when it is None (the
        default template is created on the first such ``set_params``). With the
        default module, unset ``hidden_units`` are chosen from the data by
        :func:`skhpmkd.student.default_hidden_units`. The net's own ``train_split``
        is replaced by the split below, so no data is held out silently.
    temperature : float or None, default=None
        Initial softmax temperature of the distillation term. None: chosen by the
        configuration manager (see ``config``).
    temperature_schedule : {"constant", "adaptive", "annealed"} or None, default=None
        How the temperature changes during training (see :mod:`skhpmkd.temperature`);
        the value used at each epoch is in ``student_.history[:, "temperature"]``.
        None: chosen by the configuration manager.
    temperature_params : dict, default=None
        The schedule's parameters (None: its defaults; see
        :mod:`skhpmkd.temperature`). With ``temperature_schedule=None`` each schedule
        the configuration manager tries takes the ones it knows.
    alpha : float or None, default=None
        Weight of the label cross-entropy; ``1 - alpha`` weighs the distillation term.
        None: chosen by the configuration manager.
    ensemble : {"mean", "attention", "best"} or None, default=None
        How the teachers are mixed per sample: a learned gate over the sample's
        features and the teachers' out-of-fold outputs (falls back to "mean" or "best"
        when it does not beat them on held-out rows), the plain average, or the single
        teacher with the best out-of-fold log-loss. None: chosen by the configuration
        manager.
    chain : "off", "auto" or list, default="off"
        Progressive chain of wider "assistant" students between the teachers and the
        student (see :mod:`skhpmkd.chain`): "auto" plans 4x and 2x the student's width
        and keeps a longer chain only where it lowers the validation log-loss by at
        least ``chain_min_gain``; a list gives the assistants' hidden units. Only for
        the default MLP module, and only with ``early_stopping`` (it needs validation
        rows).
    chain_min_gain : float, default=0.005
        Smallest decrease of validation log-loss that keeps a longer chain.
    numeric_embedding : {"ple", "periodic", "none"} or None, default=None
        Input encoding of the default MLP student: "ple" encodes each numeric column
        piecewise-linearly over quantile bins learned from the training rows (binary
        columns pass through), which lets the student split on thresholds as the tree
        teachers do; "periodic" standardises each numeric column and feeds trained sine
        and cosine features of it through a small linear-ReLU layer of its own (sharp,
        non-monotonic effects of one column); "none" standardises each numeric column
        (mean and standard deviation of the training rows) and encodes nothing more.
        Every choice thus makes the student independent of the columns' units, as
        the tree teachers are. A column of two values other than 0 and 1 (a year
        pair, a standardised rare category) is mapped onto {0, 1}, a column of one
        value other than 0 or 1 onto 0. None: chosen by the configuration manager.
    config : "auto", "default" or dict, default="auto"
        How the configuration is chosen: ``temperature``, ``alpha``,
        ``numeric_embedding``, ``temperature_schedule``, ``ensemble`` and ``augment``
        where they are None, and the student's learning rate ``lr`` and ``width`` (a
        multiple of the default hidden units). A ``student`` template (yours, or the
        one a ``student__*`` parameter creates) keeps a learning rate given to it (3e-3
        included; the rate of a template made without one is chosen), and its own
        size where it sets ``module__hidden_units`` or another module. Values you set
        always win (a warning names a ``config`` dict's values that they override).
        "auto": the learned prior (see :mod:`skhpmkd.config`) ranks a portfolio of
        configurations from the task's meta-features, configurations of similar past
        runs in the ``memory`` join them, and successive halving on the validation
        rows picks one. The static defaults (temperature 4.0, alpha 0.5, "ple",
        "constant", "mean", no augmentation, lr 3e-3, width 1.0) are the search's
        favourite: another configuration replaces them only when its validation
        loss is lower beyond noise. A past search on the same data and teachers is
        reused without searching again. "default": the static defaults, no prior, no
        search. A dict: those values (e.g. ``{"lr": 1e-2, "width": 2.0}``), the
        static defaults for the rest, no search.
    search_budget : int, default=6
        Candidates of the search (``config="auto"``). 0 or 1: the prior's first
        proposal, no search. The search needs ``early_stopping`` (validation rows);
        without it the prior's proposal is taken. Its trainings run in parallel
        with ``n_jobs``.
    search_folds : "auto" or int, default=1
        Validation folds of the search's short rungs. 1: the fit's own validation
        split. A split of a few dozen rows tells configurations apart only by large
        margins; with more folds each candidate trains once per fold (disjoint
        stratified folds, each holding out ``validation_fraction`` of the rows) and
        is judged on all their rows pooled. "auto": enough folds to pool 1,000
        validation rows (at most ``1 / validation_fraction``; one from 10,000 rows
        up). The last rung always trains the winner once, on the fit's own split.
        On the benchmark suite "auto" lowered test log-loss on breast_cancer and
        penguins but not accuracy, at 2-4x the fit time on small data, so it is
        not the default.
    search_scoring : {"shared", "split"}, default="shared"
        Which validation rows rank the candidates of the search's short rungs.
        "shared": the rows their early stopping watched, so each candidate shows its
        best epoch's loss (optimistic, the more so the noisier its validation curve).
        "split": early stopping watches a stratified half of the validation rows
        (of each fold's, with ``search_folds``) and the other half ranks the
        candidates. The last rung trains the winner with all of them. On the
        benchmark "split" moved the whole fit -0.13 pp (36 fits): it undid a bad
        pick on hpc_data, and on half the rows missed a real gain on mlc_churn.
    search_warm_start : "auto" or bool, default="auto"
        The search's last rung goes on training the winner's network from the rung
        before (all rows, the full epoch budget, early stopping) instead of
        training it afresh. Only where that rung trained one network on the fit's
        own split (not one per fold of ``search_folds``). "auto": only where that
        rung trained on a sample of the rows (with the default budget, where more
        than 15,000 rows are left for training after the validation split), so
        that the last rung adds rows to it. On adult
        (32,000 training rows) "auto" cut the fit by a fifth at the same accuracy;
        on small data, where the last rung would repeat the rung before on the
        same rows, going on cost breast_cancer 0.9 pp (docs/benchmarks.md).
        Unless False, a student trained without a search (a configuration from
        the memory, ``config="default"`` or a dict) likewise goes on from a
        short training on a sample of the rows where there are more labelled
        rows than the search's second rung takes (30 epochs on 15,000 rows), so a
        configuration reused from the memory trains the student the search
        would have.
    min_compression : float or None, default=10.0
        Size budget of the default student: its hidden layers are halved (from the
        size chosen by :func:`skhpmkd.student.default_hidden_units`) until the pickled
        module is at most ``teacher bytes / min_compression``. None: no budget. A
        ``student__module__hidden_units`` you set is used as it is.
    student_features : "auto", "all" or int, default="auto"
        Columns the student takes (see :mod:`skhpmkd.screening`); the teachers
        always take every column. An int: that many, the ones the fitted teachers
        rank highest (their ``feature_importances_`` averaged; an extra-trees model
        ranks them where no teacher has any), where X has more. "auto": 100 where X
        has more than 100 columns and fewer than 40 rows per column (wide data,
        where a small network finds little among thousands of columns that the
        tree teachers split on), else every column. The teacher weighting's gate
        takes the same columns; synthetic rows (``augment``) are drawn in them and
        take the other columns from the row each was drawn from. "all": every
        column. See ``student_columns_``.
    n_members : "auto" or int, default="auto"
        Students of the chosen configuration trained with different seeds, their
        probabilities averaged in one module (see :mod:`skhpmkd.members`): a small
        network varies with its initialisation, and the average varies less.
        "auto": members are added while each widens the average's Jensen gap on
        the validation rows (the members' mean log-loss minus the average's) by at
        least 0.002, at most 5 and within the size budget (``min_compression``);
        1 where there are no validation rows or at least 20,000 training rows
        (where a second network has not paid in our measurements). An int trains
        that many. Only for the default MLP module, and not after a chain of
        assistants (``chain_length_ > 0``). On 13 real datasets: +0.26 pp over one
        student (docs/benchmarks.md).
    confirm_winner : bool, default=True
        When the search's winner is not the favourite (the static defaults) and
        averaging kept more than one of its students, train the favourite too,
        average its members the same way, and keep the winner only if its
        per-row validation losses are significantly lower than the favourite's
        (the search's paired noise guard). The search ranks single students; this
        checks the ranking on what is shipped. See ``confirmation_``. On the
        benchmark it changed 2 of the 21 fits where it could (+2.68 pp on hpc_data,
        -1.68 on mlc_churn) at 1.1-1.6x their fit time (docs/benchmarks.md).
    augment_trial : bool or "split", default=True
        When the configuration manager chose the configuration without
        augmentation and ``augment`` is None, train the chosen configuration once
        more with ``augment="auto"`` and keep it only if its per-row held-out
        losses are significantly lower (the same paired noise guard) and by at
        least 0.002 nats a row (what an extra member must gain). The search's
        short rungs do not show augmentation's gain, which appears only in fully
        trained students. Where the validation split holds at least 50 rows (or
        with "split"), the augmented student is averaged the same way as the plain
        one (over no more members) and both are judged on the validation rows.
        With fewer, the trial pools the held-out rows of as many folds of the data
        as make 50 rows (at most ``1 / validation_fraction``): one plain and one
        augmented student per fold, both learning from the teacher stage rerun on
        the fold's training rows alone (its out-of-fold outputs and its teachers'
        labels of the synthetic rows), so that a dozen validation rows cannot hide
        a real gain nor teachers that saw the judged rows fake one. This reruns
        the teachers once per fold: 1.7x to 3x the fit time on the benchmark's
        datasets of that size (2.2x over seven of them, 10-30 s a fit on 2 cores);
        where ``student_features`` screens the student's columns and the teachers
        are the default ones, the rerun teachers take those columns alone (yours,
        which may select columns by name or position, keep every column).
        Runs only on fewer than 20,000 training rows (where "auto" adds rows), with
        validation rows, the default MLP module and no chain (none planned: ``chain``
        "off", or "auto" where the student is already as wide as an assistant
        would be). See ``augment_trial_``.
    fold_members : bool, default=False
        Where the augment trial judged on folds (a validation split of fewer than
        50 rows) and kept no augmentation, its plain students, one per fold, join the
        shipped student's average, as far as the size budget allows (no training
        more). Each learned from other rows and stopped early on other held-out
        rows, so the average has seen every row and no single dozen validation rows
        decides when the training stops. On 39 registered datasets that small test
        log-loss fell by 0.012 on average (117 fits), but accuracy rose 0.67 pp over
        the 93 fits it was chosen on and fell 0.65 pp over 24 on eight new datasets,
        so it is off by default (docs/benchmarks.md, cvens62).
    augment : "off", "auto", float or None, default=None
        Transfer-set augmentation: synthetic rows near the training rows (MUNGE),
        labelled by the fitted teachers only. A float is the number of synthetic rows
        per training row; "auto" grows the transfer set to ``min(10 n, 20000)`` rows
        (none when there are already 20,000 rows). None: chosen by the configuration
        manager.

    The static defaults switch the temperature schedule, the attention gate and
    augmentation off, and ``chain`` is off by default: on the benchmark suite
    (docs/benchmarks.md) none of them improved test accuracy on average over
    out-of-fold soft labels with the piecewise-linear student, and the chain and
    augmentation cost 2-6x fit time. The configuration manager may switch the first
    three on for a task where the prior proposes them and the validation rows show a
    clear gain; each is also measured by ``python -m benchmarks --ablate``.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows (stratified) from the student,
        stop when their log-loss has not improved for ``n_iter_no_change`` epochs and
        keep the best epoch's weights. The teachers fitted on all rows see them too.
        False trains the student on all rows for ``student__max_epochs`` epochs.
    validation_fraction : float, default=0.1
        Share of rows held out from the student for early stopping.
    validation_held_out : bool, default=False
        Also hold the validation rows out of every fold's teacher (the teacher
        weighting never fits on them). The other rows' out-of-fold soft labels then
        carry nothing of the validation labels, so the search and early stopping judge
        students fairly: otherwise a student that copies teachers which trained on those
        rows (and on rows near them) looks better on them than on new data. The fold
        teachers train on 10% fewer rows. Off by default: on twelve real datasets it
        mended the search's choice where it had been misled (hpc_data seed 0, wa_churn
        +1.1 pp) but lost 0.23 pp on average, and 1.4 pp on synthetic tasks: a few
        hundred leak-free validation rows stop the student's training too early
        (docs/benchmarks.md). No effect with in-sample labels (``teacher_cv`` of
        "in_sample" or "prefit"): those teachers see the validation rows.
    search_labels : {"shared", "held_out"}, default="shared"
        Soft labels the search's short rungs rank candidates on. "shared": the
        fit's own, whose fold teachers trained on the validation rows, so a
        candidate that copies the teachers closely looks better on those rows than
        it is. "held_out": the teacher stage is run a second time, for the search
        only, on the training rows alone (at most as many as the longest short rung
        trains on, a stratified sample; labelled as ``teacher_cv`` says, the
        validation rows and any synthetic rows by the teachers fitted there); the
        last rung, the members, the confirmation, the augment trial and the
        shipped student keep the shared labels. Runs only when a search runs on
        one validation split with refitted teachers and ``validation_held_out``
        off. Off by default: on 51 fits of 14 real datasets it mended wa_churn's
        systematic pick (+0.47 pp over ten splits) but moved the whole -0.08 pp on
        ten held-out datasets (+0.02 in all), at up to 2x the fit time of small
        data (docs/benchmarks.md). See ``search_labels_``.
    weak_teachers : {"auto", "off"}, default="auto"
        What the configuration manager does where the teachers know less than a
        linear model. "auto" (with ``config="auto"``, ``alpha`` unset and teachers
        fitted out of fold): a scaled logistic regression predicts the training
        rows out of fold (:mod:`skhpmkd.reference`); where every teacher's
        out-of-fold accuracy is at least 1 pp below its own, every candidate gives
        the true labels the weight ``alpha=0.9``, since the teachers' soft labels
        then carry more of their errors than of what the data hold. "off": no such
        check. See ``teacher_lift_``.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    weight_averaging : float in [0, 1), default=0.99
        Decay, per training batch, of an exponential moving average of the student's
        weights (Polyak averaging). The averaged weights are the ones validated,
        early-stopped and kept, which smooths out the noise of the last batches. 0
        keeps the raw weights of the last (or best) epoch.
    lr_schedule : {"constant", "plateau"}, default="constant"
        Learning rate of the student's training: constant, or "plateau": multiplied
        by 0.3 whenever the validation log-loss (the training loss without
        ``early_stopping``) has not improved for ``max(1, n_iter_no_change // 3)``
        epochs, so it drops at most twice before early stopping ends training.
    early_stopping_on : {"log_loss", "objective"}, default="log_loss"
        What early stopping watches on the validation rows: the student's log-loss
        against their labels, or the training objective (``alpha`` times that plus
        ``1 - alpha`` times the temperature-scaled KL to the teachers' out-of-fold
        mixture), which scores each row against the teachers too. The search always
        compares candidates by log-loss.
    device : str, default="auto"
        Torch device for the student: "auto" (CUDA when available), "cpu", "cuda",
        "cuda:1", ... A model fitted on CUDA unpickles on a CPU-only machine.
    teacher_cache : str, path, joblib.Memory or None, default=None
        Cache of the teacher stage (fitted teachers and their out-of-fold outputs),
        keyed on the data, the teachers' parameters, ``teacher_cv``, the seed and
        skhpmkd's code: a path or ``joblib.Memory``. With it, a ``GridSearchCV`` over
        student or distillation parameters fits the teachers once per fold instead of
        once per candidate. A hit is checked: cached teachers that predict otherwise
        now (a teacher class or function of your own, edited) are fitted again, with
        a warning; teachers or folds the cache cannot key (a lambda, a generator) fit
        without it. The cache holds pickles: point it only at a directory you trust
        (see :mod:`skhpmkd.teacher_cache`).
    memory : "auto", str, path, OptimizationMemory or None, default="auto"
        Shared optimization memory: every fit records the task's meta-features, a
        fingerprint of the data, the configuration, validation scores and timings as
        JSON in a SQLite file. "auto": ``$SKHPMKD_MEMORY`` or ``memory.sqlite`` in the
        user's cache directory (``~/.cache/skhpmkd``). None or False: off. A corrupt,
        locked or read-only store gives a warning and the fit goes on without it.
        A fit with an int ``random_state`` also stores its student there (weights as
        JSON text, the 32 most recent fits kept): fitting the same estimator on the
        same data again restores it instead of training it (``restored_``), once the
        teachers, refitted on all rows only (no folds; without a ``teacher_cache``),
        are checked to give the same outputs; the teacher weighting comes back with
        it (default module and loss only: see :mod:`skhpmkd.reuse`).
    n_jobs : int, default=None
        Parallel teacher fits (teachers x folds) and search trainings, as in joblib.
        Workers share the cores, so each is limited to ``cores // n_jobs`` threads
        (the teachers kept get their own ``n_jobs`` back); joblib's idle loky workers
        are shut down before the student trains here. Not 0.
    random_state : int, RandomState instance or None, default=None
        Seeds folds, teachers whose ``random_state`` is unset, the validation split and
        the student's initialisation and batches; the global RNGs are left untouched.
        Fits in threads give the models they give alone (their trainings take torch's
        one generator per process in turn, see :mod:`skhpmkd.seeding`).
    verbose : int, default=0
        0 silent; 1 prints stage lines; 2 also shows progress bars (tqdm's, a widget
        in Jupyter) of the teacher fits and of the students trained; 3 also prints
        each student's epoch table.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when X had string column names.
    teacher_weighting_ : TeacherWeighting
        The fitted per-sample teacher weighting of the chosen ``ensemble``
        (``method_`` says which was used), fitted on the teachers' out-of-fold
        outputs on the training rows (not the validation rows, which judge it).
    teacher_weights_ : ndarray of shape (n_teachers,)
        Mean weight of each teacher on the training rows.
    config_ : dict
        The chosen configuration: a value for each name in
        :data:`skhpmkd.config.SEARCHED_PARAMS`.
    config_source_ : str
        Where ``config_`` came from: "search" (successive halving among the static
        defaults and the prior's and the memory's candidates), "prior" (its first
        proposal, no search), "memory" (the best configuration of a past search on
        the same data and teachers), "config" (a dict given as ``config``) or
        "default" (``config="default"``, or every value set by you).
    config_search_ : list of dict
        Every training of the search: ``config``, ``candidate``, ``rung``,
        ``max_epochs``, ``epochs`` run, ``rows``, ``folds``, ``warm_start`` (see
        ``search_warm_start``), ``valid_loss`` and ``seconds`` (empty without a
        search).
    search_labels_ : {"shared", "held_out"} or None
        Labels the search's short rungs ranked on (see ``search_labels``): "shared"
        also where a second teacher stage would see what the first did (prefit
        teachers, ``validation_held_out``, ``search_folds`` > 1); None without a
        search.
    teacher_lift_ : float or None
        The best teacher's out-of-fold accuracy minus the linear reference's
        (see ``weak_teachers``): at or below -0.01 the labels got ``alpha=0.9``;
        None where it was not measured, nan where a class has a single row.
    meta_features_ : dict
        Meta-features of the task (see :func:`skhpmkd.config.meta_features`), the
        class shares and the teachers' scores weighted as ``fit``'s weights count
        the rows.
    chain_ : list of dict
        Every network the chain trained: chain length, size, role, what it learned
        from, validation log-loss and seconds.
    chain_length_ : int
        Number of assistants before the chosen student (0: learned from the teachers).
    members_ : list of dict
        Every member trained for the average: ``seed`` (offset), its own
        ``valid_loss``, the average's ``average_loss`` and ``jensen_gap`` up to it,
        whether it was ``kept`` and ``seconds``; only the first student where the
        size budget or 20,000 training rows allow no second, empty where averaging
        does not run (a chain, a module of the user's own, "auto" without validation
        rows).
    n_members_ : int
        Students averaged in ``student_`` (the augment trial's fold students
        included).
    confirmation_ : dict
        The winner against the favourite (see ``confirm_winner``):
        ``winner_loss`` and ``favourite_loss`` (averaged students' validation
        log-loss), ``favourite_members``, whether the winner was ``confirmed`` and
        ``seconds``; empty when there was none.
    augment_trial_ : dict
        The chosen configuration with augmentation against it without (see
        ``augment_trial``): ``plain_loss`` and ``augmented_loss`` (the students'
        mean held-out log-loss), the ``folds`` pooled (0: the validation split),
        ``augmented_members`` (kept), every augmented member trained
        (``members``, as in ``members_``; none when folds declined it), whether
        the augmented student was ``kept``, how many plain fold students joined the
        shipped average (``fold_members``, see that parameter) and ``seconds``;
        empty when there was none.
    n_synthetic_ : int
        Synthetic rows added to the student's transfer set.
    student_offsets_ : ndarray of shape (n_features_in_,) or None
        Subtracted (in float64) from each column before the student's float32 input,
        at fit and at prediction: a column's median where float32 would lose its
        levels (a spread far below its magnitude, as a Unix time over a day has),
        else 0; None where no column needs one (see :mod:`skhpmkd.offsets`).
    student_columns_ : ndarray of shape (n_student_features,) or None
        Indices (ascending) of the columns the student takes, where it takes fewer
        than all (see ``student_features``); None: every column.
    teachers_ : list of estimator
        Fitted teachers (trained on the labels encoded as ``0 .. n_classes - 1``;
        prefit teachers are kept as given).
    named_teachers_ : Bunch
        The fitted teachers by name.
    student_ : DistillationNet
        The fitted skorch student; predictions come from its ``module_``.
    validation_scores_ : dict or None
        Mean log-losses on the validation rows that judged the student: ``"student"``
        (the shipped one), ``"class_shares"`` (predicting the training rows' class
        shares, a model that learned nothing), ``"teachers"`` (the teachers'
        outputs the student learned from, mixed by its teacher weights), and
        ``"rows"``; None without validation rows. ``fit`` warns where the student's
        is not lower than the class shares' by 1% of theirs.
    device_ : str
        The device the student was trained on.
    fit_times_ : dict
        Wall-clock seconds of the ``"teachers"``, ``"weighting"`` (teacher weights and
        transfer sets, the search's folds included) and ``"student"`` stages (for a
        restored fit, the seconds it took to restore the student).
    teacher_nbytes_, student_nbytes_ : int
        Pickled sizes of the teacher ensemble and of the student module.
    teacher_n_nodes_ : int or None
        Decision-tree nodes of all teachers (None if a teacher is not a tree model).
    student_n_params_ : int
        Parameters of the student module.
    compression_ratio_ : float
        ``teacher_nbytes_ / student_nbytes_``.
    memory_run_id_ : int or None
        Row of this fit in the optimization memory (None when it could not be
        recorded); absent when ``memory`` is off. For a restored fit, the row of the
        fit that trained the student.
    restored_ : bool
        Whether the student was restored from the memory instead of trained: the same
        fit (data, parameters, device, package versions, an int ``random_state``)
        was stored there before (see :mod:`skhpmkd.reuse`).

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
        "teacher_cv": ["cv_object", StrOptions({"prefit", "in_sample"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "student": [HasMethods(["fit", "initialize"]), None],
        "temperature": [Interval(Real, 0, None, closed="neither"), None],
        "temperature_schedule": [StrOptions(set(TEMPERATURE_SCHEDULES)), None],
        "temperature_params": [dict, None],
        "alpha": [Interval(Real, 0, 1, closed="both"), None],
        "ensemble": [StrOptions(set(ENSEMBLE_METHODS)), None],
        "chain": [StrOptions({"auto", "off"}), list],
        "chain_min_gain": [Interval(Real, 0, None, closed="left")],
        "numeric_embedding": [StrOptions({"ple", "periodic", "none"}), None],
        "config": [StrOptions({"auto", "default"}), dict],
        "search_budget": [Interval(Integral, 0, None, closed="left")],
        "search_folds": [StrOptions({"auto"}),
                         Interval(Integral, 1, None, closed="left")],
        "search_scoring": [StrOptions({"shared", "split"})],
        "search_warm_start": [StrOptions({"auto"}), "boolean"],
        "min_compression": [Interval(Real, 0, None, closed="neither"), None],
        "student_features": [StrOptions({"auto", "all"}),
                             Interval(Integral, 1, None, closed="left")],
        "n_members": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "confirm_winner": ["boolean"],
        "augment_trial": ["boolean", StrOptions({"split"})],
        "fold_members": ["boolean"],
        "augment": [StrOptions({"auto", "off"}), Interval(Real, 0, None, closed="left"),
                    None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "validation_held_out": ["boolean"],
        "search_labels": [StrOptions({"shared", "held_out"})],
        "weak_teachers": [StrOptions({"auto", "off"})],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "weight_averaging": [Interval(Real, 0, 1, closed="left")],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "early_stopping_on": [StrOptions(set(STOPPING_MONITORS))],
        "device": [str],
        "teacher_cache": [None, str, os.PathLike, HasMethods(["cache"])],
        "memory": [None, "boolean", str, os.PathLike, HasMethods(["record"])],
        "n_jobs": [Interval(Integral, None, -1, closed="right"),
                   Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, teachers=None, *, teacher_cv=5, class_weight=None, student=None,
                 temperature=None, temperature_schedule=None, temperature_params=None,
                 alpha=None, ensemble=None, chain="off", chain_min_gain=0.005,
                 numeric_embedding=None, config="auto", search_budget=6,
                 search_folds=1, search_scoring="shared", search_warm_start="auto",
                 min_compression=10.0, student_features="auto",
                 n_members="auto", confirm_winner=True, augment_trial=True,
                 fold_members=False,
                 augment=None, early_stopping=True,
                 validation_fraction=0.1, validation_held_out=False,
                 search_labels="shared", weak_teachers="auto", n_iter_no_change=10,
                 weight_averaging=0.99,
                 lr_schedule="constant",
                 early_stopping_on="log_loss", device="auto", teacher_cache=None,
                 memory="auto", n_jobs=None, random_state=None, verbose=0):
        self.teachers = teachers
        self.teacher_cv = teacher_cv
        self.class_weight = class_weight
        self.student = student
        self.temperature = temperature
        self.temperature_schedule = temperature_schedule
        self.temperature_params = temperature_params
        self.alpha = alpha
        self.ensemble = ensemble
        self.chain = chain
        self.chain_min_gain = chain_min_gain
        self.numeric_embedding = numeric_embedding
        self.config = config
        self.search_budget = search_budget
        self.search_folds = search_folds
        self.search_scoring = search_scoring
        self.search_warm_start = search_warm_start
        self.min_compression = min_compression
        self.student_features = student_features
        self.n_members = n_members
        self.confirm_winner = confirm_winner
        self.augment_trial = augment_trial
        self.fold_members = fold_members
        self.augment = augment
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.validation_held_out = validation_held_out
        self.search_labels = search_labels
        self.weak_teachers = weak_teachers
        self.n_iter_no_change = n_iter_no_change
        self.weight_averaging = weight_averaging
        self.lr_schedule = lr_schedule
        self.early_stopping_on = early_stopping_on
        self.device = device
        self.teacher_cache = teacher_cache
        self.memory = memory
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # -- parameters -------------------------------------------------------------------

    def get_params(self, deep=True):
        """Parameters, with ``<teacher>__<param>`` and ``student__<param>`` when deep."""
        return self._get_params("teachers", deep=deep)

    def set_params(self, **params):
        """Set parameters; ``xgb__*``, ``xgb`` (a teacher in its place) or
        ``student__*`` on a None default creates it.
        A prefit teacher's (``teacher_cv="prefit"``) cannot be set: it is the user's
        fitted model, shared by clones, and would not be refitted."""
        prefixes = {key.split("__", 1)[0] for key in params if "__" in key}
        teacher_cv = params.get("teacher_cv", self.teacher_cv)
        if (isinstance(teacher_cv, str) and teacher_cv == "prefit"
                and "teachers" not in params and self.teachers is not None):
            validate_teachers(self.teachers)  # names its malformed items, if any
            prefit = sorted(prefixes & {name for name, _ in self.teachers})
            if prefit:
                raise ValueError(
                    f"teachers {prefit} are prefit (teacher_cv='prefit'): their "
                    "parameters cannot be set here, since they are not refitted and "
                    "the fitted models are yours; fit a teacher with other "
                    "parameters yourself, or use another teacher_cv.")
        if self.teachers is None and "teachers" not in params and (
                (prefixes | set(params)) & set(DEFAULT_TEACHER_NAMES)):
            self.teachers = default_teachers()
        if self.student is None and "student" not in params and "student" in prefixes:
            self.student = make_student()
        return self._set_params("teachers", **params)

    def __sklearn_clone__(self):
        """A clone, as :func:`sklearn.base.clone` makes it, that keeps prefit teachers
        (``teacher_cv="prefit"``) as they are: cloned, they would be unfitted, and
        every fit of a ``GridSearchCV`` or ``cross_val_score`` would fail. (A
        FrozenEstimator teacher is kept by its own clone.)"""
        cloned = super().__sklearn_clone__()
        if self.teacher_cv == "prefit" and self.teachers is not None:
            cloned.teachers = list(self.teachers)
        return cloned

    # -- fit --------------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the teachers, then distil them into the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric and finite. Preprocess categoricals and NaN in a Pipeline. Sparse
            matrices (e.g. a ``ColumnTransformer``'s one-hot output) are densified.
        y : array-like of shape (n_samples,)
            Class labels (any hashable type), at least two classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights, not all zero. Every teacher fitted here gets
            them in ``fit`` (a teacher that takes none is an error; prefit teachers
            are used as they are), and they weigh each row in every loss that
            follows: the teacher weighting, the student's distillation and label
            terms, and the validation log-loss that early stopping, the search and
            the members judge by. Equal weights are the unweighted fit. Synthetic
            rows (``augment``) weigh as an average row. With ``class_weight``, each
            row's weight is multiplied by its class's.

        Returns
        -------
        self

        Notes
        -----
        A fit that raises (bad input found late, an interrupted fit) leaves the
        estimator as it was: a fitted one keeps its model and attributes.
        """
        previous = dict(self.__dict__)
        try:
            self._fit(X, y, sample_weight)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise
        self._warn_if_learned_nothing(_num_samples(X))
        return self

    def _fit(self, X, y, sample_weight):
        """:meth:`fit` on the estimator's attributes, which it may leave half set."""
        X, y_encoded, sample_weight, teachers, student = self._checked_fit_inputs(
            X, y, sample_weight)
        self.device_ = resolve_device(self.device)
        seeds = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max, size=len(teachers) + 5)
        seed_weights, seed_split, seed_augment, seed_student = (
            int(s) for s in seeds[-4:])

        start = perf_counter()
        train, valid = self._validation_split(y_encoded, seed_split)
        held_out = valid if self.validation_held_out else None  # no fold teacher's
        memory = open_memory(self.memory)
        self.student_offsets_ = column_offsets(X)
        fingerprint = data_fingerprint(student_input(X, self.student_offsets_),
                                       y_encoded, sample_weight)
        past_runs = memory.runs(fingerprint) if memory is not None else []
        key = (fit_key(self.get_params(deep=False), fingerprint, self.device_)
               if memory is not None and is_restorable(student) else None)
        # one read of what the same fit stored: restored without the teachers' folds
        # here, or after the teacher stage below if their out-of-fold outputs match
        stored = load_fit(memory, key) if key is not None else None
        if stored is not None and self.teacher_cache is None and (
                self._restore_on_all_rows(stored, teachers, student, X, y_encoded,
                                          sample_weight, seeds, start)):
            return self
        proba, task_seconds, rerun_teachers = self._teacher_stage(
            teachers, X, y_encoded, sample_weight, seeds, held_out, past_runs)
        teacher_seconds = perf_counter() - start

        start = perf_counter()
        n_kept = keep_count(X.shape[1], len(y_encoded), self.student_features)
        self.student_columns_ = None if n_kept is None else top_columns(
            column_ranking(self.teachers_, X, y_encoded, sample_weight, seed_split),
            n_kept)
        X_teachers, X = X, self._student_input(X)
        self.meta_features_ = meta_features(X, y_encoded, proba,
                                            teacher_nbytes=self.teacher_nbytes_,
                                            sample_weight=sample_weight)
        signature = teacher_signature(proba, y_encoded)
        if stored is not None and signatures_match(
                stored.get("teacher_signature"), signature) and self._restore(
                    stored, student, teacher_seconds):
            return self
        self.teacher_lift_ = (
            teacher_lift(X, y_encoded, proba, seed_split, sample_weight)
            if self._checks_weak_teachers(teachers, student) else None)
        candidates, self.config_source_ = self._candidates(
            student, memory, past_runs, valid is not None,
            planned_student(student, X, train, len(self.classes_),
                            self._student_budget()))
        data = TransferData(X, proba, y_encoded,
                            (self.teachers_, self._teacher_class_codes),
                            len(self.classes_), seed_augment, sample_weight,
                            self.student_offsets_, self.student_columns_, X_teachers)
        # fitted on the training rows: no rows that judge a student lent their labels
        weightings = data.weightings(candidates, train, seed_weights)
        weighting = weightings[candidates[0]["ensemble"]]  # of the validation rows
        trainer = StudentTrainer(
            student, data.transfer_sets(weightings, candidates, train),
            data.valid_set(weighting, valid), len(self.classes_),
            self.temperature_params, self.n_iter_no_change, self.device_, seed_student,
            student_budget=self._student_budget(),
            weight_averaging=self.weight_averaging, lr_schedule=self.lr_schedule,
            stop_on=self.early_stopping_on, verbose=self.verbose >= 3)
        # the teacher stage rerun on some rows alone: labels that leak none of others
        leak_free = partial(rerun_teachers, data)
        search_trainer, folds, search_teacher_seconds = self._search_trainer(
            trainer, data, weighting, candidates, leak_free, (train, valid),
            leaks=self._leaks_into_search(teachers, held_out), seed=seed_split,
            seed_weights=seed_weights)
        weighting_seconds = perf_counter() - start - search_teacher_seconds

        start = perf_counter()
        self._log(f"distilling into the student on {self.device_} ({len(train)} rows), "
                  f"{len(candidates)} candidate configuration(s) from "
                  f"{self.config_source_}"
                  + (f", searched on {len(folds)} folds" if folds else ""))
        with self._progress("student trainings", "training"):
            self.student_, steps, self.chain_length_ = self._distil(
                trainer, candidates, search_trainer,
                partial(data.transfer_sets, weightings, rows=train),
                partial(self._trial_folds, trainer, data,
                        partial(leak_free, columns=self._trial_teacher_columns()),
                        seed_split, seed_weights))
        self.teacher_weighting_ = weightings[self.config_["ensemble"]]
        self.teacher_weights_ = self.teacher_weighting_.mean_weights_
        self.n_synthetic_ = len(trainer.transfer_set(self.config_)[0]) - len(train)
        self._log(f"teacher weights ({self.teacher_weighting_.method_}): "
                  f"{np.round(self.teacher_weights_, 3).tolist()}, "
                  f"{self.n_synthetic_} synthetic rows")
        self.chain_ = [step.as_dict() for step in steps]
        self.validation_scores_ = validation_scores(trainer, self.student_)
        self.fit_times_ = {"teachers": teacher_seconds + search_teacher_seconds,
                           "weighting": weighting_seconds,
                           "student": perf_counter() - start}
        self._account_sizes()
        self._remember(memory, fingerprint, task_seconds)
        if key is not None:
            self._store(memory, key, signature, X_teachers, y_encoded)
        self.restored_ = False
        self._log(f"done: config {self.config_}, chain length {self.chain_length_}, "
                  f"compression {self.compression_ratio_:.1f}x")
        return self

    def _checked_fit_inputs(self, X, y, sample_weight):
        """``(X, y_encoded, sample_weight, teachers, student)`` for :meth:`fit`, every
        input and parameter checked before any fitting; sets ``classes_``."""
        check_numeric_columns(X)
        X, y = validate_data(self, X, y, accept_sparse=SPARSE_FORMATS,
                             dtype=[np.float64, np.float32])
        X = densified(X)
        check_float32_range(X)
        check_classification_targets(y)
        sample_weight = checked_sample_weight(sample_weight, X, y, self.class_weight)
        teachers = self.teachers if self.teachers is not None else default_teachers()
        validate_teachers(teachers, reserved=self._get_param_names())
        student = self.student if self.student is not None else make_student()
        if not isinstance(student, DistillationNet):
            raise TypeError("student must be a skhpmkd DistillationNet (build one with "
                            f"skhpmkd.make_student); got {type(student).__name__}.")
        check_template(student)
        if isinstance(self.config, dict):
            self._check_config_dict(student)
        if not has_default_module(student):
            self._warn_unused_by_own_module(student)
        check_chain(self.chain)
        check_schedule_params(self.temperature_params, self.temperature_schedule,
                              self.temperature)
        if sample_weight is not None:
            check_weighted_criterion(student.criterion)
        self._label_encoder = LabelEncoder().fit(y)
        self.classes_ = self._label_encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError("HPMKDClassifier needs at least 2 classes in y; got 1 class "
                             f"({self.classes_[0]!r}).")
        return X, self._label_encoder.transform(y), sample_weight, teachers, student

    #: Constraints of the searched values that are not the classifier's own parameters.
    _STUDENT_CONSTRAINTS = {"lr": [Interval(Real, 0, None, closed="neither")],
                            "width": [Interval(Real, 0, None, closed="neither")]}

    def _check_config_dict(self, student):
        """Names and values of a ``config`` dict, checked before any fitting, with a
        warning naming its values that a parameter of the classifier or the
        ``student`` template overrides."""
        config = check_config(self.config)
        constraints = {**self._parameter_constraints, **self._STUDENT_CONSTRAINTS}
        validate_parameter_constraints({name: constraints[name] for name in config},
                                       config, caller_name="config")
        fixed = self._fixed_config(student)
        overridden = {name: (value, fixed[name]) for name, value in self.config.items()
                      if name in fixed and value != fixed[name]}
        if overridden:
            where = ", ".join(f"{name}={value!r} ({kept!r} is used)"
                              for name, (value, kept) in overridden.items())
            warnings.warn(
                f"config sets {where}: the classifier's own parameters and a student "
                "template's learning rate and size win over a config dict. Remove those "
                "keys from config, or leave the parameters that override them unset.",
                UserWarning, stacklevel=_FIT_CALLER + 1)

    def _warn_unused_by_own_module(self, student):
        """Warn of settings for the default MLP that a ``student`` with a module of
        the user's own leaves unused, where they are set to use something."""
        unused = [f"{name}={value!r}" for name, value, unset in (
            ("chain", self.chain, ["off"]), ("n_members", self.n_members, ["auto", 1]),
            ("numeric_embedding", self.numeric_embedding, [None]))
            if value not in unset]
        if unused:
            module = getattr(student.module, "__name__", student.module)
            warnings.warn(
                f"{', '.join(unused)} apply to the default MLP student only; the "
                f"student's module {module!r} is used as it is, without them.",
                UserWarning, stacklevel=_FIT_CALLER + 1)

    def _validation_split(self, y, seed):
        """(train, valid) row indices for early stopping, or (all rows, None), with a
        warning where ``early_stopping`` asked for validation rows and got none."""
        if not self.early_stopping:
            return np.arange(len(y)), None
        split = stratified_holdout(y, self.validation_fraction, seed)
        if split is None:
            counts, silence = np.bincount(y), "set early_stopping=False to silence this."
            if counts.min() < 2:
                problem = "cannot stratify them: a class has a single row"
                advice = silence[0].upper() + silence[1:]
            elif np.ceil(self.validation_fraction * len(y)) < len(counts):
                problem = "holds out no stratified validation rows of them"
                advice = f"Raise validation_fraction, or {silence}"
            else:
                problem = "leaves too few rows to train on, one per class at least"
                advice = f"Lower validation_fraction, or {silence}"
            warnings.warn(
                f"validation_fraction={self.validation_fraction!r} on these {len(y)} "
                f"rows {problem}: the student trains max_epochs without early "
                f"stopping, search or chain. {advice}", UserWarning,
                stacklevel=_FIT_CALLER)
            return np.arange(len(y)), None
        return split

    def _search_trainer(self, trainer, data, weighting, candidates, leak_free, split,
                        *, leaks, seed, seed_weights):
        """What the search judges its candidates with: ``trainer`` itself, or on
        half its validation rows (``search_scoring="split"``), on folds
        (``search_folds``) or on leak-free labels (``search_labels``, where ``leaks``);
        sets ``search_labels_``. Returns it, the folds and the seconds its teacher
        stage took (0 but on leak-free labels)."""
        train, valid = split
        searching = len(candidates) > 1 and valid is not None
        # the trainer already validates on ``valid``: only a split changes it
        search_trainer = (self._judged_on(trainer, data, weighting, valid, seed)
                          if searching and self.search_scoring == "split" else trainer)
        folds = (search_folds(data.y, self.validation_fraction, seed,
                              self.search_folds) if searching else [])
        if folds:
            search_trainer = CrossValidatedTrainer([
                self._trainer_on(trainer, data, candidates, fold, seed, seed_weights)
                for fold in folds])
        self.search_labels_ = "shared" if searching else None
        if not (searching and not folds and leaks):
            return search_trainer, folds, 0.0
        start = perf_counter()
        on_leak_free_labels = self._on_leak_free_labels(
            trainer, data, leak_free, candidates, split, seed, seed_weights)
        if on_leak_free_labels is not None:
            search_trainer, self.search_labels_ = on_leak_free_labels, "held_out"
        return search_trainer, folds, perf_counter() - start

    def _judged_on(self, base, data, weighting, rows, seed):
        """``base`` validated on ``data``'s ``rows`` (their teachers mixed by
        ``weighting``): early-stopped on one stratified half and judged on the other
        with ``search_scoring="split"``."""
        halves = (split_for_scoring(rows, data.y, seed)
                  if self.search_scoring == "split" else None)
        if halves is None:
            return replace(base, valid=data.valid_set(weighting, rows))
        stop, score = (data.valid_set(weighting, part) for part in halves)
        return replace(base, valid=stop, score=score)

    def _trainer_on(self, trainer, data, candidates, split, seed, seed_weights,
                    n_train=None):
        """``trainer`` on ``data`` split into ``(rows, judged)``: the ``candidates``'
        transfer sets of the ``rows`` (teacher weightings fitted there; ``n_train``
        as in :meth:`TransferData.transfer_sets`), validated on the ``judged`` rows."""
        rows, judged = split
        weightings = data.weightings(candidates, rows, seed_weights)
        return self._judged_on(
            replace(trainer, transfer_sets=data.transfer_sets(
                weightings, candidates, rows, n_train=n_train)),
            data, weightings[candidates[0]["ensemble"]], judged, seed)

    def _on_leak_free_labels(self, trainer, data, leak_free, candidates, split, seed,
                             seed_weights):
        """The search's trainer on labels of the teacher stage rerun on (a sample of)
        the training rows alone (``search_labels="held_out"``; ``leak_free`` is
        :meth:`_leak_free_data` with the fit's data bound), or None where it cannot
        be rerun (the search then ranks on the shared labels)."""
        train, valid = split
        rows = self._search_rows(data.y, train, candidates, seed)
        with self._progress("teachers for the search's labels", "fit", sized=True):
            search_data = leak_free(rows, valid,
                                    fallback="the search ranks on shared labels")
        if search_data is None:
            return None
        return self._trainer_on(trainer, search_data, candidates, (rows, valid), seed,
                                seed_weights, n_train=len(train))

    def _teacher_stage(self, teachers, X, y, sample_weight, seeds, held_out,
                       past_runs):
        """Fit the teachers (through ``teacher_cache`` if set) and set ``teachers_``;
        returns their out-of-fold probabilities, the stage's task timings and the
        stage ready to rerun on some rows (:meth:`_leak_free_data` but its data)."""
        self._log(f"fitting {len(teachers)} teachers (teacher_cv={self.teacher_cv!r})")
        teacher_cv = self._folds_of_all_rows(teachers, y, seeds[0])
        cached_fit_teachers = (fit_teachers if self.teacher_cache is None
                               else cached_teacher_stage(self.teacher_cache))
        with self._progress("teachers", "fit", sized=True):
            self.teachers_, proba, self._teacher_class_codes, task_seconds = (
                cached_fit_teachers(
                    teachers, X, y, label_encoder=self._label_encoder,
                    teacher_cv=teacher_cv, seeds=seeds[:len(teachers) + 1],
                    n_jobs=self.n_jobs,
                    past_seconds=past_runs[0]["timings"].get("teacher_tasks")
                    if past_runs else None,
                    held_out=held_out, feature_names=self._feature_names,
                    sample_weight=sample_weight))
        self._name_teachers(teachers)
        rerun = partial(self._leak_free_data, fit=cached_fit_teachers, teachers=teachers,
                        X=X, teacher_cv=teacher_cv, seeds=seeds)
        return proba, task_seconds, rerun

    def _folds_of_all_rows(self, teachers, y, seed):
        """``teacher_cv``, or where it is a splitter or an iterable of folds (and a
        teacher is to be fitted) its folds of all rows, listed once: reruns of the
        teacher stage on some rows restrict them, and a generator is read once."""
        if isinstance(self.teacher_cv, (str, Integral)) or all_frozen(teachers):
            return self.teacher_cv
        return make_folds(self.teacher_cv, y, seed)

    def _checks_weak_teachers(self, teachers, student):
        """Whether the fit compares the teachers with a linear reference (see
        ``weak_teachers``): not where the label weight is not the manager's to
        choose, nor where the teachers' outputs are not out of fold."""
        return (self.weak_teachers == "auto" and self.config == "auto"
                and "alpha" not in self._fixed_config(student)
                and not isinstance(self.teacher_cv, str)
                and not all_frozen(teachers))

    def _leaks_into_search(self, teachers, held_out):
        """Whether ranking the search on leak-free labels changes what it sees (see
        ``search_labels``): not when the fold teachers already hold the validation
        rows out, nor when every teacher comes prefit (nothing is refitted)."""
        return (self.search_labels == "held_out" and held_out is None
                and not (isinstance(self.teacher_cv, str) and self.teacher_cv == "prefit")
                and not all_frozen(teachers))

    @staticmethod
    def _search_rows(y, train, candidates, seed):
        """The ``train`` rows the search's short rungs can use: all of them, or a
        stratified sample of as many as its longest short rung trains on."""
        cap = short_rung_rows_cap(len(candidates), len(train))
        sample = (stratified_holdout(y[train], cap / len(train), seed)
                  if cap < len(train) else None)
        return train if sample is None else np.sort(train[sample[1]])

    def _trial_teacher_columns(self):
        """The columns the augment trial's rerun teachers take: the student's where
        they are screened and the teachers are the default ones (a teacher of the
        user's may select columns by name or position), else None (every column)."""
        return self.student_columns_ if self.teachers is None else None

    def _leak_free_data(self, data, train, valid, fallback, *, fit, teachers, X,
                        teacher_cv, seeds, columns=None):
        """``data`` relabelled by the teacher stage (``fit``: :func:`fit_teachers`,
        on the unconverted rows ``X``) rerun on the ``train`` rows alone: its
        out-of-fold outputs there, the ``valid`` rows labelled by the teachers fitted
        there (other rows NaN), and those teachers labelling synthetic rows; the
        user's own folds (``teacher_cv`` a list) restricted to the ``train`` rows.
        With ``columns``, the rerun's teachers take those columns of ``X`` alone
        (the student's; see :meth:`_trial_teacher_columns`).
        Nothing in it carries the ``valid`` rows' labels. None, with a warning saying what
        happens instead (``fallback``), where ``sample_weight`` leaves a teacher fold
        of those rows all at zero."""
        X = take_columns(X, columns)
        try:
            fitted, proba_train, class_codes, _ = fit(
                teachers, X[train], data.y[train], label_encoder=self._label_encoder,
                teacher_cv=(folds_on_rows(teacher_cv, train)
                            if isinstance(teacher_cv, list) else teacher_cv),
                seeds=seeds[:len(teachers) + 1], n_jobs=self.n_jobs,
                feature_names=take_columns(self._feature_names, columns),
                sample_weight=take_rows(data.sample_weight, train))
        except ZeroWeightFoldError as error:
            warnings.warn(f"the teachers rerun on {len(train)} of the rows, leaving the "
                          f"others out, could not fit: {error} Instead, {fallback}.",
                          UserWarning, stacklevel=2)
            return None
        proba = np.full((len(data.y), *proba_train.shape[1:]), np.nan)
        proba[train] = proba_train
        proba[valid] = predict_teacher_proba(fitted, X[valid], class_codes,
                                             len(self.classes_))
        return data.relabelled(proba, (fitted, class_codes),
                               on_student_columns=columns is not None)

    def _trial_folds(self, trainer, data, leak_free, seed, seed_weights, configs):
        """The ``configs`` trained and judged on folds of all rows, each fold's soft
        targets, teacher weighting and synthetic rows from the teacher stage rerun on
        its training rows alone (``leak_free(train, judged)``, the default teachers
        on the student's columns where they are screened; see ``augment_trial``): a
        :class:`CrossValidatedTrainer`, or None where the validation split is large
        enough."""
        if self.augment_trial == "split":
            return None
        folds = search_folds(data.y, self.validation_fraction, seed,
                             min_rows=TRIAL_POOLED_ROWS)
        if not folds:
            return None
        trainers = []
        with self._progress("teachers for the augment trial", "fit", sized=True):
            for rows, judged in folds:
                fold_data = leak_free(
                    rows, judged, fallback="the augment trial judges on the validation "
                    "split")
                if fold_data is None:
                    return None
                weightings = fold_data.weightings(configs, rows, seed_weights)
                trainers.append(replace(
                    trainer, transfer_sets=fold_data.transfer_sets(weightings, configs,
                                                                   rows),
                    valid=fold_data.valid_set(weightings[configs[0]["ensemble"]],
                                              judged), score=None))
        return CrossValidatedTrainer(trainers)

    def _teacher_types(self):
        """Class names of the fitted teachers (the memory tells teacher sets apart
        by them)."""
        return [type(teacher).__name__ for teacher in self.teachers_]

    def _fixed_config(self, student):
        """Searched parameters the user set: the classifier's own, and the learning
        rate (one they gave) and size of a student template they passed."""
        own = self.get_params(deep=False)
        fixed = {name: own[name] for name in SEARCHED_PARAMS
                 if name in own and own[name] is not None}
        if self.student is not None and not is_unset_rate(student.lr):
            fixed["lr"] = student.lr
            if not has_default_module(student) or (
                    student.get_params().get("module__hidden_units") is not None):
                fixed["width"] = 1.0
        return fixed

    def _student_budget(self):
        """Largest pickled bytes of the student (None: no size budget)."""
        if self.min_compression is None:
            return None
        return self.teacher_nbytes_ / self.min_compression

    def _candidates(self, student, memory, past_runs, can_search, student_of):
        """Configurations to try and where they come from (see ``config``);
        ``past_runs`` are the memory's runs on the same data, newest first;
        ``student_of(config)`` describes the student a configuration would train, so
        that no two candidates train the same one."""
        fixed = self._fixed_config(student)
        if isinstance(self.config, dict):
            return [resolve_config(check_config(self.config), fixed)], "config"
        if self.config == "default" or len(fixed) == len(SEARCHED_PARAMS):
            return [resolve_config(STATIC_DEFAULTS, fixed)], "default"
        if self.teacher_lift_ is not None and has_weak_teachers(self.teacher_lift_):
            fixed = {"alpha": WEAK_TEACHER_ALPHA, **fixed}  # see ``weak_teachers``
        known = remembered_best(past_runs, self._teacher_types(), fixed)
        if known is not None:
            return [resolve_config(known, fixed)], "memory"
        nearest = memory.nearest(self.meta_features_, k=2) if memory is not None else []
        n = self.search_budget if can_search else 1
        if len(self.teachers_) == 1:
            # every weighting gives a lone teacher weight one: nothing new to train
            fixed = {"ensemble": STATIC_DEFAULTS["ensemble"], **fixed}
        candidates = propose_candidates(self.meta_features_, fixed, n, prior=load_prior(),
                                        nearest_runs=nearest, student_of=student_of)
        return [config for config, _ in candidates], (
            "search" if len(candidates) > 1 else candidates[0][1])

    def _distil(self, trainer, candidates, search_trainer, transfer_sets, trial_folds):
        """Pick the configuration (the short rungs of a search train with
        ``search_trainer``), then train the student (through a chain if it pays);
        ``transfer_sets(configs)`` builds the transfer sets of other configurations,
        ``trial_folds(configs)`` the augment trial's folds (None: its split)."""
        def rows(config):
            return len(trainer.transfer_set(config)[0])

        first = None
        cuda = str(self.device_).startswith("cuda")
        if len(candidates) == 1 or cuda:
            # the teacher stage's idle workers: what follows trains in this process (a
            # search on CPU releases them itself before its last, single training)
            release_workers(self.n_jobs)
        if len(candidates) > 1:
            best, net, records = successive_halving(
                candidates, search_trainer, trainer.template.max_epochs,
                n_rows=trainer.n_labelled,
                cost=lambda config: (
                    1.0 if config["numeric_embedding"] == "none" else 2.0)
                * config["width"] * rows(config),
                row_losses=search_trainer.valid_row_losses,
                baseline_losses=search_trainer.prior_row_losses(), final_train=trainer,
                warm_start=self.search_warm_start,
                n_jobs=1 if cuda else self.n_jobs)
            first = (net, records[-1]["valid_loss"], records[-1]["seconds"])
            self.config_search_ = [dict(record, config=candidates[record["candidate"]])
                                   for record in records]
        else:
            best, self.config_search_ = 0, []
            first = self._pretrained_student(trainer, candidates[0])
        self.config_ = dict(candidates[best])
        _, target_units = trainer.plan(self.config_)
        assistants = (plan_chain(target_units, self.chain)
                      if trainer.default_module else [])

        def train(hidden_units, previous):
            return trainer(self.config_, hidden_units, previous)

        net, steps, length = run_chain(train, target_units, assistants,
                                       self.chain_min_gain,
                                       has_validation=trainer.valid is not None,
                                       first=first)
        net, self.members_ = self._average_members(trainer, self.config_, net,
                                                   steps[0], length)
        self.confirmation_ = {}
        if best != 0 and self.confirm_winner and _n_kept(self.members_) > 1:
            net, steps = self._confirm_winner(trainer, candidates[0], net, steps)
        self.augment_trial_ = {}
        if self._tries_augmentation(trainer, assistants):
            net, steps = self._try_augmentation(trainer, net, steps, transfer_sets,
                                                trial_folds)
        self.n_members_ = (max(1, _n_kept(self.members_))
                           + self.augment_trial_.get("fold_members", 0))
        return net, steps, length

    def _warn_if_learned_nothing(self, n_rows):
        """Warn (to the line that called ``fit``) where the student learned nothing its
        validation rows can see (:func:`~skhpmkd.training.learned_nothing`); where X's
        ``n_rows`` are fewer than its columns, name the screening that helps there."""
        scores = self.validation_scores_
        if not learned_nothing(scores):
            return
        if self.n_features_in_ <= n_rows:
            advice = "wide data with few rows is one known cause"
        else:
            screening = (
                "let the student take only the columns the teachers rank highest "
                "(student_features)" if self.student_columns_ is None else
                f"the student took the {len(self.student_columns_)} columns the "
                "teachers rank highest; fewer (student_features) may help")
            advice = (f"with more columns ({self.n_features_in_}) than rows "
                      f"({n_rows}), {screening}")
        warnings.warn(
            f"the student learned nothing its {scores['rows']} validation rows can "
            f"see: its log-loss there, {scores['student']:.4f}, is not "
            f"{LEARNED_NOTHING_MARGIN:.0%} below that of predicting the training "
            f"rows' class shares, {scores['class_shares']:.4f} (the teachers' outputs "
            f"it learned from: {scores['teachers']:.4f}). Judge it on rows of your "
            f"own before shipping it; {advice} (docs/user_guide.md, \"What to "
            "expect\").", UserWarning, stacklevel=_FIT_CALLER - 1)

    def _pretrained_student(self, trainer, config):
        """``(net, valid_loss, seconds)``: the lone student of ``config`` (no search)
        trained on all rows from a short training on a sample of them, where the
        search's last rung would go on from one (``search_warm_start`` not False,
        validation rows, more labelled rows than the sample:
        :func:`skhpmkd.search.pretraining_rung`); None to train it from scratch."""
        rung = pretraining_rung(trainer.n_labelled, trainer.template.max_epochs)
        if self.search_warm_start is False or trainer.valid is None or rung is None:
            return None
        start = perf_counter()
        epochs, rows = rung
        short, _ = trainer(config, max_epochs=epochs, max_rows=rows)
        net, valid_loss = trainer(config, init=short)
        return net, valid_loss, perf_counter() - start

    def _average_members(self, trainer, config, net, step, chain_length,
                         max_members=None):
        """Add members of ``config`` to the student ``net`` (trained in the chain's
        ``step``) while they pay, at most ``max_members`` in all (None: as many as
        ``n_members`` allows); return the averaged student and every member tried
        (as dicts). None are tried after a chain, for a module of the user's own, or
        (``"auto"``) without validation rows."""
        auto = self.n_members == "auto"
        if chain_length > 0 or not trainer.default_module or (
                auto and trainer.valid is None):
            return net, []
        n_members = (auto_member_count(pickled_nbytes(net.module_),
                                       trainer.student_budget, trainer.n_labelled)
                     if auto else self.n_members)
        if max_members is not None:
            n_members = min(n_members, max_members)

        def train(offset):
            return replace(trainer, seed=trainer.seed + offset)(config)

        valid_proba = trainer.valid_proba if trainer.valid is not None else None
        nets, members = grow_members(
            train, (net, step.valid_loss, step.seconds), valid_proba,
            trainer.valid_labels if valid_proba is not None else None, n_members,
            MEMBER_MIN_GAIN if auto else None,
            trainer.valid_weights if valid_proba is not None else None)
        return merge_members(nets), [member.as_dict() for member in members]

    def _confirm_winner(self, trainer, favourite, net, steps):
        """The search's winner ``net`` (averaged over its members) against the
        ``favourite`` configuration trained and averaged the same way: the winner is
        kept only when its per-row validation losses are significantly lower. Returns
        the kept student and its chain steps; sets ``config_``, ``members_`` and
        ``confirmation_``."""
        start = perf_counter()
        favourite_net, step, favourite_members, winner_losses, favourite_losses = (
            self._rival(trainer, net, favourite))
        confirmed = significantly_lower(winner_losses, favourite_losses)
        self.confirmation_ = {
            "winner_loss": float(np.mean(winner_losses)),
            "favourite_loss": float(np.mean(favourite_losses)),
            "favourite_members": max(1, _n_kept(favourite_members)),
            "confirmed": confirmed, "seconds": perf_counter() - start}
        self._log(f"search winner {'confirmed' if confirmed else 'not confirmed'} "
                  f"against the favourite: {self.confirmation_}")
        if confirmed:
            return net, steps
        self.config_, self.members_ = dict(favourite), favourite_members
        return favourite_net, [step]

    def _rival(self, trainer, net, config, max_members=None):
        """A direct student of ``config`` (no assistants), averaged over members as
        the shipped ``net`` is (at most ``max_members`` of them): ``(rival, its chain
        step, its members, per-row validation losses of net, of rival)``."""
        rival, (step,), _ = run_chain(
            lambda units, previous: trainer(config, units, previous),
            trainer.plan(config)[1], [], self.chain_min_gain)
        rival, members = self._average_members(trainer, config, rival, step, 0,
                                               max_members)
        return (rival, step, members, trainer.valid_row_losses(net),
                trainer.valid_row_losses(rival))

    def _tries_augmentation(self, trainer, assistants):
        """Whether to try the chosen configuration with augmentation (see
        ``augment_trial``): not where a chain planned ``assistants`` (whose steps
        ``chain_`` keeps, though none paid)."""
        return (self.augment_trial and self.augment is None
                and self.config == "auto" and self.config_source_ != "memory"
                and self.config_["augment"] == "off" and trainer.valid is not None
                and trainer.default_module and not assistants
                and synthetic_rows(trainer.n_labelled, "auto") > 0)

    def _try_augmentation(self, trainer, net, steps, transfer_sets, trial_folds):
        """The chosen configuration with ``augment="auto"`` against it without: on
        the validation rows, the shipped student ``net`` against the augmented one
        averaged the same way (over at most as many members), or, where
        ``trial_folds`` gives folds, one student of each per fold, judged on the
        folds' held-out rows pooled. The augmented student is kept only when its
        per-row losses are lower by :func:`augmentation_pays`. Returns the kept
        student and its chain steps; sets ``augment_trial_`` (and ``config_`` and
        ``members_`` when the augmented student is kept)."""
        start = perf_counter()
        augmented = dict(self.config_, augment="auto")

        def augmented_rival():
            # no more members than the plain student averages: the trial weighs the
            # augmentation, not a larger average
            trainer.transfer_sets.update(transfer_sets([augmented]))
            return self._rival(trainer, net, augmented,
                               max_members=max(1, _n_kept(self.members_)))

        folds = trial_folds([self.config_, augmented])
        if folds is None:
            augmented_net, step, members, plain_losses, augmented_losses = (
                augmented_rival())
            kept = augmentation_pays(augmented_losses, plain_losses)
        else:
            plain_nets = folds(self.config_)[0]
            plain_losses = folds.valid_row_losses(plain_nets)
            augmented_losses = folds.valid_row_losses(folds(augmented)[0])
            kept = augmentation_pays(augmented_losses, plain_losses)
            augmented_net, step, members = (augmented_rival()[:3] if kept
                                            else (None, None, []))
        joining = (plain_nets if folds is not None and not kept and self.fold_members
                   else ())
        net, fold_members = self._join_fold_members(trainer, net, joining)
        self.augment_trial_ = {
            "plain_loss": float(np.mean(plain_losses)),
            "augmented_loss": float(np.mean(augmented_losses)),
            "folds": 0 if folds is None else len(folds.trainers),
            "augmented_members": max(1, _n_kept(members)), "members": members,
            "kept": kept, "fold_members": fold_members,
            "seconds": perf_counter() - start}
        self._log(f"augmentation {'kept' if kept else 'not kept'}: "
                  f"{dict(self.augment_trial_, members=len(members))}")
        if not kept:
            return net, steps
        self.config_, self.members_ = augmented, members
        return augmented_net, [step]

    def _join_fold_members(self, trainer, net, fold_nets):
        """The shipped student ``net`` averaged with the augment trial's plain fold
        students ``fold_nets`` (see ``fold_members``), as many as the size budget
        allows; returns it and how many joined."""
        if not fold_nets:
            return net, 0
        shipped = max(1, _n_kept(self.members_))
        member_nbytes = pickled_nbytes(fold_nets[0].module_)
        room = members_within_budget(member_nbytes, trainer.student_budget,
                                     max_members=shipped + len(fold_nets)) - shipped
        joining = list(fold_nets[:max(0, room)])
        return merge_members([net, *joining]), len(joining)

    #: Parameters recorded in the optimization memory with each fit.
    _REMEMBERED_PARAMS = ("teacher_cv", "temperature_params", "chain", "chain_min_gain",
                          "min_compression", "early_stopping", "validation_fraction",
                          "validation_held_out", "search_labels", "weak_teachers",
                          "n_iter_no_change",
                          "weight_averaging", "lr_schedule", "early_stopping_on",
                          "search_budget", "search_folds", "search_scoring",
                          "search_warm_start", "n_members",
                          "confirm_winner", "augment_trial", "fold_members")

    def _remember(self, memory, fingerprint, teacher_task_seconds):
        """Record this fit in the shared optimization memory (never fails the fit)."""
        if memory is None:
            self.__dict__.pop("memory_run_id_", None)  # a previous fit's
            return
        config = {name: getattr(self, name) for name in self._REMEMBERED_PARAMS}
        config["teacher_cv"] = (config["teacher_cv"] if isinstance(
            config["teacher_cv"], (int, str)) else type(config["teacher_cv"]).__name__)
        config["chain"] = config["chain"] if isinstance(config["chain"], str) else [
            list(size) if isinstance(size, tuple) else size for size in config["chain"]]
        config.update(self.config_, config_source=self.config_source_,
                      fixed=self._fixed_config(self.student),
                      teachers=self._teacher_types(),
                      hidden_units=list(self.chain_[-1]["hidden_units"]),
                      teacher_method=self.teacher_weighting_.method_,
                      chain_length=self.chain_length_, n_synthetic=self.n_synthetic_)
        scores = {"valid_log_loss": min(step["valid_loss"] for step in self.chain_
                                        if step["role"] == "target"),
                  "compression": self.compression_ratio_,
                  "search": self.config_search_}
        features = dict(self.meta_features_,
                        log_size_ratio=float(np.log10(self.compression_ratio_)))
        self.memory_run_id_ = memory.record(
            fingerprint=fingerprint, meta_features=features, config=config,
            scores=scores, timings=dict(self.fit_times_,
                                        teacher_tasks=teacher_task_seconds))

    #: Fitted attributes stored with the student for a repeated fit (see ``memory``).
    _STORED_ATTRIBUTES = ("config_", "config_source_", "config_search_", "chain_",
                          "chain_length_", "n_synthetic_", "members_", "n_members_",
                          "confirmation_", "augment_trial_", "search_labels_",
                          "meta_features_", "teacher_lift_", "validation_scores_",
                          "student_columns_")

    def _name_teachers(self, teachers):
        """Attributes that follow from the fitted ``teachers_``."""
        self.named_teachers_ = Bunch(**{name: est for (name, _), est
                                        in zip(teachers, self.teachers_)})
        self.teacher_nbytes_ = int(sum(pickled_nbytes(t) for t in self.teachers_))

    def _store(self, memory, key, signature, X, y):
        """Store this fit's student and what restoring it needs under ``key``, with
        the teachers' ``signature`` and the signature of the fitted teachers on the
        unconverted rows ``X``, which a restore on all rows compares."""
        store_fit(memory, key, signature, self.student_,
                  {**{name: getattr(self, name) for name in self._STORED_ATTRIBUTES},
                   "teacher_weighting": weighting_snapshot(self.teacher_weighting_),
                   "fitted_signature": fitted_signature(
                       self.teachers_, X, y, self._teacher_class_codes,
                       len(self.classes_))},
                  run_id=self.memory_run_id_)

    def _restore_on_all_rows(self, stored, teachers, student, X, y, sample_weight, seeds,
                             start):
        """Restore the ``stored`` fit (:func:`load_fit`) with the teachers fitted on
        all rows only (no folds), where their outputs match the stored ones
        (:func:`fitted_signature`). Returns whether it restored."""
        if "fitted_signature" not in stored:
            return False
        self._log(f"fitting {len(teachers)} teachers on all rows to restore a stored fit")
        with self._progress("teachers", "fit", sized=True):
            fitted, _, codes, _ = fit_teachers(
                teachers, X, y, label_encoder=self._label_encoder,
                teacher_cv="prefit" if self.teacher_cv == "prefit" else "in_sample",
                seeds=seeds[:len(teachers) + 1], n_jobs=self.n_jobs,
                feature_names=self._feature_names, sample_weight=sample_weight)
        if not signatures_match(stored["fitted_signature"], fitted_signature(
                fitted, X, y, codes, len(self.classes_))):
            self._log("the teachers' outputs differ from the stored fit's: training")
            return False
        self.teachers_, self._teacher_class_codes = fitted, codes
        self._name_teachers(teachers)
        return self._restore(stored, student, perf_counter() - start)

    def _restore(self, stored, student, teacher_seconds):
        """Finish the fit with the student and teacher weighting that the same fit
        stored in the memory. Returns whether it restored (False: what is stored
        does not fit this model)."""
        start = perf_counter()
        try:
            missing = [name for name in self._STORED_ATTRIBUTES if name not in stored]
            if missing:
                raise KeyError(f"no {missing} stored")
            weighting = restore_weighting(stored["teacher_weighting"])
            weighting_seconds = perf_counter() - start
            start = perf_counter()
            self.student_ = restore_student(student, stored["student"], self.device_)
        except (RuntimeError, ValueError, TypeError, KeyError) as exc:
            self._log(f"the stored student does not fit this model ({exc}); "
                      "training it")
            return False
        for name in self._STORED_ATTRIBUTES:  # student_columns_ stored as an array
            setattr(self, name, decode_arrays(stored[name]))
        # JSON keeps tuples as lists: the sizes come back as a trained fit has them
        self.chain_ = [dict(step, hidden_units=tuple(step["hidden_units"]))
                       for step in self.chain_]
        self.teacher_weighting_ = weighting
        self.teacher_weights_ = weighting.mean_weights_
        self.memory_run_id_ = stored["run_id"]
        self.restored_ = True
        self.fit_times_ = {"teachers": teacher_seconds, "weighting": weighting_seconds,
                           "student": perf_counter() - start}
        self._account_sizes()
        self._log(f"restored the student of the same fit from the memory (run "
                  f"{self.memory_run_id_}): config {self.config_}")
        return True

    def _account_sizes(self):
        nodes = [count_tree_nodes(t) for t in self.teachers_]
        self.teacher_n_nodes_ = None if None in nodes else int(sum(nodes))
        module = self.student_.module_
        self.student_n_params_ = count_parameters(module)
        self.student_nbytes_ = pickled_nbytes(module)
        self.compression_ratio_ = self.teacher_nbytes_ / self.student_nbytes_

    @property
    def _feature_names(self):
        """X's column names at fit (``feature_names_in_``), or None."""
        return getattr(self, "feature_names_in_", None)

    def _progress(self, description, unit, sized=False):
        """A progress bar of a stage from ``verbose=2`` (see :mod:`skhpmkd.progress`)."""
        return progress_bar(description, unit, enabled=self.verbose >= 2, sized=sized)

    def _log(self, message):
        logger.info(message)
        if self.verbose >= 1:
            write(f"[HPMKD] {message}")

    # -- predict ----------------------------------------------------------------------

    def teacher_weights(self, X):
        """Per-sample teacher weights that the fitted weighting gives to new rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_teachers)
            Rows sum to 1; columns in the order of ``teachers_``.
        """
        check_is_fitted(self)
        self._check_teachers_kept("teacher_weights")
        X = self._validated_X(X)
        proba = predict_teacher_proba(self.teachers_, X, self._teacher_class_codes,
                                      len(self.classes_))
        return self.teacher_weighting_.weights(self._student_input(X), proba)

    def _validated_X(self, X):
        """``X`` at prediction as the teachers take it: numeric columns, the fitted
        feature count and names, float64 (float32 kept), dense."""
        check_numeric_columns(X)
        return densified(validate_data(self, X, reset=False, accept_sparse=SPARSE_FORMATS,
                                       dtype=[np.float64, np.float32]))

    def _student_input(self, X):
        """Validated rows ``X`` as the student takes them (a float32 copy of the
        columns in ``student_columns_``; see ``student_offsets_``; both absent from
        fits pickled before them)."""
        columns = getattr(self, "student_columns_", None)
        return student_input(take_columns(X, columns), take_columns(
            getattr(self, "student_offsets_", None), columns))

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
        X = np.require(self._student_input(self._validated_X(X)),
                       requirements=["C", "W"])
        proba = predict_proba_fast(self.student_.module_, X).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities from the student.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``: columns in the order of ``classes_``, ``-inf``
            where a probability underflowed to 0.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

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

    def without_teachers(self):
        """A copy of the fitted classifier that keeps what prediction needs, to ship.

        A fitted classifier pickles with its teachers, often hundreds of times the
        student's size. The copy leaves out ``teachers_`` and ``named_teachers_``, the
        student's optimizer state and the per-batch records of its training history
        (the epochs' are kept), and the ``teachers`` parameter where it holds a
        fitted model (prefit or FrozenEstimator teachers: None in the copy). It
        predicts exactly as the original (``predict``, ``predict_proba``,
        ``predict_log_proba``, ``score``) and keeps every other fitted attribute;
        ``teacher_weights`` and :class:`~skhpmkd.DistillationReport` need the
        original, which is not changed. For a fitted Pipeline ``pipe``:
        ``Pipeline(pipe.steps[:-1] + [(name, pipe[-1].without_teachers())])``.

        Returns
        -------
        HPMKDClassifier
            Fitted, without ``teachers_``. Fitting it again fits teachers as usual;
            where its ``teachers`` is None, set them again first (None means the
            default teachers).
        """
        check_is_fitted(self)
        state = {name: value for name, value in vars(self).items()
                 if name not in ("teachers_", "named_teachers_", "student_")}
        if self.teachers is not None and any(
                is_fitted(estimator) for _, estimator in self.teachers):
            state["teachers"] = None
        light = type(self).__new__(type(self))
        light.__dict__.update(deepcopy(state))
        student_state = {name: value for name, value in vars(self.student_).items()
                         if not name.startswith("optimizer_") and name != "history_"}
        light.student_ = type(self.student_).__new__(type(self.student_))
        light.student_.__dict__.update(deepcopy(student_state))
        light.student_.history_ = History([
            {key: deepcopy(value) for key, value in epoch.items() if key != "batches"}
            for epoch in self.student_.history_])
        return light

    def _check_teachers_kept(self, method):
        """Raise where ``method`` needs the teachers and :meth:`without_teachers` left
        them out."""
        if not hasattr(self, "teachers_"):
            raise AttributeError(f"{method} needs the teachers, which without_teachers() "
                                 f"left out of this copy; call it on the classifier "
                                 f"the copy was made from.")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        return tags
