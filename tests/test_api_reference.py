"""docs/api.md is what tools/build_api_reference.py writes from the docstrings."""

import re
from pathlib import Path

from conftest import load_tool

ROOT = Path(__file__).resolve().parents[1]


def _builder():
    return load_tool("build_api_reference")


def test_api_reference_is_current():
    builder = _builder()
    assert (ROOT / "docs" / "api.md").read_text() == builder.render(), (
        "docs/api.md is out of date: run python tools/build_api_reference.py")


def test_api_reference_covers_every_public_name_without_addresses():
    import skhpmkd

    text = _builder().render()
    for name in skhpmkd.__all__:
        if name != "__version__":
            assert f"## `{name}" in text
    assert "HPMKDClassifier.fit(X, y, sample_weight=None)" in text
    assert not re.search(r" at 0x[0-9a-f]+", text)  # no object addresses
