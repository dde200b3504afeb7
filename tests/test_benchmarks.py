"""The benchmark suite: derived columns on hand-made rows, and one real run end to end."""

import json
import re

import numpy as np
import pytest

from benchmarks.tables import add_derived_columns, format_markdown, format_text, summarise


def row(model, kind, accuracy, nbytes, seed=0, dataset="toy"):
    return {"dataset": dataset, "seed": seed, "model": model, "kind": kind,
            "accuracy": accuracy, "balanced_accuracy": accuracy, "log_loss": 0.1,
            "fit_seconds": 1.0, "latency_10k_ms": 1.0, "latency_1_ms": 0.1,
            "nbytes": nbytes, "n_params": None if kind == "teacher" else 10,
            "n_nodes": 5 if kind == "teacher" else None, "note": ""}


def test_derived_columns():
    rows = [row("xgb", "teacher", 0.90, 400), row("rf", "teacher", 0.80, 600),
            row("teacher average", "teacher", 0.85, 1000),
            row("mlp", "student", 0.70, 10), row("hpmkd", "student", 0.85, 20)]
    frame = add_derived_columns(rows).set_index("model")
    assert frame.loc["hpmkd", "retention"] == pytest.approx(0.85 / 0.90)
    assert frame.loc["hpmkd", "gap_closed"] == pytest.approx(0.75)
    assert frame.loc["mlp", "gap_closed"] == pytest.approx(0.0)
    assert frame.loc["hpmkd", "compression"] == pytest.approx(50.0)
    assert frame.loc["hpmkd", "vs_best_teacher_pp"] == pytest.approx(-5.0)
    assert np.isnan(frame.loc["hpmkd", "retention_oof"])  # no teacher chosen out-of-fold
    rows[-1]["oof_best_teacher"] = "rf"
    frame = add_derived_columns(rows).set_index("model")
    assert frame.loc["hpmkd", "retention_oof"] == pytest.approx(0.85 / 0.80)
    assert np.isnan(frame.loc["mlp", "retention_oof"])


def test_headline_row_per_dataset():
    from benchmarks.tables import headline

    rows = [row("xgb", "teacher", 0.90, 400), row("rf", "teacher", 0.80, 600),
            row("teacher average", "teacher", 0.85, 1000),
            row("mlp", "student", 0.70, 10), row("kd", "student", 0.80, 10),
            row("hpmkd", "student", 0.85, 20)]
    table = headline(summarise(add_derived_columns(rows))).iloc[0]
    assert table["best teacher"] == "0.9000 (xgb)"
    assert table["gap closed %"] == "75" and table["hpmkd-kd pp"] == "+5.00"
    assert table["compr. x"] == "50.0"
    assert table["hpmkd-best teacher pp (95%)"] == "-5.00"  # no interval measured
    rows[-1].update(vs_best_teacher_low=-9.04, vs_best_teacher_high=-0.96)
    table = headline(summarise(add_derived_columns(rows))).iloc[0]
    assert table["hpmkd-best teacher pp (95%)"] == "-5.00 [-9.0, -1.0]"


def test_headline_shows_a_near_miss_as_a_miss():
    """Rounding never lifts a value short of its target onto it: retention 99.48% is
    not "99.5", a deficit of 0.5004 pp against kd not "-0.50", a gap closed 74.6%
    not "75"; values that meet a target keep the usual decimals."""
    from benchmarks.tables import against, headline

    rows = [row("xgb", "teacher", 0.6368, 400), row("rf", "teacher", 0.60, 600),
            row("teacher average", "teacher", 0.62, 1000),
            row("mlp", "student", 0.5887, 10), row("kd", "student", 0.6385, 10),
            row("hpmkd", "student", 0.6335, 20)]
    table = headline(summarise(add_derived_columns(rows))).iloc[0]
    assert table["retention %"] == "99.48" and table["hpmkd-kd pp"] == "-0.50"
    assert against(-0.50036, -0.5, 2, "+") == "-0.5004"
    assert against(-0.5, -0.5, 2, "+") == "-0.50"
    assert against(-0.50000000001, -0.5, 2, "+") == "-0.50"  # float noise: met
    assert against(74.6, 75, 0) == "74.6" and against(75.4, 75, 0) == "75"
    assert against(99.96, 99.5, 1) == "100.0"


