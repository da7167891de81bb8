"""The installed CDK packages are whole: aws-cdk-lib's copy of a module it shares with a
dependency is the one on disk.

aws-cdk-lib and its dependency aws-cdk.cloud-assembly-schema both ship
``aws_cdk/cloud_assembly_schema/__init__.py``; the last installed wins. pip installs a
dependency before what needs it, so aws-cdk-lib's copy wins; an installer that does not keep
that order (uv 0.13.8 did not, measured in bench/setup-cost.md) leaves the dependency's copy,
whose jsii types are named ``@aws-cdk/cloud-assembly-schema.*`` instead of
``aws-cdk-lib.cloud_assembly_schema.*``, and every API returning one of them fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
from aws_cdk.assertions import Annotations, Match

#: What aws-cdk-lib's copy declares, and what jsii asks for when it returns metadata entries.
LIB_TYPE = 'jsii_type="aws-cdk-lib.cloud_assembly_schema.MetadataEntry"'

PROBE = (
    "import aws_cdk.cloud_assembly_schema as m, pathlib;"
    f"print({LIB_TYPE!r} in pathlib.Path(m.__file__).read_text())"
)


def aws_cdk_lib_owns_the_shared_module(
    python: Path | str, env: dict[str, str] | None = None
) -> bool:
    """Whether the environment of ``python`` has aws-cdk-lib's copy of the shared module."""
    result = subprocess.run(
        [str(python), "-c", PROBE], capture_output=True, text=True, check=True, env=env
    )
    return result.stdout.strip() == "True"


def test_the_shared_module_is_aws_cdk_libs_copy() -> None:
    # GIVEN this project's environment WHEN the shared module is read THEN it is the library's
    assert aws_cdk_lib_owns_the_shared_module(sys.executable)


def test_metadata_entries_come_back_through_jsii() -> None:
    # GIVEN a stack with a warning WHEN the assertions read it back (a MetadataEntry per
    # warning) THEN jsii knows the type (with the other copy: "Unknown interface")
    stack = cdk.Stack(cdk.App(), "Probe")
    cdk.Annotations.of(stack).add_warning_v2("probe:warning", "a warning")
    found = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("a warn"))
    assert len(found) == 1


def test_fails_if_the_dependencys_copy_is_installed(tmp_path: Path) -> None:
    # GIVEN an environment where the dependency's copy won (as uv left it)
    module = tmp_path / "aws_cdk" / "cloud_assembly_schema"
    module.mkdir(parents=True)
    (tmp_path / "aws_cdk" / "__init__.py").write_text("")
    (module / "__init__.py").write_text(
        '# jsii_type="@aws-cdk/cloud-assembly-schema.MetadataEntry"\n'
    )
    # WHEN checked THEN the check says so
    assert not aws_cdk_lib_owns_the_shared_module(sys.executable, {"PYTHONPATH": str(tmp_path)})
