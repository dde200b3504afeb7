"""Budgeted search: successive halving over candidate configurations on validation rows.

Every candidate is first trained for a few epochs on at most ``MIN_RUNG_ROWS``
labelled rows (and the same share of its synthetic rows, if it augments);
the best ``1 / eta`` of them go on to a rung ``eta`` times longer on ``eta`` times more
rows, and so on, until one candidate is trained with the
full epoch budget (and early stopping). That last network is the search's result, so
the winner is not trained twice; where the rung before trained on a sample of the
rows (large data), the last rung can go on from its network (:func:`warm_starts`).
Candidates of a rung are independent and run as parallel tasks
(:func:`skhpmkd.parallel.run_tasks`), costliest first.

The candidates come ranked, the favourite first (the static defaults; see
:func:`skhpmkd.config.propose_candidates`), and the favourite is the null hypothesis:
with per-row validation losses, a candidate overtakes it only when its loss is lower
beyond paired noise
(:func:`skhpmkd.ensemble.significantly_lower`). The leader is the best of several
challengers, so the threshold grows with their number (:func:`challenger_z`). On a
small validation split the search thus keeps the favourite instead of chasing noise,
unless the favourite is on average no better than predicting the class shares (it
learned nothing: wide data can do that to the default input encoding).

A small validation split shows little beyond noise, so on small data the short rungs
are cross-validated (:func:`search_folds`): each candidate trains once per fold of
disjoint stratified validation rows, and the rung compares the candidates on every
fold's rows pooled, at least ``MIN_POOLED_VALID_ROWS`` of them where the data has
that many. The last rung trains the winner once, on the fit's own split.

A candidate's validation loss is its best epoch's on the rows that chose that epoch,
an optimistic figure; the rungs can instead rank on rows early stopping did not
watch (:func:`split_for_scoring`, half the validation rows each), at the price of a
noisier ranking.
"""

import math
from itertools import islice

import numpy as np
import torch
from scipy.stats import norm
from sklearn.model_selection import StratifiedKFold

from .ensemble import SIGNIFICANCE_Z, significantly_lower
from .parallel import Task, run_tasks, threads_per_task
from .teachers import stratified_holdout

#: Keep the best ``1 / ETA`` of the candidates at each rung.
ETA = 3
#: Epochs of the first rung; each later rung trains ``ETA`` times longer.
MIN_RUNG_EPOCHS = 10
#: Most labelled training rows of the first rung; each later rung may use ``ETA`` times
#: more (a candidate with augmentation adds the same share of its synthetic rows).
#: On large data the short rungs thus cost little next to the final training.
MIN_RUNG_ROWS = 5000
#: Validation rows the short rungs compare candidates on, pooled over folds, where the
#: data has that many. About ten times as many training rows go into each rung's
#: trainings, whatever the size of the data, so the folds cost a bounded amount.
MIN_POOLED_VALID_ROWS = 1000


def search_folds(y, validation_fraction, seed, n_folds="auto",
                 min_rows=MIN_POOLED_VALID_ROWS):
    """``[(train, valid), ...]``: disjoint stratified validation folds for the short
    rungs of the search, or ``[]`` for the fit's single validation split.

    Each fold holds out about ``validation_fraction`` of the rows (the folds of a
    ``StratifiedKFold`` of ``1 / validation_fraction`` splits, at most the smallest
    class's count). ``n_folds="auto"`` takes as many folds as pool ``min_rows``
    validation rows; an int takes that many (1: none). There are never more folds
    than splits.
    """
    y = np.asarray(y)
    if n_folds == "auto":
        n_folds = math.ceil(min_rows / max(1.0, len(y) * validation_fraction))
    n_splits = min(max(2, round(1 / validation_fraction)), int(np.bincount(y).min()))
    n_folds = min(int(n_folds), n_splits)
    if n_folds < 2:
        return []
    splitter = StratifiedKFold(n_splits, shuffle=True, random_state=seed)
    return list(islice(splitter.split(np.zeros(len(y)), y), n_folds))


def split_for_scoring(rows, y, seed):
    """``(stop, score)``: a stratified half of the validation ``rows`` for the short
    rungs' early stopping, the other half to rank the candidates on; None when a class
    has too few of those rows to split.

    Ranked on the rows that chose its epoch, each candidate shows its best epoch's
    loss, an optimistic figure, and the more so the noisier its validation curve.
    """
    rows = np.asarray(rows)
    halves = stratified_holdout(np.asarray(y)[rows], 0.5, seed)
    return None if halves is None else (rows[halves[0]], rows[halves[1]])