def test_paired_interval_covers_the_difference_and_narrows_with_agreement():
    from benchmarks.measure import paired_interval_pp

    rng = np.random.RandomState(0)
    reference = rng.rand(400) < 0.7
    same = paired_interval_pp(reference, reference)
    assert same == (0.0, 0.0)
    flipped = reference.copy()
    flipped[np.flatnonzero(~reference)[:20]] = True  # right on 20 more rows: +5 pp
    low, high = paired_interval_pp(flipped, reference)
    assert 0 < low < 5 < high < 10
    # the same +5 pp from 100 rows gained and 80 lost is far less certain
    mixed = reference.copy()
    mixed[np.flatnonzero(~reference)[:100]] = True
    mixed[np.flatnonzero(reference)[:80]] = False
    wide_low, wide_high = paired_interval_pp(mixed, reference)
    assert wide_low < 0 < 5 < wide_high and wide_high - wide_low > 2 * (high - low)
    # the bootstrap of the pairs, done row by row, agrees
    index = rng.randint(0, 400, size=(4000, 400))
    direct = 100 * (mixed[index].mean(1) - reference[index].mean(1))
    assert np.percentile(direct, 2.5) == pytest.approx(wide_low, abs=0.5)
    assert np.percentile(direct, 97.5) == pytest.approx(wide_high, abs=0.5)


def test_component_effects_sign_means_helps():
    from benchmarks.tables import component_effects

    rows = []
    for seed, (base, minus, plus) in enumerate([(0.80, 0.78, 0.79), (0.82, 0.80, 0.83)]):
        rows += [row("xgb", "teacher", 0.9, 400, seed),
                 row("teacher average", "teacher", 0.9, 400, seed),
                 row("mlp", "student", 0.7, 10, seed),
                 row("hpmkd", "student", base, 10, seed),
                 row("hpmkd -embedding", "student", minus, 10, seed),
                 row("hpmkd +chain", "student", plus, 10, seed),
                 # on by default, but the same model on seed 0 (e.g. one member kept)
                 {**row("hpmkd -members", "student", base, 10, seed),
                  "log_loss": 0.1 if seed == 0 else 0.09}]
    table = component_effects(add_derived_columns(rows)).set_index("dataset")
    assert table.loc["toy", "embedding"] == "+2.00 [+2.00, +2.00] on 2/2, changed 2/2"
    assert table.loc["toy", "chain"] == "+0.00 [-1.00, +1.00] on 0/2, changed 2/2"
    assert table.loc["toy", "members"] == "+0.00 [+0.00, +0.00] on 2/2, changed 1/2"
    assert table.loc["mean", "embedding"] == "+2.00"
    # an ablation row without its hpmkd row (a run of --models "hpmkd +cv") is left out
    alone = [row("xgb", "teacher", 0.9, 400, 5), row("hpmkd +cv", "student", 0.8, 10, 5)]
    assert component_effects(add_derived_columns(alone)).empty
    assert component_effects(add_derived_columns(rows + alone)).equals(
        component_effects(add_derived_columns(rows)))


def test_gap_closed_is_undefined_when_the_gap_is_small():
    rows = [row("xgb", "teacher", 0.900, 400),
            row("teacher average", "teacher", 0.9, 400),
            row("mlp", "student", 0.897, 10), row("hpmkd", "student", 0.899, 10)]
    frame = add_derived_columns(rows)
    assert frame.gap_closed.isna().all()


def test_summary_takes_median_and_range_over_seeds():
    rows = []
    for seed, accuracy in enumerate([0.80, 0.90, 0.85]):
        rows += [row("xgb", "teacher", 0.9, 100, seed), row("teacher average", "teacher",
                                                            0.9, 100, seed),
                 row("mlp", "student", accuracy, 10, seed)]
    summary = summarise(add_derived_columns(rows)).set_index("model")
    assert summary.loc["mlp", "accuracy_median"] == pytest.approx(0.85)
    assert summary.loc["mlp", "accuracy_min"] == pytest.approx(0.80)
    text = format_text(summary.reset_index())
    assert "0.8500 [0.8000-0.9000]" in text
    assert "| mlp |" in format_markdown(summary.reset_index())


def test_quick_run_end_to_end(tmp_path, capsys):
    from benchmarks.__main__ import main

    out = tmp_path / "results.csv"
    summary = main(["--quick", "--datasets", "breast_cancer", "--no-deepbridge",
                    "--out", str(out)])
    models = list(summary.model)
    assert models[:4] == ["xgb", "hgb", "rf", "teacher average"]
    assert {"mlp", "kd", "hpmkd"} <= set(models)
    hpmkd = summary.set_index("model").loc["hpmkd"]
    assert 0.85 < hpmkd.accuracy_median <= 1.0
    assert hpmkd.compression_median > 10
    assert np.isfinite(hpmkd.latency_10k_ms_median)
    printed = capsys.readouterr().out
    assert "== breast_cancer" in printed and "retention %" in printed
    payload = json.loads(out.with_suffix(".json").read_text())
    assert payload["machine"]["cpu_count"] >= 1
    markdown = out.with_suffix(".md").read_text()
    assert (markdown.startswith("| dataset | best teacher |")
            and "### breast_cancer" in markdown)
    assert "== headline" in printed


