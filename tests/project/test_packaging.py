"""The library installs with pip and is usable from another project's stack."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, assert_cfn_lint_clean

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
    # the handler asset, with the service models it validates against
    lambda_dir = ROOT / "lambda"
    shipped = {
        "constructs_lib/_lambda/" + str(p.relative_to(lambda_dir))
        for p in lambda_dir.rglob("*")
        if p.is_file() and p.suffix in (".py", ".json") and "__pycache__" not in p.parts
    }
    assert shipped <= set(names), sorted(shipped - set(names))
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


def test_consumer_example_synthesizes_from_a_fresh_venv(wheel: Path, tmp_path: Path) -> None:
    """examples/consumer, with the library pip-installed into a new virtual environment.

    The library comes from the built wheel; its dependencies (aws-cdk-lib and friends, pinned)
    are made visible from the project's environment through a .pth file, so pip resolves them
    without downloading anything and the test stays offline.
    """
    # GIVEN a fresh virtual environment
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = subprocess.run(
        [sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "project-dependencies.pth").write_text(deps + "\n")
    # WHEN the library is installed with pip (no index: dependencies must already be satisfied)
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    check = subprocess.run(
        [str(python), "-m", "pip", "check"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # AND the consumer app is synthesized with it, from a copy outside this repository
    project = tmp_path / "consumer"
    shutil.copytree(ROOT / "examples" / "consumer", project)
    out = tmp_path / "out"
    env = {
        "PATH": f"{ROOT / 'node_modules' / '.bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CDK_OUTDIR": str(out),
    }
    where = subprocess.run(
        [str(python), "-c", "import constructs_lib; print(constructs_lib.__file__)"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    result = subprocess.run(
        [str(python), "app.py"], cwd=project, capture_output=True, text=True, env=env, check=False
    )
    # THEN the library came from the fresh environment and the stack passed the nag gate
    assert where.startswith(site), where
    assert result.returncode == 0, result.stderr[-3000:]
    template = json.loads((out / "MarketingAudiences.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert "Custom::CleanRoomsMLConfiguredAudienceModel" in types
    assert "AWS::CloudWatch::Dashboard" in types
    report = json.loads((out / "validation-report.json").read_text())
    assert all(not r.get("violations") for r in report["pluginReports"])
    assert_cfn_lint_clean(out)