def rung_schedule(n_candidates, max_epochs, n_rows=None, eta=ETA,
                  min_epochs=MIN_RUNG_EPOCHS, min_rows=MIN_RUNG_ROWS):
    """``[(candidates trained, epochs, rows), ...]`` per rung; rows are at most
    ``n_rows`` (None: not limited), and the last rung trains one candidate for
    ``max_epochs`` on all rows (rows None)."""
    sizes = [max(1, int(n_candidates))]
    while sizes[-1] > 1:
        sizes.append(math.ceil(sizes[-1] / eta))
    rungs = range(len(sizes))
    epochs = [min(max_epochs, min_epochs * eta ** rung) for rung in rungs]
    rows = [None if n_rows is None else min(n_rows, min_rows * eta ** rung)
            for rung in rungs]
    epochs[-1], rows[-1] = max_epochs, None
    return list(zip(sizes, epochs, rows))


def short_rung_rows_cap(n_candidates, n_rows):
    """Most labelled rows a short rung of a search over ``n_candidates`` trains on,
    of ``n_rows`` (all of them when there is no short rung)."""
    short = [rows for _, _, rows in rung_schedule(n_candidates, 1, n_rows)[:-1]]
    return max(short, default=n_rows)


def _train_capped(train, config, max_epochs, max_rows, n_threads, init=None):
    """``train(config, max_epochs=..., max_rows=...)`` with torch capped to
    ``n_threads`` threads (None: as it is), going on from the network ``init`` when
    one is given (``train(..., init=init)``)."""
    if n_threads is not None:
        torch.set_num_threads(n_threads)
    more = {} if init is None else {"init": init}
    return train(config, max_epochs=max_epochs, max_rows=max_rows, **more)


def challenger_z(n_challengers, z=SIGNIFICANCE_Z):
    """Standard errors the best of ``n_challengers`` must beat the favourite by: ``z``
    for one, more for several (Bonferroni on ``z``'s one-sided level), since the
    leader of many is the luckiest of them."""
    return float(norm.isf(norm.sf(z) / max(1, int(n_challengers))))


def _ranked(alive, losses, row_losses, baseline_losses=None):
    """``alive`` best first: by loss, but the favourite (candidate 0) stays first
    unless the leader's per-row losses are significantly lower. Once the favourite is
    out, the challengers are ranked by loss alone: the prior's order among them is
    not a belief worth a noise guard. Nor is the favourite's where it learned nothing:
    its mean loss no lower than that of ``baseline_losses`` (per-row losses of
    predicting the training rows' class shares, if given)."""
    order = [alive[j] for j in np.argsort(losses, kind="stable")]
    favourite = 0
    if row_losses is None or favourite not in alive or order[0] == favourite or (
            significantly_lower(
                row_losses[order[0]], row_losses[favourite],
                z=challenger_z(len(alive) - 1))):
        return order
    if baseline_losses is not None and not significantly_lower(
            row_losses[favourite], baseline_losses, z=0.0):
        return order
    return [favourite] + [i for i in order if i != favourite]


def _epochs_run(net):
    """Epochs a network trained (the most of a fold's networks)."""
    if isinstance(net, tuple):
        return max(map(_epochs_run, net))
    return len(net.history)


def warm_starts(warm_start, schedule, n_rows):
    """Whether the last rung of ``schedule`` (:func:`rung_schedule`) goes on from the
    rung before's networks: ``warm_start`` True or False, or "auto": where that rung
    trained on fewer than the ``n_rows`` rows (large data), so that the last rung
    adds rows to a short training rather than repeating it longer on the same rows
    (where, on breast_cancer, going on cost 0.9 pp: docs/benchmarks.md)."""
    if len(schedule) < 2 or warm_start is False:
        return False
    if warm_start == "auto":
        rows = schedule[-2][2]
        return rows is not None and n_rows is not None and rows < n_rows
    return bool(warm_start)


def pretraining_rung(n_rows, max_epochs, eta=ETA, min_epochs=MIN_RUNG_EPOCHS,
                     min_rows=MIN_RUNG_ROWS):
    """``(epochs, rows)`` of the short training that a lone training (no search) on
    ``n_rows`` labelled rows goes on from, as the search's last rung goes on from its
    second rung: that rung's epochs and rows; None where it would train on all rows
    or as long as the training itself."""
    epochs, rows = min_epochs * eta, min_rows * eta
    return (epochs, rows) if n_rows > rows and epochs < max_epochs else None