def test_models_option_runs_only_the_named_students_and_progress_is_saved_per_seed():
    from benchmarks.runner import run

    saved = []
    rows = run(["breast_cancer", "penguins"], [0, 1], deepbridge=False, models=["mlp"],
               log=lambda message: None, on_progress=lambda so_far: saved.append(so_far))
    per_seed = ["xgb", "hgb", "rf", "teacher average", "mlp"]
    assert [row["model"] for row in rows] == per_seed * 4
    # the rows so far are handed over after every seed, not only every dataset
    assert [len(so_far) for so_far in saved] == [5, 10, 15, 20]
    assert saved[-1] == rows
    assert [(row["dataset"], row["seed"])
            for row in saved[2][-5:]] == [("penguins", 0)] * 5
    students = [row for row in rows if row["kind"] == "student"]
    assert all(0 < row["valid_log_loss"] < 1 for row in students)
    assert all("valid_log_loss" not in row for row in rows if row["kind"] == "teacher")
    # the plain MLP's one teacher is the benchmark's average (no teacher row of that name)
    assert {row["oof_best_teacher"] for row in students} == {"average"}
    for index, student in enumerate(rows):
        if student["kind"] != "student":
            continue
        best = max(row["accuracy"] for row in rows[index - 4:index - 1])
        difference = 100 * (student["accuracy"] - best)
        assert (student["vs_best_teacher_low"] <= difference
                <= student["vs_best_teacher_high"])
        assert student["vs_best_teacher_low"] < student["vs_best_teacher_high"]
    assert not any("_correct" in row for row in rows)


def test_shipped_valid_loss_is_the_average_of_kept_members_else_the_chosen_chain():
    from types import SimpleNamespace

    from benchmarks.runner import shipped_valid_loss

    member = lambda loss, kept: {"average_loss": loss, "kept": kept}
    step = lambda length, role, loss: {"length": length, "role": role, "valid_loss": loss}
    averaged = SimpleNamespace(members_=[member(0.5, True), member(0.4, True),
                                         member(0.45, False)], chain_=[], chain_length_=0)
    assert shipped_valid_loss(averaged) == 0.4
    chained = SimpleNamespace(members_=[], chain_length_=1, chain_=[
        step(0, "target", 0.5), step(1, "assistant", 0.3), step(1, "target", 0.42),
        step(2, "assistant", 0.3), step(2, "target", 0.41)])
    assert shipped_valid_loss(chained) == 0.42
    unvalidated = SimpleNamespace(members_=[], chain_length_=0, chain_=[
        step(0, "target", float("nan"))])
    assert np.isnan(shipped_valid_loss(unvalidated))


def test_baselines_use_no_hpmkd_component():
    from benchmarks.models import (
        CHOSEN_COMPONENTS, FIXED_COMPONENTS, MANAGER_COMPONENTS, PLAIN,
        SEARCH_COMPONENTS, make_students)

    students = make_students([], average=None, seed=0)
    for name in ("mlp", "kd"):
        params = students[name][0].get_params()
        assert all(params[key] == value for key, value in PLAIN.items()), name
    # every component that PLAIN switches off has its own ablation row (the memory is
    # measured by --speed; the search's settings with --ablate)
    components = {param for table in (CHOSEN_COMPONENTS, FIXED_COMPONENTS,
                                      MANAGER_COMPONENTS, SEARCH_COMPONENTS)
                  for param, _, _ in table.values()}
    assert set(PLAIN) - {"memory"} <= components | {"alpha"}
    assert {"hpmkd -config", "hpmkd -search"} <= set(students)
    assert "hpmkd +cv" not in students
    with_ablation = make_students([], average=None, seed=0, ablate=True)
    assert with_ablation["hpmkd +cv"][0].get_params()["search_folds"] == "auto"


def test_ablation_rows_flip_one_component_at_the_chosen_config():
    from benchmarks.models import (
        CHOSEN_COMPONENTS, FIXED_COMPONENTS, ablations, component_flips)
    from skhpmkd.config import STATIC_DEFAULTS

    chosen = {**STATIC_DEFAULTS, "numeric_embedding": "periodic", "augment": "auto",
              "temperature": 1.0}
    rows = component_flips(chosen)
    assert set(rows) == {"hpmkd +attention", "hpmkd +adaptive_T", "hpmkd -embedding",
                         "hpmkd -augment", "hpmkd +chain", "hpmkd -averaging",
                         "hpmkd +lr_plateau", "hpmkd +stop_objective", "hpmkd -members"}
    for name, (param, on, off) in CHOSEN_COMPONENTS.items():
        (params,) = [p for row, p in rows.items() if row.endswith(name)]
        changed = {key for key in chosen if params["config"][key] != chosen[key]}
        assert changed == {param}
        assert params["config"][param] == (off if chosen[param] != off else on)
    for name, (param, on, off) in FIXED_COMPONENTS.items():
        (params,) = [p for row, p in rows.items() if row.endswith(name)]
        assert params["config"] == chosen and param in params
    oof = ablations(chosen, [], seed=0)["hpmkd -oof"][0]
    assert oof.config == chosen and oof.memory is None


