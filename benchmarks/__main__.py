"""Command line: ``python -m benchmarks [--quick] [--datasets ...] [--seeds N] ...``."""

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from .datasets import DATASETS, HOLDOUT_DATASETS, SMALL_DATASETS
from .models import (
    ABLATION_COMPONENTS,
    SEARCH_COMPONENTS,
    ablation_params,
    is_ablated,
    student_rows,
)
from .runner import machine_description, run
from .speed import format_speed, speed_figures
from .weighted import format_weighted, weighted_figures
from .tables import (
    DERIVED,
    add_derived_columns,
    format_component_effects,
    format_grid_comparison,
    format_headline,
    format_markdown,
    format_split_robustness,
    format_text,
    summarise,
)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="skhpmkd benchmark: teachers, plain MLP, vanilla KD and HPM-KD on "
                    "real tabular data (offline).")
    parser.add_argument("--datasets", nargs="+",
                        choices=[*DATASETS, *HOLDOUT_DATASETS],
                        help="datasets to run (default: all eight; with --quick the "
                             "four small ones; with --holdout the real datasets "
                             "outside the suite)")
    parser.add_argument("--holdout", action="store_true",
                        help="run every held-out real dataset (the batches listed in "
                             "docs/benchmarks.md), which nothing was tuned on")
    parser.add_argument("--seeds", type=int, default=None,
                        help="number of seeds of the models' randomness (default 3; "
                             "1 with --quick)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="run seeds K to K+N-1 instead of 0 to N-1 (to add seeds "
                             "to an earlier run; combine them through --from-csv)")
    parser.add_argument("--splits", type=int, default=1,
                        help="run each dataset on N stratified 75/25 splits "
                             "(random_state 0 to N-1; 0 is the protocol's, the others' "
                             "rows are named dataset@splitK) and report how often "
                             "hpmkd meets the targets across them")
    parser.add_argument("--quick", action="store_true",
                        help="small datasets, 1 seed: a few minutes")
    parser.add_argument("--ablate", nargs="*", default=None, metavar="COMPONENT",
                        help="also run HPM-KD with each component flipped (switched "
                             "off where it is on, on where it is off); with names, "
                             "only those, e.g. --ablate chain members")
    parser.add_argument("--grid", action="store_true",
                        help="also run the manual grid temperature {1,2,4,8} x alpha "
                             "{0.1,0.5,0.9} and compare config='auto' with its best")
    parser.add_argument("--speed", action="store_true",
                        help="only the parallel and memory figures: teacher stage at "
                             "n_jobs=1 vs 2, and a cold fit vs one with the memory warm "
                             "(default dataset: adult)")
    parser.add_argument("--weighted", action="store_true",
                        help="only the sample-weight figures: HPM-KD fitted without "
                             "weights and with class-balanced ones, student and "
                             "teachers scored by balanced accuracy (default datasets: "
                             "german_credit, wa_churn)")
    parser.add_argument("--models", nargs="+", default=None,
                        help="run only these student rows, e.g. hpmkd 'hpmkd -config' "
                             "(teachers are always fitted; grid rows need --grid, a "
                             "search component's rows --ablate naming it; combine with "
                             "an earlier run through --from-csv)")
    parser.add_argument("--from-csv", nargs="+", type=Path, default=None,
                        help="run nothing: summarise rows saved by earlier runs (--out "
                             "CSVs; for a (dataset, seed, model) in several, the last "
                             "file wins)")
    parser.add_argument("--no-deepbridge", action="store_true",
                        help="skip DeepBridge even when it is installed")
    parser.add_argument("--deepbridge-only", action="store_true",
                        help="run only DeepBridge's HPM-KD (to compare with a table "
                             "made earlier)")
    parser.add_argument("--out", type=Path, default=None,
                        help="write raw rows to this CSV, and the summary and machine "
                             "to the same name with .json and .md")
    args = parser.parse_args(argv)
    if args.splits < 1:
        parser.error(f"--splits must be 1 or more, got {args.splits}")
    if args.seeds is not None and args.seeds < 1:
        parser.error(f"--seeds must be 1 or more, got {args.seeds}")
    known = student_rows()
    unknown = [name for name in args.models or () if name not in known]
    if unknown:
        parser.error(f"--models: unknown rows {unknown}; known: {known}")
    not_run = _rows_needing_options(args)
    if not_run and not args.from_csv:
        parser.error(f"--models: {not_run} run only with --grid (grid rows) or with "
                     "--ablate naming their component (search rows); add it")
    if args.out is not None:
        check_out(parser, args.out)
    if args.first_seed < 0:
        parser.error(f"--first-seed must be 0 or more, got {args.first_seed}")
    unknown = sorted(set(args.ablate or ()) - set(ABLATION_COMPONENTS))
    if unknown:
        parser.error(f"--ablate: unknown components {unknown}; known: "
                     f"{sorted(ABLATION_COMPONENTS)}")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.speed:
        return figures_main(args, "speed", speed_figures, format_speed, ["adult"])
    if args.weighted:
        return figures_main(args, "weighted", weighted_figures, format_weighted,
                            ["german_credit", "wa_churn"])
    datasets = args.datasets or list(SMALL_DATASETS if args.quick else
                                     HOLDOUT_DATASETS if args.holdout else DATASETS)
    n_seeds = args.seeds or (1 if args.quick else 3)
    start = time.perf_counter()
    if args.from_csv:
        rows = saved_rows(args.from_csv)
        datasets = list(dict.fromkeys(row["dataset"] for row in rows))
        n_seeds = len({row["seed"] for row in rows})
    else:
        rows = run(datasets, range(args.first_seed, args.first_seed + n_seeds),
                   split_seeds=range(args.splits), ablate=_ablated(args.ablate),
                   grid=args.grid,
                   deepbridge=not args.no_deepbridge,
                   deepbridge_only=args.deepbridge_only, models=args.models,
                   log=lambda message: print(f"[bench] {message}", flush=True),
                   on_progress=None if args.out is None else partial_writer(args.out))
    frame = add_derived_columns(rows)
    summary = summarise(frame)
    machine = machine_description()
    print()
    print(format_text(summary))
    print("\n== headline (medians over seeds)")
    print(format_headline(summary))
    if args.ablate is not None or frame.model.str.match(r"hpmkd [+-]").any():
        print("\n== component effects on hpmkd accuracy, pp (mean [min, max] over seeds)")
        print(format_component_effects(frame))
    if args.grid or frame.model.str.startswith("grid ").any():
        print("\n== config='auto' against the manual grid (mean test accuracy over "
              "seeds)")
        print(format_grid_comparison(frame))
    split_table = format_split_robustness(frame)
    if split_table:
        print("\n== hpmkd against the targets on each train/test split (medians over "
              "seeds per split; mean [min, max] over splits)")
        print(split_table)
    print(f"\n{len(datasets)} datasets x {n_seeds} seeds in "
          f"{time.perf_counter() - start:.0f} s on {machine['cpu_count']} CPU cores; "
          "latency on preprocessed rows (preprocessing is the same for every model).")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out, index=False)
        header = {"date": date.today().isoformat(), "command": " ".join(sys.argv),
                  "machine": machine}
        args.out.with_suffix(".json").write_text(json.dumps(
            {**header, "summary": summary.to_dict(orient="records")},
            indent=1, default=str))
        args.out.with_suffix(".md").write_text(
            format_headline(summary, markdown=True) + "\n\n"
            + format_component_effects(frame, markdown=True) + "\n\n"
            + format_grid_comparison(frame, markdown=True) + "\n\n"
            + format_split_robustness(frame, markdown=True) + "\n\n"
            + format_markdown(summary) + "\n")
        print(f"wrote {args.out}, {args.out.with_suffix('.json')}, "
              f"{args.out.with_suffix('.md')}")
    return summary


