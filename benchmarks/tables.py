"""Summaries of benchmark rows: medians with ranges, derived columns, text and Markdown.

Derived per seed, then summarised:

- retention: accuracy / best single teacher's accuracy;
- gap closed: (accuracy - mlp) / (best teacher - mlp), only where that gap > 0.5 pp;
- compression: the default teacher ensemble's pickled bytes / the model's bytes;
- vs best teacher: accuracy - best single teacher's accuracy, in pp (with the paired
  bootstrap interval the runner measures on the test rows);
- retention vs the out-of-fold teacher: accuracy / the test accuracy of the teacher
  with the lowest out-of-fold log-loss on the training rows (the best teacher is
  picked on the test rows, with hindsight; this one is picked without them).
"""

import numpy as np
import pandas as pd

GAP_MIN = 0.005

METRICS = ["accuracy", "balanced_accuracy", "log_loss", "retention", "retention_oof",
           "gap_closed",
           "compression", "fit_seconds", "latency_10k_ms", "latency_1_ms",
           "vs_best_teacher_pp", "vs_best_teacher_low", "vs_best_teacher_high"]


#: Columns that :func:`add_derived_columns` computes from the raw measurements.
DERIVED = ("retention", "retention_oof", "gap_closed", "compression",
           "vs_best_teacher_pp")

#: Rows of a train/test split other than the protocol's are named ``dataset@splitK``
#: (:func:`benchmarks.runner.split_name`).
SPLIT_MARK = "@split"


def base_dataset(name):
    """The dataset a row's name (plain or ``dataset@splitK``) refers to."""
    return name.split(SPLIT_MARK)[0]


def add_derived_columns(rows):
    """DataFrame of the rows with retention, gap closed, compression and the
    difference to the best teacher (pp) per seed."""
    frame = pd.DataFrame(rows)
    for column in ("accuracy", "nbytes", "n_params", "n_nodes", "balanced_accuracy",
                   "log_loss", "latency_10k_ms", "latency_1_ms", "fit_seconds",
                   "vs_best_teacher_low", "vs_best_teacher_high", "oof_best_teacher"):
        if column not in frame:
            frame[column] = np.nan
    teachers = frame[(frame.kind == "teacher") & (frame.model != "teacher average")]
    best = teachers.groupby(["dataset", "seed"]).accuracy.max()
    mlp = frame[frame.model == "mlp"].set_index(["dataset", "seed"]).accuracy
    ensemble = frame[frame.model == "teacher average"].set_index(
        ["dataset", "seed"]).nbytes
    keys = pd.MultiIndex.from_frame(frame[["dataset", "seed"]])
    best_acc = best.reindex(keys).to_numpy()
    mlp_acc = mlp.reindex(keys).to_numpy()
    gap = best_acc - mlp_acc
    frame["retention"] = frame.accuracy.to_numpy() / best_acc
    by_name = teachers.set_index(["dataset", "seed", "model"]).accuracy
    oof_keys = pd.MultiIndex.from_frame(frame[["dataset", "seed", "oof_best_teacher"]])
    frame["retention_oof"] = frame.accuracy.to_numpy() / by_name.reindex(
        oof_keys).to_numpy()
    frame["vs_best_teacher_pp"] = 100 * (frame.accuracy.to_numpy() - best_acc)
    with np.errstate(divide="ignore", invalid="ignore"):
        closed = (frame.accuracy.to_numpy() - mlp_acc) / gap
    frame["gap_closed"] = np.where(gap > GAP_MIN, closed, np.nan)
    frame["compression"] = ensemble.reindex(keys).to_numpy() / frame.nbytes.to_numpy()
    return frame


