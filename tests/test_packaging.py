"""The library installs with pip and is usable from another project's stack."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

CONSUMER = """
import aws_cdk as cdk
import constructs_lib
from constructs_lib import SeedAudienceBucket, add_compliance_checks

assert constructs_lib.__file__.startswith({site!r}), constructs_lib.__file__
app = cdk.App(outdir={out!r})
stack = cdk.Stack(app, "Consumer")
SeedAudienceBucket(stack, "Seeds")
add_compliance_checks(app)
app.synth()
print("ok")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    [built] = list(dist.glob("*.whl"))
    return built


def test_wheel_ships_the_package_and_its_type_marker(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "constructs_lib/py.typed" in names
    assert "constructs_lib/__init__.py" in names
    assert not [n for n in names if n.startswith(("tests/", "app.py", "bench/"))]
    metadata = next(n for n in names if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Requires-Dist: aws-cdk-lib" in text
    assert "Requires-Dist: cdk-nag" in text


def test_installed_package_builds_a_consumer_stack(wheel: Path, tmp_path: Path) -> None:
    # GIVEN the wheel installed into a separate site directory
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    # WHEN another project imports it (from outside this repository) and synthesizes
    script = CONSUMER.format(site=str(site), out=str(tmp_path / "out"))
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={
            "PYTHONPATH": str(site),
            "PATH": str(ROOT / "node_modules" / ".bin") + ":/usr/bin:/bin",
            "HOME": str(tmp_path),
        },
        check=False,
    )
    # THEN it works from the installed copy
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