def check_out(parser, out):
    """Stop with a usage error, before anything is fitted, where ``--out`` names a
    .json or .md file (written beside the CSV) or a place that cannot be written."""
    if out.suffix in (".json", ".md"):
        parser.error(f"--out names the CSV of raw rows; {out.suffix} is written "
                     f"beside it (--out {out.with_suffix('.csv')})")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out.parent):
            pass
    except OSError as error:
        parser.error(f"--out {out}: cannot write there ({error})")


def _rows_needing_options(args):
    """Rows ``--models`` names that the run's options would leave out: grid rows
    without ``--grid``, ablations of a search component that ``--ablate`` leaves
    out (they would be skipped without a word)."""
    ablate = _ablated(args.ablate)
    search_rows = ablation_params(SEARCH_COMPONENTS)
    return [name for name in args.models or ()
            if name.startswith("grid ") and not args.grid
            or name in search_rows and not is_ablated(name, ablate)]


def _ablated(names):
    """``--ablate``'s value for the runner: False when not given, True alone (every
    component), else the set of component names."""
    return False if names is None else True if not names else frozenset(names)


def partial_writer(out):
    """Saves the rows so far to ``<out>.partial.csv`` (a long run keeps what it did)."""
    import pandas as pd

    def write(rows):
        out.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_csv(out.with_suffix(".partial.csv"), index=False)

    return write


def saved_rows(paths):
    """Rows of earlier runs' CSVs; a later file's (dataset, seed, model) replaces it."""
    import pandas as pd

    frame = pd.concat([pd.read_csv(path, keep_default_na=False, na_values=[""])
                       for path in paths], ignore_index=True)
    first_seen = {}
    for position, key in enumerate(zip(frame.dataset, frame.model)):
        first_seen.setdefault(key, position)
    frame = frame.drop_duplicates(["dataset", "seed", "model"], keep="last")
    # keep the run order (teachers first), which the tables rely on
    order = sorted(range(len(frame)), key=lambda i: first_seen[
        (frame.dataset.iloc[i], frame.model.iloc[i])])
    frame = frame.iloc[order]
    return frame[[c for c in frame.columns if c not in DERIVED]].to_dict("records")


def figures_main(args, kind, figures, format_figures, default_datasets):
    """Print (and with --out, write as JSON under ``kind``) the ``figures(name, seed,
    log)`` of each dataset (``--speed``: the parallel and warm-memory figures;
    ``--weighted``: the sample-weight figures)."""
    datasets = args.datasets or default_datasets
    results = []
    for name in datasets:
        print(f"[bench] {name}: {kind} figures", flush=True)
        results.append(figures(name, seed=0,
                               log=lambda m: print(f"[bench]   {m}", flush=True)))
    for result in results:
        print(format_figures(result))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(json.dumps(
            {"date": date.today().isoformat(), "command": " ".join(sys.argv),
             "machine": machine_description(), kind: results}, indent=1))
    return results


if __name__ == "__main__":
    main()