def summarise(frame):
    """Median, min and max of every metric per dataset and model, in run order."""
    order = {model: i for i, model in enumerate(dict.fromkeys(frame.model))}
    grouped = frame.groupby(["dataset", "model"], sort=False)
    summary = grouped[METRICS].agg(["median", "min", "max"])
    summary.columns = [f"{metric}_{stat}" for metric, stat in summary.columns]
    extra = grouped.agg(seeds=("seed", "nunique"), kind=("kind", "first"),
                        gap_seeds=("gap_closed", "count"),
                        n_params=("n_params", "median"),
                        n_nodes=("n_nodes", "median"),
                        note=("note", lambda notes: "; ".join(sorted(set(
                            str(n) for n in notes if isinstance(n, str) and n)))))
    summary = summary.join(extra).reset_index()
    # gap closed where a gap (over GAP_MIN) is there on at least half the seeds: a
    # median over the one seed of three that has one would stand for the dataset
    no_gap = 2 * summary.gap_seeds < summary.seeds
    summary.loc[no_gap, ["gap_closed_median", "gap_closed_min", "gap_closed_max"]] = (
        np.nan)
    summary["_order"] = summary.model.map(order)
    datasets = list(dict.fromkeys(frame.dataset))
    summary["_dataset"] = summary.dataset.map({d: i for i, d in enumerate(datasets)})
    return summary.sort_values(["_dataset", "_order"]).drop(
        columns=["_order", "_dataset"])


def _value(row, metric, fmt, scale=1.0, ranged=True):
    median = row[f"{metric}_median"]
    if pd.isna(median):
        return "-"
    text = fmt.format(scale * median)
    low, high = row[f"{metric}_min"], row[f"{metric}_max"]
    if ranged and row["seeds"] > 1 and not (pd.isna(low) or low == high):
        text += f" [{fmt.format(scale * low)}-{fmt.format(scale * high)}]"
    return text


def _size(row):
    if not pd.isna(row["n_params"]):
        return f"{int(row['n_params']):,} p"
    if not pd.isna(row["n_nodes"]):
        return f"{int(row['n_nodes']):,} n"
    return "-"


COLUMNS = [
    ("model", lambda r: r["model"]),
    ("accuracy", lambda r: _value(r, "accuracy", "{:.4f}")),
    ("bal. acc", lambda r: _value(r, "balanced_accuracy", "{:.4f}", ranged=False)),
    ("log-loss", lambda r: _value(r, "log_loss", "{:.4f}", ranged=False)),
    ("retention %", lambda r: _value(r, "retention", "{:.1f}", 100, ranged=False)),
    ("gap closed %", lambda r: _value(r, "gap_closed", "{:.0f}", 100, ranged=False)),
    ("compr. x", lambda r: _value(r, "compression", "{:.1f}", ranged=False)),
    ("params/nodes", _size),
    ("fit s", lambda r: _value(r, "fit_seconds", "{:.1f}", ranged=False)),
    ("10k ms", lambda r: _value(r, "latency_10k_ms", "{:.1f}", ranged=False)),
    ("1 row ms", lambda r: _value(r, "latency_1_ms", "{:.2f}", ranged=False)),
]


def table_cells(summary):
    """Per dataset: the header and the cell strings of each model row."""
    header = [name for name, _ in COLUMNS]
    return {dataset: (header, [[cell(row) for _, cell in COLUMNS]
                               for _, row in part.iterrows()])
            for dataset, part in summary.groupby("dataset", sort=False)}


def format_text(summary):
    """Fixed-width tables, one per dataset, with notes (e.g. DeepBridge's error) below."""
    blocks = []
    for dataset, (header, rows) in table_cells(summary).items():
        widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
        line = lambda cells: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                                       for i, (c, w) in enumerate(zip(cells, widths)))
        notes = summary[(summary.dataset == dataset) & (summary.note != "")]
        blocks.append("\n".join(
            [f"== {dataset}", line(header), "-" * len(line(header))]
            + [line(row) for row in rows]
            + [f"  note {r.model}: {r.note}" for r in notes.itertuples()]))
    return "\n\n".join(blocks)


