"""The library's folders are layers, and each imports only the layers below it.

The rule (docs/architecture.md, "Layers"; each package's ``__init__`` docstring says it in words):

    composition    -> workflows, cleanrooms_ml, bedrock, tracking, foundation, _internal
    workflows      -> cleanrooms_ml, bedrock, tracking, foundation, _internal
    cleanrooms_ml  -> tracking, foundation, _internal
    bedrock        -> tracking, foundation, _internal
    tracking       -> _internal
    foundation     -> _internal
    _internal      -> (nothing of the library)
    cli            -> (nothing of the library: the ``audiences`` command must not load aws_cdk;
                      it loads the handler's input check from the shipped asset by name)

The tracker sits below the objects that start jobs (an audience model waits on it), the
workflows above them. ``lambda/`` (the handler asset) imports nothing from the library.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "constructs_lib"

BELOW: dict[str, frozenset[str]] = {
    "_internal": frozenset(),
    "foundation": frozenset({"_internal"}),
    "tracking": frozenset({"_internal"}),
    "cleanrooms_ml": frozenset({"_internal", "foundation", "tracking"}),
    "bedrock": frozenset({"_internal", "foundation", "tracking"}),
    "workflows": frozenset({"_internal", "foundation", "tracking", "cleanrooms_ml", "bedrock"}),
    "composition": frozenset(
        {"_internal", "foundation", "tracking", "cleanrooms_ml", "bedrock", "workflows"}
    ),
    "cli": frozenset(),
}


def imported_layers(source: str, where: Path) -> dict[str, int]:
    """The library layers a module imports, each with the line of its first import.

    :param source: the module's text.
    :param where: its path below ``constructs_lib/`` (relative imports are resolved from it).
    """
    package = where.parts[:-1]  # e.g. ("tracking", "fragments")
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(source)):
        target: tuple[str, ...] | None = None
        if isinstance(node, ast.ImportFrom):
            module = tuple((node.module or "").split(".")) if node.module else ()
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                if node.level - 1 > len(package):
                    raise AssertionError(f"{where}:{node.lineno} imports above constructs_lib")
                target = (*base, *module)
                if not module:  # from . import x / from .. import x
                    target = (*base, node.names[0].name)
            elif module[:1] == ("constructs_lib",):
                target = module[1:]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "constructs_lib":
                    target = tuple(alias.name.split(".")[1:])
        if target and target[0] in BELOW:
            found.setdefault(target[0], getattr(node, "lineno", 0))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in LIBRARY.rglob("*.py") if p.parent != LIBRARY)


def test_every_package_is_a_known_layer() -> None:
    # GIVEN the library's folders THEN each is one of the layers of the rule
    folders = {p.name for p in LIBRARY.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders == set(BELOW)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(LIBRARY)))
def test_module_imports_only_layers_below_its_own(path: Path) -> None:
    # GIVEN a module of a layer WHEN its imports are read THEN each layer it imports is below
    assert_imports_below(path.read_text(), path.relative_to(LIBRARY))


def assert_imports_below(source: str, where: Path) -> None:
    layer = where.parts[0]
    found = imported_layers(source, where)
    wrong = {other: line for other, line in found.items() if other != layer}
    wrong = {other: line for other, line in wrong.items() if other not in BELOW[layer]}
    assert not wrong, "; ".join(
        f"constructs_lib/{where}:{line} imports {other}, which is not below {layer}"
        for other, line in wrong.items()
    )


def test_handler_asset_imports_nothing_of_the_library() -> None:
    for path in sorted((ROOT / "lambda").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not [n for n in names if n.startswith("constructs_lib")], path


@pytest.mark.parametrize(
    "source",
    [
        "from ..workflows import audience_generation_workflow\n",
        "from ...workflows.audience_generation_workflow import X\n",
        "import constructs_lib.workflows.fragments\n",
        "from constructs_lib.workflows import fragments\n",
    ],
)
def test_fails_if_a_layer_imports_one_above_it(source: str) -> None:
    # GIVEN a tracking module that imports the workflows (an upward import), in any spelling
    where = Path("tracking/fragments/probe.py") if "..." in source else Path("tracking/probe.py")
    # WHEN its imports are read THEN the upward import is found, with its line
    assert imported_layers(source, where) == {"workflows": 1}
    with pytest.raises(AssertionError, match=r"imports workflows, which is not below tracking"):
        assert_imports_below(source, where)


def test_imports_within_a_layer_and_downward_pass() -> None:
    # GIVEN a workflow fragment importing its own layer and the tracker below it
    source = "from .. import props\nfrom ...tracking.job_status import JobStatusTracker\n"
    # THEN both are read and allowed
    where = Path("workflows/fragments/probe.py")
    assert imported_layers(source, where) == {"workflows": 1, "tracking": 2}
    assert_imports_below(source, where)
