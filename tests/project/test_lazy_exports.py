"""`import constructs_lib` is cheap: public names load on first use, and the three lists of them
(the lazy map, the type checkers' imports, ``__all__``) stay one list."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import pytest

import constructs_lib
from tests.conftest import ROOT

INIT = ROOT / "constructs_lib" / "__init__.py"


def _declared_names() -> set[str]:
    """Names annotated without a value (the constants, declared so their docstrings show)."""
    tree = ast.parse(INIT.read_text())
    return {
        node.target.id
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and node.value is None
        if isinstance(node.target, ast.Name)
    }


def _type_checking_imports() -> dict[str, str]:
    """Name -> module of the imports under ``if TYPE_CHECKING:`` in the package's __init__."""
    tree = ast.parse(INIT.read_text())
    [block] = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    names = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom)
        for alias in node.names:
            names[alias.asname or alias.name] = "." * node.level + (node.module or "")
    return names


def test_the_lazy_map_the_typed_imports_and_all_name_the_same_things() -> None:
    # GIVEN the three lists WHEN compared THEN they agree, module for module
    assert sorted(constructs_lib._EXPORTS) == sorted(constructs_lib.__all__)
    typed = _type_checking_imports()
    declared = _declared_names()
    assert not typed.keys() & declared
    assert typed.keys() | declared == constructs_lib._EXPORTS.keys()
    assert all(constructs_lib._EXPORTS[name] == module for name, module in typed.items())


@pytest.mark.parametrize("name", sorted(constructs_lib.__all__))
def test_every_public_name_resolves_to_its_module_attribute(name: str) -> None:
    # GIVEN a public name WHEN read from the package THEN it is the object its module defines
    module = importlib.import_module(constructs_lib._EXPORTS[name], "constructs_lib")
    assert getattr(constructs_lib, name) is getattr(module, name)
    assert name in dir(constructs_lib)


def test_fails_if_a_name_is_not_exported() -> None:
    # GIVEN a name the package does not export WHEN read THEN AttributeError names it
    with pytest.raises(AttributeError, match="has no attribute 'AudienceModels'"):
        _ = constructs_lib.AudienceModels  # type: ignore[attr-defined]


def test_importing_the_package_starts_no_jsii() -> None:
    # GIVEN a fresh interpreter WHEN it imports the package, its version and the stdlib-only
    # modules (the compliance summary, the poll schedule)
    probe = (
        "import sys, constructs_lib\n"
        "from constructs_lib import __version__\n"
        "import constructs_lib.foundation.compliance_summary, constructs_lib.tracking.schedule\n"
        "print(__version__)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'aws_cdk', 'jsii', 'cdk_nag'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    # THEN neither aws_cdk, jsii nor cdk-nag is loaded
    version, loaded = result.stdout.splitlines()
    assert version == constructs_lib.__version__
    assert loaded == "[]"
