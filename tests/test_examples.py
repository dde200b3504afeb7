"""The quickstart notebook runs from top to bottom and shows what it says."""

import json
from pathlib import Path

import numpy as np

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"


def test_quickstart_notebook_runs(tmp_path, monkeypatch):
    """Every code cell, in order, in one namespace (as a kernel would run them); about
    a minute on 2 cores, the suite's longest test."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")  # plots drawn off-screen
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    namespace = {"__name__": "__main__"}
    for number, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{NOTEBOOK.name}, cell {number}",
                         "exec"), namespace)
    clf, X_test = namespace["clf"], namespace["X_test"]
    assert clf.score(X_test, namespace["y_test"]) > 0.9
    assert namespace["summary"].student["accuracy"] == clf.score(X_test,
                                                                 namespace["y_test"])
    namespace["plt"].close("all")
    assert namespace["again"].restored_
    np.testing.assert_array_equal(namespace["again"].predict_proba(X_test),
                                  clf.predict_proba(X_test))
    np.testing.assert_array_equal(namespace["loaded"].predict_proba(X_test),
                                  clf.predict_proba(X_test))
    assert namespace["search"].best_params_["alpha"] in (0.1, 0.5, 0.9)
    assert not namespace["workdir"].exists()