def test_grid_rows_and_the_comparison_with_auto():
    from benchmarks.models import GRID_ALPHAS, GRID_TEMPERATURES, make_students
    from benchmarks.tables import grid_comparison

    students = make_students([], average=None, seed=0, grid=True)
    grid = {name: est for name, (est, _) in students.items() if name.startswith("grid")}
    assert len(grid) == len(GRID_TEMPERATURES) * len(GRID_ALPHAS)
    assert grid["grid T=8 a=0.1"].get_params()["temperature"] == 8.0
    assert all(est.config == "default" and est.memory is None for est in grid.values())

    rows = [row("hpmkd", "student", 0.80, 10, seed) for seed in (0, 1)]
    rows += [row("grid T=1 a=0.1", "student", acc, 10, seed)
             for seed, acc in ((0, 0.83), (1, 0.81))]
    rows += [row("grid T=4 a=0.5", "student", 0.79, 10, seed) for seed in (0, 1)]
    rows += [row("hpmkd", "student", 0.90, 10, 0, dataset="other"),
             row("grid T=8 a=0.5", "student", 0.902, 10, 0, dataset="other"),
             row("grid T=4 a=0.5", "student", 0.902, 10, 0, dataset="other")]
    table = grid_comparison(add_derived_columns(rows)).set_index("dataset")
    assert table.loc["toy", "grid best"] == "0.8200 (T=1 a=0.1)"
    assert table.loc["other", "grid best"] == "0.9020 (T=4 a=0.5, T=8 a=0.5)"
    assert table.loc["toy", "auto - best pp"] == "-2.00"
    assert table.loc["toy", "within 0.3 pp"] == "no"
    assert table.loc["other", "within 0.3 pp"] == "yes"
    assert "grid chosen on validation" not in table

    # judged as a grid search: per seed, the cell with the lowest validation log-loss
    losses = {("toy", "grid T=1 a=0.1", 0): 0.30, ("toy", "grid T=4 a=0.5", 0): 0.20,
              ("toy", "grid T=1 a=0.1", 1): 0.10, ("toy", "grid T=4 a=0.5", 1): 0.20,
              ("other", "grid T=8 a=0.5", 0): 0.50, ("other", "grid T=4 a=0.5", 0): 0.40}
    for each in rows:
        if each["model"].startswith("grid"):
            each["valid_log_loss"] = losses[each["dataset"], each["model"], each["seed"]]
    table = grid_comparison(add_derived_columns(rows)).set_index("dataset")
    assert table.loc["toy", "grid chosen on validation"] == "0.8000"  # 0.79 and 0.81
    assert table.loc["toy", "auto - chosen pp"] == "+0.00"
    assert table.loc["other", "grid chosen on validation"] == "0.9020"
    assert table.loc["other", "auto - chosen pp"] == "-0.20"


def test_speed_figures_are_formatted_as_ratios():
    from benchmarks.speed import format_speed

    fit = lambda seconds, accuracy, source="search", restored=False: {
        "seconds": seconds, "accuracy": accuracy, "config_source": source,
        "restored": restored}
    text = format_speed({"dataset": "toy", "seed": 0, "teachers_n_jobs_1": 30.0,
                         "teachers_n_jobs_2": 16.0, "teachers_one_thread": 32.0,
                         "student_epoch": {"per_row": 1.5, "batched": 1.0,
                                           "identical": True},
                         "cold": fit(60.0, 0.85),
                         "warm memory": fit(30.0, 0.85, restored=True),
                         "warm memory + teacher cache": fit(12.0, 0.852, restored=True),
                         "cold, next seed": fit(50.0, 0.84),
                         "warm memory, next seed": fit(40.0, 0.845, "memory")})
    assert "n_jobs=1 30.0 s (1.88x)" in text and "one thread 32.0 s (2.00x)" in text
    assert "(2.00x faster), accuracy +0.00 pp (search, restored)" in text
    assert "(5.00x faster), accuracy +0.20 pp" in text
    assert ("warm memory, next seed: 40.0 s vs cold, next seed 50.0 s (1.25x faster), "
            "accuracy +0.50 pp (memory)") in text
    assert "1.00 s vs 1.50 s with per-row loading (1.50x faster)" in text


