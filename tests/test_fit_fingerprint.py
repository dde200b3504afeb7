"""tools/fit_fingerprint.py saves each case's probabilities and reports how far a
later run's are from them."""

import numpy as np
import pytest
from conftest import load_tool


@pytest.fixture(scope="module")
def tool():
    return load_tool("fit_fingerprint")


def test_cases_name_parameters_the_classifier_has(tool):
    from skhpmkd import HPMKDClassifier

    names = HPMKDClassifier().get_params(deep=False)
    for dataset, params in tool.CASES.values():
        assert set(params) <= set(names), dataset


def test_a_rerun_reports_zero_and_a_change_its_size(tool, tmp_path, monkeypatch,
                                                    capsys):
    shift = {"value": 0.0}

    def fake_fingerprint(name):
        proba = np.full((4, 2), 0.5)
        proba[0] += [shift["value"], -shift["value"]]
        return proba

    monkeypatch.setattr(tool, "fingerprint", fake_fingerprint)
    cases = ["glass_default", "penguins_augment_weighted"]
    before, after = tmp_path / "before.npz", tmp_path / "after.npz"
    tool.main(["--out", str(before), "--cases", *cases])
    assert "difference" not in capsys.readouterr().out
    tool.main(["--out", str(after), "--against", str(before), "--cases", *cases])
    assert capsys.readouterr().out.count("max |difference| 0\n") == 2
    shift["value"] = 0.25
    tool.main(["--out", str(after), "--against", str(before), "--cases", cases[0]])
    assert "glass_default" in (out := capsys.readouterr().out)
    assert "max |difference| 0.25" in out
    assert set(np.load(after)) == {cases[0]}


def test_a_changed_shape_is_reported_not_raised(tool, tmp_path, monkeypatch, capsys):
    rows = {"value": 4}
    monkeypatch.setattr(tool, "fingerprint", lambda name: np.full((rows["value"], 2), .5))
    before, after = tmp_path / "before.npz", tmp_path / "after.npz"
    tool.main(["--out", str(before), "--cases", "glass_default"])
    rows["value"] = 5
    tool.main(["--out", str(after), "--against", str(before), "--cases", "glass_default"])
    assert "shape (5, 2) against (4, 2)" in capsys.readouterr().out