def successive_halving(candidates, train, max_epochs, *, n_rows=None, cost=None,
                       row_losses=None, baseline_losses=None, final_train=None,
                       warm_start=False, n_jobs=None, eta=ETA,
                       min_epochs=MIN_RUNG_EPOCHS, min_rows=MIN_RUNG_ROWS):
    """Pick the configuration whose student has the lowest validation log-loss.

    Parameters
    ----------
    candidates : list of dict
        Configurations, best guess first (ties keep the earlier one).
    train : callable
        ``train(config, max_epochs=..., max_rows=...) -> (net, valid_loss)``, where
        ``max_rows`` (None: all) caps the labelled training rows; picklable when
        ``n_jobs`` runs workers in other processes. ``net`` may be a tuple of networks
        (one per fold, see :class:`skhpmkd.training.CrossValidatedTrainer`).
    max_epochs : int
        Epochs of the last rung.
    n_rows : int or None
        Labelled training rows (the short rungs use at most ``min_rows * eta ** rung``
        of them; None: never capped); the last rung trains on all rows.
    cost : callable, optional
        ``cost(config)``: relative cost of one epoch, to start the slowest first.
    row_losses : callable, optional
        ``row_losses(net)``: per-row validation losses, for the paired noise guard
        that keeps the best-ranked candidate unless it is beaten significantly. None:
        plain ranking by ``valid_loss``.
    baseline_losses : ndarray, optional
        Per-row losses, on the same rows, of predicting the training rows' class
        shares: a favourite no better than that on average loses its guard.
    final_train : callable, optional
        Trains the last rung's single candidate (None: ``train``), whose network is
        the result; ``row_losses`` is not called on it.
    warm_start : bool or "auto"
        The last rung goes on training the winner's network from the rung before
        (``final_train(..., init=net)``) instead of starting afresh, where that
        rung trained a single network (not one per fold). "auto": only where that
        rung trained on a sample of the ``n_rows`` (see :func:`warm_starts`).
    n_jobs : int or None
        Parallel trainings per rung, as in joblib.
    eta, min_epochs, min_rows : int
        Halving factor, and epochs and most rows of the first rung.

    Returns
    -------
    best : int
        Index of the chosen candidate.
    net : the chosen candidate's network from the last rung
    records : list of dict
        One per training: ``candidate``, ``rung``, ``max_epochs``, ``epochs`` (run),
        ``rows``, ``folds`` (networks trained: 1, or one per fold), ``warm_start``
        (whether it went on from the rung before's network), ``valid_loss`` and
        ``seconds``.
    """
    alive = list(range(len(candidates)))
    records, nets = [], {}
    schedule = rung_schedule(len(candidates), max_epochs, n_rows, eta, min_epochs,
                             min_rows)
    for rung, (size, epochs, rows) in enumerate(schedule):
        alive = alive[:size]
        last = rung == len(schedule) - 1
        rung_train = final_train if last and final_train is not None else train
        n_threads = threads_per_task(n_jobs, len(alive))
        warm = last and warm_starts(warm_start, schedule, n_rows)
        inits = {i: nets[i] if warm and not isinstance(nets[i], tuple) else None
                 for i in alive}
        tasks = [Task(_train_capped, (rung_train, candidates[i], epochs, rows, n_threads,
                                      inits[i]),
                      cost=epochs * (rows or 1) * (cost(candidates[i]) if cost else 1.0),
                      name=f"rung{rung}:candidate{i}") for i in alive]
        results, seconds = run_tasks(tasks, n_jobs=n_jobs, return_seconds=True)
        nets, losses, per_row = {}, [], {}
        for task, i, (net, loss) in zip(tasks, alive, results):
            nets[i] = net
            losses.append(loss if np.isfinite(loss) else np.inf)
            if row_losses is not None and len(alive) > 1:
                per_row[i] = row_losses(net)
            records.append({"candidate": i, "rung": rung, "max_epochs": epochs,
                            "epochs": _epochs_run(net), "rows": rows,
                            "folds": len(net) if isinstance(net, tuple) else 1,
                            "warm_start": inits[i] is not None,
                            "valid_loss": float(loss), "seconds": seconds[task.name]})
        alive = _ranked(alive, losses, per_row if per_row else None, baseline_losses)
    return alive[0], nets[alive[0]], records