def test_summary_from_saved_csvs_lets_later_files_win(tmp_path, capsys):
    import pandas as pd

    from benchmarks.__main__ import main

    first = [row("xgb", "teacher", 0.9, 400), row("teacher average", "teacher", 0.9, 900),
             row("mlp", "student", 0.8, 10), row("hpmkd", "student", 0.85, 10)]
    second = [row("hpmkd", "student", 0.87, 10),
              row("grid T=4 a=0.5", "student", 0.86, 10)]
    pd.DataFrame(first).to_csv(tmp_path / "a.csv", index=False)
    add_derived = add_derived_columns(second)  # saved with derived columns, as --out does
    add_derived.to_csv(tmp_path / "b.csv", index=False)
    summary = main(["--from-csv", str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    hpmkd = summary.set_index("model").loc["hpmkd"]
    assert hpmkd.accuracy_median == pytest.approx(0.87)
    assert hpmkd.compression_median == pytest.approx(90.0)
    assert "config='auto' against the manual grid" in capsys.readouterr().out


def test_first_seed_shifts_the_seeds_run(monkeypatch):
    import benchmarks.__main__ as cli

    seen = []

    def fake_run(datasets, seeds, **kwargs):
        seen.append(list(seeds))
        return [row("xgb", "teacher", 0.9, 400, seed=s) for s in seeds] + [
            row("hpmkd", "student", 0.85, 10, seed=s) for s in seeds]

    monkeypatch.setattr(cli, "run", fake_run)
    cli.main(["--datasets", "breast_cancer", "--seeds", "2", "--first-seed", "1",
              "--no-deepbridge"])
    cli.main(["--datasets", "breast_cancer", "--seeds", "2", "--no-deepbridge"])
    assert seen == [[1, 2], [0, 1]]
    with pytest.raises(SystemExit):
        cli.parse_args(["--first-seed", "-1"])


def test_ablate_with_names_runs_only_those_components(monkeypatch):
    import benchmarks.__main__ as cli
    from benchmarks.models import ablations, is_ablated, make_students
    from skhpmkd.config import STATIC_DEFAULTS

    seen = []

    def fake_run(datasets, seeds, **kwargs):
        seen.append(kwargs["ablate"])
        return [row("hpmkd", "student", 0.85, 10, seed=s) for s in seeds]

    monkeypatch.setattr(cli, "run", fake_run)
    for argv in ([], ["--ablate"], ["--ablate", "chain", "confirm"]):
        cli.main(["--datasets", "breast_cancer", "--seeds", "1", "--no-deepbridge",
                  *argv])
    assert seen == [False, True, frozenset({"chain", "confirm"})]
    with pytest.raises(SystemExit):
        cli.parse_args(["--ablate", "chian"])
    students = make_students([], average=None, seed=0, ablate=seen[-1])
    assert "hpmkd -confirm" in students and "hpmkd +cv" not in students
    flips = ablations(dict(STATIC_DEFAULTS), [], seed=0)
    assert [name for name in flips if is_ablated(name, seen[-1])] == ["hpmkd +chain"]
    assert all(is_ablated(name, True) and not is_ablated(name, False)
               for name in flips)


def test_config_note_names_members_assistants_and_weak_teachers():
    from types import SimpleNamespace

    from benchmarks.runner import _config_note
    from skhpmkd.config import STATIC_DEFAULTS

    def student(members, assistants):
        return SimpleNamespace(config_=dict(STATIC_DEFAULTS), config_source_="search",
                               n_members_=members, chain_length_=assistants)

    assert _config_note(student(1, 0)) == "T=4 a=0.5 ple (search)"
    assert _config_note(student(3, 0)) == "T=4 a=0.5 ple (search) x3"
    assert _config_note(student(1, 2)) == "T=4 a=0.5 ple (search) chain 2"
    assert _config_note(SimpleNamespace(config_source_="default", n_members_=1)) == ""
    weak = student(1, 0)
    weak.config_["alpha"], weak.teacher_lift_ = 0.9, -0.02
    assert _config_note(weak) == "T=4 a=0.9 ple (search) weak teachers"
    weak.teacher_lift_ = -0.001
    assert _config_note(weak) == "T=4 a=0.9 ple (search)"


def test_splits_rerun_a_dataset_on_other_train_test_splits(monkeypatch):
    import benchmarks.__main__ as cli
    from benchmarks.runner import run, split_dataset
    from benchmarks.tables import base_dataset

    protocol, other = split_dataset("penguins"), split_dataset("penguins", 1)
    assert np.array_equal(protocol[0], split_dataset("penguins", 0)[0])
    assert len(protocol[0]) == len(other[0]) and not np.array_equal(protocol[2], other[2])
    rows = run(["penguins"], [0], split_seeds=[0, 1], deepbridge=False, models=["mlp"],
               log=lambda message: None)
    assert [row["dataset"] for row in rows] == ["penguins"] * 5 + ["penguins@split1"] * 5
    assert {base_dataset(row["dataset"]) for row in rows} == {"penguins"}
    seen = []
    monkeypatch.setattr(cli, "run", lambda datasets, seeds, **kwargs: seen.append(
        list(kwargs["split_seeds"])) or [row("hpmkd", "student", 0.85, 10)])
    cli.main(["--datasets", "penguins", "--seeds", "1", "--splits", "3"])
    assert seen == [[0, 1, 2]]
    with pytest.raises(SystemExit):
        cli.parse_args(["--splits", "0"])


def test_split_robustness_counts_the_splits_meeting_each_target():
    from benchmarks.tables import split_robustness

    rows = []
    # split 0: hpmkd reaches the teacher; split 1: 2 pp below it and 1 pp below kd,
    # where the teacher chosen out-of-fold is the forest (0.88 on the test rows)
    for dataset, hpmkd, kd, chosen in [("toy", 0.90, 0.89, "xgb"),
                                       ("toy@split1", 0.88, 0.89, "rf")]:
        rows += [row("xgb", "teacher", 0.90, 400, dataset=dataset),
                 row("rf", "teacher", 0.88, 400, dataset=dataset),
                 row("teacher average", "teacher", 0.89, 400, dataset=dataset),
                 row("mlp", "student", 0.80, 10, dataset=dataset),
                 row("kd", "student", kd, 10, dataset=dataset),
                 {**row("hpmkd", "student", hpmkd, 10, dataset=dataset),
                  "oof_best_teacher": chosen}]
    rows[-1].update(vs_best_teacher_low=-3.5, vs_best_teacher_high=-0.5)
    rows += [row("xgb", "teacher", 0.9, 400, dataset="alone"),
             row("hpmkd", "student", 0.9, 10, dataset="alone")]
    table = split_robustness(add_derived_columns(rows)).set_index("dataset")
    assert list(table.index) == ["toy"]  # a dataset on one split has no row
    toy = table.loc["toy"]
    assert toy["splits"] == 2 and toy["retention >= 99.5%"] == "1/2"
    assert toy["retention %"] == "98.9 [97.8, 100.0]"
    assert toy["vs oof-chosen teacher %"] == "100.0 [100.0, 100.0]"
    assert toy["that >= 99.5%"] == "2/2"
    assert toy["gap closed >= 75%"] == "2/2" and toy["gap closed %"] == "90 [80, 100]"
    assert toy["hpmkd-best teacher pp"] == "-1.00 [-2.00, +0.00]"
    assert toy["below it beyond noise"] == "1/2"
    assert toy["hpmkd-kd pp"] == "+0.00 [-1.00, +1.00]"
    assert toy["hpmkd >= kd - 0.5 pp"] == "1/2"


def test_weighted_figures_fit_with_and_without_balanced_weights(monkeypatch, data3):
    import benchmarks.weighted as weighted
    from conftest import fast_classifier

    X, y = data3
    keep = np.r_[np.flatnonzero(y != 2), np.flatnonzero(y == 2)[:8]]  # class 2 rare
    X, y = X[keep], y[keep]
    monkeypatch.setattr(weighted, "split_dataset",
                        lambda name: (X[::2], X[1::2], y[::2], y[1::2], 3))
    monkeypatch.setattr(weighted, "HPMKDClassifier",
                        lambda **params: fast_classifier(**params))
    result = weighted.weighted_figures("toy", log=lambda message: None)
    assert result["none"]["teachers"].keys() == {"tree", "lr"}
    assert result["none"]["student"] != result["balanced"]["student"]
    text = weighted.format_weighted(result)
    assert text.startswith("toy (seed 0):") and text.count("retention") == 2


def test_weighted_figures_are_formatted_with_the_best_teacher():
    from benchmarks.weighted import format_weighted

    fit = {"seconds": 12.0, "config": {},
           "student": {"accuracy": 0.75, "balanced_accuracy": 0.70},
           "teachers": {"a": {"accuracy": 0.8, "balanced_accuracy": 0.6},
                        "b": {"accuracy": 0.7, "balanced_accuracy": 0.72}}}
    text = format_weighted({"dataset": "toy", "seed": 0, "none": fit, "balanced": fit})
    assert ("student balanced accuracy 0.7000 (accuracy 0.7500); best teacher b 0.7200 "
            "(0.7000); retention 97.2%; fit 12 s") in text


def test_gap_closed_needs_a_gap_on_at_least_half_the_seeds():
    from benchmarks.tables import headline

    def seed_rows(seed, mlp):
        return [row("xgb", "teacher", 0.80, 400, seed),
                row("teacher average", "teacher", 0.80, 1000, seed),
                row("mlp", "student", mlp, 10, seed), row("kd", "student", 0.8, 10, seed),
                row("hpmkd", "student", 0.79, 20, seed)]

    # a gap on one seed of three (mlp 0.70 there): 90% from that seed alone before
    one = seed_rows(0, 0.81) + seed_rows(1, 0.70) + seed_rows(2, 0.81)
    assert headline(summarise(add_derived_columns(one))).iloc[0]["gap closed %"] == "-"
    two = seed_rows(0, 0.70) + seed_rows(1, 0.70) + seed_rows(2, 0.81)
    assert headline(summarise(add_derived_columns(two))).iloc[0]["gap closed %"] == "90"


def test_the_best_teacher_is_a_teacher_row_wherever_it_is_listed():
    from benchmarks.tables import headline

    rows = [row("deepbridge", "student", 0.95, 10), row("xgb", "teacher", 0.90, 400),
            row("rf", "teacher", 0.80, 600),
            row("teacher average", "teacher", 0.85, 1000),
            row("mlp", "student", 0.70, 10), row("kd", "student", 0.80, 10),
            row("hpmkd", "student", 0.85, 20)]
    assert headline(summarise(add_derived_columns(rows))).iloc[0][
        "best teacher"] == "0.9000 (xgb)"


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "0"], "--seeds must be 1 or more"),
    (["--models", "hpmkd-config"], r"--models: unknown rows \['hpmkd-config'\]"),
    (["--out", "run.json"], "--out names the CSV of raw rows"),
    (["--models", "grid T=4 a=0.9"], r"\['grid T=4 a=0.9'\] run only with --grid"),
    (["--models", "hpmkd +cv", "--ablate", "confirm"], r"\['hpmkd \+cv'\] run only"),
])
def test_bad_options_stop_before_anything_runs(capsys, argv, message):
    import benchmarks.__main__ as cli

    with pytest.raises(SystemExit):
        cli.parse_args(argv)
    assert re.search(message, capsys.readouterr().err)


