"""Write docs/api.md, the API reference, from the public names' docstrings.

Every name in ``skhpmkd.__all__`` gets its signature and docstring; a class also gets
the public methods and properties it defines itself (not those it inherits from
scikit-learn or skorch). The test suite checks that docs/api.md is what this script
writes, so the reference cannot drift from the code.

    python tools/build_api_reference.py
"""

import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import skhpmkd  # noqa: E402

OUTPUT = ROOT / "docs" / "api.md"
HEADER = """# skhpmkd API reference

Generated from the docstrings by `python tools/build_api_reference.py` (the test
suite checks it is current). The user guide (docs/user_guide.md) explains how the
pieces work together.
"""


def _signature(obj):
    """``(...)`` of a callable without ``self``/``cls``, defaults that are classes or
    functions by name (no memory addresses, no module paths that vary between library
    versions); an empty string where it has none."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return ""
    parameters = [parameter for parameter in signature.parameters.values()
                  if parameter.name not in ("self", "cls")]
    parameters = [parameter.replace(default=_Named(parameter.default))
                  if _by_name(parameter.default) else parameter
                  for parameter in parameters]
    return str(signature.replace(parameters=parameters))


def _by_name(default):
    """Whether a default is shown by its name: a class or a function."""
    return default is not inspect.Parameter.empty and (
        inspect.isclass(default) or inspect.isfunction(default))


class _Named:
    """A default value shown by its name."""

    def __init__(self, value):
        self.name = value.__name__

    def __repr__(self):
        return self.name


def _documented(name, obj, level):
    """A heading, the signature and the docstring of ``obj`` as Markdown."""
    kind = "property" if isinstance(obj, property) else ""
    signature = "" if kind else _signature(obj)
    doc = inspect.getdoc(obj) or "(no docstring)"
    heading = f"{'#' * level} `{name}{signature}`" + (" (property)" if kind else "")
    return f"{heading}\n\n```text\n{doc}\n```\n"


def _own_members(cls):
    """Public methods and properties that ``cls`` defines itself, in source order."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, (classmethod, staticmethod)):
            member = member.__func__
        if inspect.isfunction(member) or isinstance(member, property):
            yield name, member


def render():
    """The whole reference, as docs/api.md holds it."""
    parts = [HEADER]
    for name in skhpmkd.__all__:
        obj = getattr(skhpmkd, name)
        if not callable(obj):
            continue
        parts.append(_documented(name, obj, 2))
        if inspect.isclass(obj):
            parts.extend(_documented(f"{name}.{member_name}", member, 3)
                         for member_name, member in _own_members(obj))
    return "\n".join(parts)


if __name__ == "__main__":
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