def format_markdown(summary):
    """The same tables in Markdown."""
    blocks = []
    for dataset, (header, rows) in table_cells(summary).items():
        lines = [f"### {dataset}", "", "| " + " | ".join(header) + " |",
                 "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        notes = summary[(summary.dataset == dataset) & (summary.note != "")]
        lines += [""] + [f"- {r.model}: {r.note}" for r in notes.itertuples()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def headline(summary):
    """One row per dataset: the protocol's targets at a glance (medians over seeds).

    Columns: best single teacher, mlp, kd and hpmkd accuracy, hpmkd's retention
    (against the best teacher, and against the teacher chosen out-of-fold) and gap
    closed, hpmkd - kd in accuracy (pp) and log-loss, compression, fit time of hpmkd
    over kd, and the 10k-row speed-up over the teacher average.
    """
    rows = []
    for dataset, part in summary.groupby("dataset", sort=False):
        by_model = part.set_index("model")
        if not {"mlp", "kd", "hpmkd", "teacher average"} <= set(by_model.index):
            continue
        teachers = part[(part.kind == "teacher") & (part.model != "teacher average")]
        best = teachers.loc[teachers.accuracy_median.idxmax()]
        hp, kd, mlp = by_model.loc["hpmkd"], by_model.loc["kd"], by_model.loc["mlp"]
        average = by_model.loc["teacher average"]
        rows.append({
            "dataset": dataset,
            "best teacher": f"{best.accuracy_median:.4f} ({best.model})",
            "mlp": f"{mlp.accuracy_median:.4f}",
            "kd": f"{kd.accuracy_median:.4f}",
            "hpmkd": f"{hp.accuracy_median:.4f}",
            "retention %": against(100 * hp.retention_median,
                                   100 * RETENTION_TARGET, 1),
            "vs oof-chosen teacher %": (
                "-" if pd.isna(hp.retention_oof_median) else against(
                    100 * hp.retention_oof_median, 100 * RETENTION_TARGET, 1)),
            "hpmkd-best teacher pp (95%)": _with_interval(hp, "vs_best_teacher"),
            "gap closed %": ("-" if pd.isna(hp.gap_closed_median)
                             else against(100 * hp.gap_closed_median,
                                          100 * GAP_TARGET, 0)),
            "hpmkd-kd pp": against(100 * (hp.accuracy_median - kd.accuracy_median),
                                   -KD_TOLERANCE_PP, 2, "+"),
            "hpmkd-kd log-loss": f"{hp.log_loss_median - kd.log_loss_median:+.4f}",
            "compr. x": f"{hp.compression_median:.1f}",
            "fit vs kd": f"{hp.fit_seconds_median / kd.fit_seconds_median:.1f}x",
            "10k speed-up": (
                f"{average.latency_10k_ms_median / hp.latency_10k_ms_median:.0f}x"),
        })
    return pd.DataFrame(rows)


def against(value, target, decimals, sign=""):
    """``value`` with ``decimals`` decimals (``sign="+"``: signed), or up to four more
    where fewer would show a value below ``target`` at or above it (99.48% is not
    "99.5", a KD deficit of 0.5004 pp not "-0.50")."""
    for places in range(decimals, decimals + 5):
        text = f"{value:{sign}.{places}f}"
        if value >= target - 1e-9 or float(text) < target:
            break
    return text


def _with_interval(row, metric):
    """``+x.xx [low, high]``: the medians over seeds of a difference and of its
    paired bootstrap interval's bounds (no interval where none was measured)."""
    text = f"{row[f'{metric}_pp_median']:+.2f}"
    low, high = row[f"{metric}_low_median"], row[f"{metric}_high_median"]
    return text if pd.isna(low) else f"{text} [{low:+.1f}, {high:+.1f}]"


def format_headline(summary, markdown=False):
    """The headline table as fixed-width text or Markdown."""
    return _render(headline(summary), markdown)


def component_effects(frame):
    """Each component's effect on hpmkd's test accuracy in pp, per dataset over seeds.

    ``hpmkd -X`` rows (X on in the ``hpmkd`` row) give ``hpmkd - row``; ``hpmkd +X``
    rows (X off there) give ``row - hpmkd``: positive always means the component
    helps. Each cell ends with the number of seeds where ``hpmkd`` had X on, and the
    number where flipping it changed the model's predictions at all (test accuracy or
    log-loss): a component that is on but never acts (one member kept, no assistant
    kept) changes nothing.

    Returns
    -------
    DataFrame
        One row per dataset, one "mean [min, max] on k/n, changed j/n" text column per
        component, plus a final "mean" row over datasets; empty without ablation rows.
    """
    base = frame[frame.model == "hpmkd"].set_index(["dataset", "seed"])
    ablated = frame[frame.model.str.match(r"hpmkd [+-]")]
    ablated = ablated[[key in base.index for key in zip(ablated.dataset, ablated.seed)]]
    if ablated.empty:
        return pd.DataFrame()
    effects = []
    for row in ablated.itertuples():
        was_on = row.model.startswith("hpmkd -")
        reference = base.loc[(row.dataset, row.seed)]
        effects.append({"dataset": row.dataset, "component": row.model[7:],
                        "on": was_on, "pp": 100 * (-1.0 if was_on else 1.0)
                        * (row.accuracy - reference.accuracy) + 0.0,  # no "-0.00"
                        "changed": not np.isclose(row.log_loss, reference.log_loss,
                                                  rtol=0, atol=1e-12)
                        or row.accuracy != reference.accuracy})
    effects = pd.DataFrame(effects)
    stats = effects.groupby(["dataset", "component"], sort=False).agg(
        mean=("pp", "mean"), min=("pp", "min"), max=("pp", "max"), on=("on", "sum"),
        changed=("changed", "sum"), n=("on", "size"))
    cells = stats.apply(lambda s: f"{s['mean']:+.2f} [{s['min']:+.2f}, {s['max']:+.2f}] "
                                  f"on {s['on']:.0f}/{s['n']:.0f}, "
                                  f"changed {s['changed']:.0f}/{s['n']:.0f}",
                        axis=1).unstack("component")
    means = stats["mean"].unstack("component").mean()
    cells = cells.fillna("-")  # a component not run on a dataset
    cells.loc["mean"] = [f"{means[c]:+.2f}" for c in cells.columns]
    return cells.reset_index()


def format_component_effects(frame, markdown=False):
    """The component effects as fixed-width text or Markdown ("" without ablations)."""
    return _render(component_effects(frame), markdown)


#: Target of the configuration manager: within this many pp of the grid's best.
GRID_TOLERANCE_PP = 0.3


def grid_comparison(frame):
    """Per dataset, ``hpmkd`` (``config="auto"``) against the manual grid's best.

    Accuracies are means over seeds; the grid's best is the configuration with the
    highest mean test accuracy (every one of them where several tie), chosen with
    hindsight (an upper bound for any method that picks without the test rows).
    Where the rows have ``valid_log_loss``, the grid is also judged as a user's grid
    search would be: in each seed, the cell with the lowest validation log-loss.

    Returns
    -------
    DataFrame
        One row per dataset with grid rows; empty without them.
    """
    accuracy = frame.groupby(["dataset", "model"], sort=False).accuracy.mean()
    chosen = grid_chosen_on_validation(frame)
    rows = []
    for dataset in frame.dataset.unique():
        models = accuracy[dataset]
        grid = models[models.index.str.startswith("grid ")]
        if grid.empty or "hpmkd" not in models:
            continue
        gap = 100 * (models["hpmkd"] - grid.max())
        ties = sorted(grid.index[np.isclose(grid, grid.max(), rtol=0, atol=1e-9)])
        rows.append({
            "dataset": dataset, "auto": f"{models['hpmkd']:.4f}",
            "grid best": f"{grid.max():.4f} ({', '.join(best[5:] for best in ties)})",
            "grid T=4 a=0.5": f"{grid.get('grid T=4 a=0.5', np.nan):.4f}",
            "grid median": f"{grid.median():.4f}",
            "auto - best pp": f"{gap:+.2f}",
            f"within {GRID_TOLERANCE_PP} pp": ("yes" if gap >= -GRID_TOLERANCE_PP
                                               else "no")})
        if dataset in chosen:
            rows[-1].update({
                "grid chosen on validation": f"{chosen[dataset]:.4f}",
                "auto - chosen pp": f"{100 * (models['hpmkd'] - chosen[dataset]):+.2f}"})
    return pd.DataFrame(rows)


def grid_chosen_on_validation(frame):
    """Per dataset, the mean over seeds of the test accuracy of the grid cell with the
    lowest validation log-loss in each seed (a Series; empty without grid rows that
    have one)."""
    if "valid_log_loss" not in frame:
        return pd.Series(dtype=float)
    grid = frame[frame.model.str.startswith("grid ") & frame.valid_log_loss.notna()]
    if grid.empty:
        return pd.Series(dtype=float)
    picks = grid.loc[
        grid.groupby(["dataset", "seed"], sort=False).valid_log_loss.idxmin()]
    return picks.groupby("dataset", sort=False).accuracy.mean()


#: Targets read per split in :func:`split_robustness` (BENCHMARKS.md).
RETENTION_TARGET, GAP_TARGET, KD_TOLERANCE_PP = 0.995, 0.75, 0.5


def split_robustness(frame):
    """Per dataset run on several train/test splits, ``hpmkd`` against the targets on
    each split (medians over its seeds, as the protocol reads one split).

    The protocol fixes one split, so a target missed by a row or two of a small test
    set may say more about that split than about the student; these columns show how
    often each target holds on other splits of the same data.

    Returns
    -------
    DataFrame
        One row per dataset with more than one split ("mean [min, max]" cells and
        "k/n" counts of splits meeting a target); empty without such datasets.
    """
    per_seed = frame[frame.model == "hpmkd"].set_index(["dataset", "seed"])
    if per_seed.empty:
        return pd.DataFrame()
    for reference in ("kd", "teacher average"):
        accuracy = frame[frame.model == reference].set_index(["dataset", "seed"]).accuracy
        per_seed[f"vs {reference}"] = 100 * (per_seed.accuracy - accuracy.reindex(
            per_seed.index))
    per_split = per_seed.groupby("dataset", sort=False)[
        ["retention", "retention_oof", "gap_closed", "vs_best_teacher_pp",
         "vs_best_teacher_high", "vs kd", "vs teacher average"]].median()
    per_split["base"] = [base_dataset(name) for name in per_split.index]
    rows = []
    for base, splits in per_split.groupby("base", sort=False):
        if len(splits) < 2:
            continue
        gaps = splits.gap_closed.dropna()
        rows.append({
            "dataset": base, "splits": len(splits),
            "retention %": _spread(100 * splits.retention, "{:.1f}"),
            f"retention >= {100 * RETENTION_TARGET:g}%":
                f"{(splits.retention >= RETENTION_TARGET).sum()}/{len(splits)}",
            "vs oof-chosen teacher %": _spread(100 * splits.retention_oof, "{:.1f}"),
            f"that >= {100 * RETENTION_TARGET:g}%":
                f"{(splits.retention_oof >= RETENTION_TARGET).sum()}/{len(splits)}",
            "gap closed %": _spread(100 * gaps, "{:.0f}") if len(gaps) else "-",
            f"gap closed >= {100 * GAP_TARGET:g}%":
                f"{(gaps >= GAP_TARGET).sum()}/{len(gaps)}" if len(gaps) else "-",
            "hpmkd-best teacher pp": _spread(splits.vs_best_teacher_pp, "{:+.2f}"),
            # as the headline reads an interval: the median of its upper bounds
            "below it beyond noise":
                f"{(splits.vs_best_teacher_high < 0).sum()}/{len(splits)}",
            "hpmkd-teacher average pp": _spread(splits["vs teacher average"], "{:+.2f}"),
            "hpmkd-kd pp": _spread(splits["vs kd"], "{:+.2f}"),
            f"hpmkd >= kd - {KD_TOLERANCE_PP} pp":
                f"{(splits['vs kd'] >= -KD_TOLERANCE_PP - 1e-9).sum()}/{len(splits)}"})
    return pd.DataFrame(rows)


def _spread(values, fmt):
    """``mean [min, max]`` of the values in the format."""
    return (f"{fmt.format(values.mean())} [{fmt.format(values.min())}, "
            f"{fmt.format(values.max())}]")


def format_split_robustness(frame, markdown=False):
    """The split robustness table as fixed-width text or Markdown ("" without
    datasets on several splits)."""
    return _render(split_robustness(frame), markdown)


def format_grid_comparison(frame, markdown=False):
    """The grid comparison as fixed-width text or Markdown ("" without grid rows)."""
    return _render(grid_comparison(frame), markdown)


def _render(table, markdown):
    """A DataFrame as fixed-width text or a Markdown table ("" when empty)."""
    if table.empty:
        return ""
    if not markdown:
        return table.to_string(index=False)
    lines = ["| " + " | ".join(table.columns) + " |",
             "|" + "|".join("---" for _ in table.columns) + "|"]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |"
                              for row in table.itertuples(index=False)])