def test_rows_the_options_run_pass(capsys):
    import benchmarks.__main__ as cli

    assert cli.parse_args(["--models", "grid T=4 a=0.9", "--grid"]).grid
    assert cli.parse_args(["--models", "hpmkd +cv", "--ablate", "cv"]).models
    assert cli.parse_args(["--models", "hpmkd +cv", "--ablate"]).models


def test_an_out_path_that_cannot_be_written_stops_before_anything_runs(tmp_path,
                                                                         capsys):
    import benchmarks.__main__ as cli

    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit):
        cli.parse_args(["--out", str(tmp_path / "file" / "run.csv")])
    assert "cannot write there" in capsys.readouterr().err
    assert cli.parse_args(["--out", str(tmp_path / "new" / "run.csv"),
                           "--models", "hpmkd -config", "grid T=8 a=0.9",
                           "--grid"]).out


def test_the_learned_nothing_probe_splits_its_synthetic_tasks_as_documented():
    from benchmarks.datasets import DATASETS, HOLDOUT_DATASETS
    from benchmarks.probes.learned_nothing import POPULATION, split

    X_train, X_test, y_train, y_test, n_classes = split("syn_wide5000")
    assert X_train.shape == X_test.shape == (200, 5000) and n_classes == 2
    one_cluster, two_clusters = split("syn_wide2000"), split("syn_wide2000_2c")
    for X_train, X_test, *_ in (one_cluster, two_clusters):
        assert (len(X_train), len(X_test), X_train.shape[1]) == (300, 100, 2000)
    assert not np.array_equal(one_cluster[0], two_clusters[0])
    registered = set(DATASETS) | set(HOLDOUT_DATASETS)
    assert [name for name in POPULATION if name not in registered] == [
        "syn_wide5000", "syn_wide2000", "syn_wide2000_2c"]
    assert len(set(POPULATION)) == len(POPULATION) == 36


def test_the_teacher_mixture_probes_populations_are_the_registry_slices_documented():
    from benchmarks.datasets import DATASETS, HOLDOUT_DATASETS
    from benchmarks.probes.teacher_mixture import LINEAR_CONFIRMATION, MIXTURE_POPULATION

    held_out = list(HOLDOUT_DATASETS)[:153]  # as registered when they ran
    assert MIXTURE_POPULATION == tuple(DATASETS) + tuple(held_out[::6])
    assert LINEAR_CONFIRMATION == tuple(
        name for name in held_out[3::6] if name not in ("tv16_trump", "military_branch"))


class _Stop(Exception):
    """Raised by :class:`_RecordedDistiller` once it has its parameters."""


class _RecordedDistiller:
    """Stands in for HPMKDClassifier in a probe: records its parameters, then stops
    the probe before any fit."""

    params = []

    def __init__(self, **params):
        _RecordedDistiller.params.append(params)
        raise _Stop


@pytest.mark.parametrize("module, call", [
    ("learned_nothing", lambda probe: probe.measure("syn_wide5000")),
    ("student_width", lambda probe: probe.compare("penguins", 0)),
    ("teacher_mixture", lambda probe: probe.linear("penguins")),
    ("screening", lambda probe: probe.compare("penguins"))])
def test_probes_of_past_runs_keep_every_column_as_those_runs_did(module, call,
                                                                 monkeypatch):
    """Screening became the default after these runs: their commands must still give
    the student every column to reproduce the documented numbers."""
    import importlib

    probe = importlib.import_module(f"benchmarks.probes.{module}")
    monkeypatch.setattr(probe, "HPMKDClassifier", _RecordedDistiller)
    _RecordedDistiller.params = []
    with pytest.raises(_Stop):
        call(probe)
    assert _RecordedDistiller.params[0]["student_features"] == "all"


def test_the_stacked_weights_are_the_simplex_point_of_lowest_log_loss():
    from benchmarks.probes.teacher_mixture import em_weights

    rng = np.random.default_rng(0)
    label_proba = rng.uniform(0.05, 1.0, size=(200, 3))
    label_proba[:, 1] = np.clip(label_proba[:, 1] + 0.3, None, 1.0)  # teacher 1 best
    weights = em_weights(label_proba)
    assert weights.sum() == pytest.approx(1.0) and weights.argmax() == 1

    def loss(w):
        return -np.log(label_proba @ w).mean()

    for other in ([1 / 3] * 3, [0, 1, 0], [0.2, 0.6, 0.2]):
        assert loss(weights) <= loss(np.array(other)) + 1e-6


def test_the_screening_probe_keeps_the_columns_xgboost_ranks_highest():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from benchmarks.probes.screening import WIDE_POPULATION, screened

    X, y = make_classification(120, 40, n_informative=3, n_redundant=0, shuffle=False,
                               random_state=0)
    model = screened(LogisticRegression(), max_features=5).fit(X, y)
    kept = np.flatnonzero(model[0].get_support())
    assert len(kept) == 5 and set(kept) >= {0, 1, 2}  # the informative columns
    assert model.predict(X).shape == (120,)
    assert len(WIDE_POPULATION) == 6


def test_the_screening_probe_names_its_synthetic_tasks():
    from benchmarks.probes.screening import CONFIRMATION, split

    X_train, X_test, y_train, y_test, n_classes = split("make:300:1500:5:3")
    assert X_train.shape == X_test.shape == (150, 1500) and n_classes == 2
    assert sum(name.startswith("make:") for name in CONFIRMATION) == 4
    *_, y_train, _, n_classes = split("make:900:1200:20:6:3")  # a class count
    assert n_classes == 3 and set(y_train) == {0, 1, 2}


def test_count68_ranks_columns_by_teachers_refitted_without_the_validation_rows():
    import skhpmkd.classifier as classifier_module
    from sklearn.datasets import make_classification
    from sklearn.tree import DecisionTreeClassifier

    from benchmarks.probes.screen_count import ranked_on_training_rows
    from skhpmkd import HPMKDClassifier
    from skhpmkd.screening import column_ranking

    X, y = make_classification(60, 8, n_informative=4, random_state=0)
    teacher = DecisionTreeClassifier(random_state=0).fit(X, y)
    estimator = HPMKDClassifier(validation_fraction=0.25)
    with ranked_on_training_rows():
        train, valid = estimator._validation_split(y, 0)
        ranking = classifier_module.column_ranking([teacher], X, y)
    assert len(valid) == 15 and classifier_module.column_ranking is column_ranking
    refitted = DecisionTreeClassifier(random_state=0).fit(X[train], y[train])
    np.testing.assert_allclose(ranking, column_ranking([refitted], X, y))
    assert not np.allclose(ranking, column_ranking([teacher], X, y))


def test_oof69_averages_out_of_fold_outputs_over_shifted_fold_partitions():
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import LabelEncoder

    from benchmarks.probes.oof_repeats import CONFIRMATION, DEVELOPMENT
    from benchmarks.probes.oof_repeats import repeated_fit_teachers
    from skhpmkd.teachers import fit_teachers

    X, y = make_classification(60, 4, random_state=0)
    teachers = [("lr", LogisticRegression())]
    common = dict(label_encoder=LabelEncoder().fit(y), teacher_cv=3)
    stages = []
    fitted, proba, *_ = repeated_fit_teachers(fit_teachers, 3, stages)(
        teachers, X, y, seeds=np.array([5, 9]), **common)
    each = [fit_teachers(teachers, X, y, seeds=np.array([5 + r, 9 + r]), **common)[1]
            for r in range(3)]
    np.testing.assert_allclose(proba, np.mean(each, axis=0))
    assert not np.allclose(each[0], each[1])  # other folds, other outputs
    assert len(stages) == 1 and stages[0] is proba
    np.testing.assert_allclose(fitted[0].coef_, LogisticRegression().fit(X, y).coef_)
    in_sample = dict(common, teacher_cv="in_sample")
    _, once, *_ = repeated_fit_teachers(fit_teachers, 3, [])(
        teachers, X, y, seeds=np.array([5, 9]), **in_sample)
    np.testing.assert_allclose(once, fit_teachers(teachers, X, y, seeds=np.array([5, 9]),
                                                  **in_sample)[1])
    assert len(DEVELOPMENT) == 13 and len(CONFIRMATION) == 17
    assert not set(DEVELOPMENT) & set(CONFIRMATION)
