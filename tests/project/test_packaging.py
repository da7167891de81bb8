"""The library installs with pip in each way docs/install.md documents, and works installed.

The install blocks of docs/install.md are run exactly as written, each in a fresh virtual
environment. Its dependencies (aws-cdk-lib and friends, at the pinned versions) are made visible
from this project's environment through a ``.pth`` file, so pip finds them satisfied and
downloads nothing but what a build needs (``setuptools`` for the sdist, path and git builds).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import constructs_lib
from tests.conftest import ROOT, assert_cfn_lint_clean
from tests.docs_support import fences
from tests.shell_support import run_bash

INSTALL_DOC = ROOT / "docs" / "install.md"
VERSION = constructs_lib.__version__
WHEEL = ROOT / "dist" / f"cleanrooms_ml_cdk_constructs-{VERSION}-py3-none-any.whl"
SDIST = ROOT / "dist" / f"cleanrooms_ml_cdk_constructs-{VERSION}.tar.gz"
#: The git-URL block's placeholder for the URL a user clones from; the test uses a local clone.
PLACEHOLDER_URL = "https://<host>/<owner>/<repo>.git"

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


def _install_blocks() -> list[str]:
    blocks = [f.code for f in fences(INSTALL_DOC.read_text()) if f.runnable]
    assert len(blocks) == 4, "docs/install.md documents four ways: wheel, sdist, path, git URL"
    return blocks


def _fresh_venv(where: Path) -> tuple[Path, Path]:
    """A new virtual environment that sees this project's pinned dependencies; (bin, site)."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, capture_output=True)
    python = where / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    deps = sysconfig.get_paths()["purelib"]
    (Path(site) / "project-dependencies.pth").write_text(deps + "\n")
    return where / "bin", Path(site)


def _check_command() -> str:
    """docs/install.md's "Check the install" command (one line, not a runnable block)."""
    doc = INSTALL_DOC.read_text()
    section = doc[doc.index("## Check the install") :]
    return fences(section)[0].code.strip()


def _run_block(block: str, cwd: Path, venv_bin: Path) -> str:
    """A documented block, line by line in one bash, with the fresh environment's pip first."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))},
        "PATH": f"{venv_bin}:{ROOT / 'node_modules' / '.bin'}:/usr/bin:/bin",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    return run_bash(block, cwd, env)


def _installed(venv_bin: Path, site: Path, cwd: Path) -> str:
    """The installed copy's version, checked to come from the environment with its handler."""
    probe = (
        "import constructs_lib, importlib.metadata as m, pathlib\n"
        "here = pathlib.Path(constructs_lib.__file__).parent\n"
        "assert (here / '_lambda' / 'handler.py').is_file()\n"
        "assert list((here / '_lambda' / 'models').glob('*/*/service-2.json'))\n"
        "print(constructs_lib.__file__)\n"
        "print(constructs_lib.__version__, m.version('cleanrooms-ml-cdk-constructs'))\n"
    )
    result = subprocess.run(
        [str(venv_bin / "python"), "-c", probe],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    where, versions = result.stdout.splitlines()
    assert where.startswith(str(site)), where
    return versions


@pytest.fixture(scope="module")
def built() -> tuple[Path, Path]:
    """`make dist`, as the first block of docs/install.md runs it (in this checkout)."""
    result = subprocess.run(["make", "dist"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert WHEEL.is_file(), sorted(p.name for p in WHEEL.parent.iterdir())
    assert SDIST.is_file(), sorted(p.name for p in WHEEL.parent.iterdir())
    return WHEEL, SDIST


def test_the_build_prints_no_warning(built: tuple[Path, Path]) -> None:
    # GIVEN make dist's full build log WHEN searched THEN setuptools warned about nothing
    # (make dist also fails on a warning: this shows the log was written and read)
    log = (ROOT / "build" / "dist.log").read_text()
    assert "Successfully built" in log
    assert "warning" not in log.lower(), [ln for ln in log.splitlines() if "warn" in ln.lower()]


def test_wheel_ships_the_package_the_handler_its_models_and_the_licence(
    built: tuple[Path, Path],
) -> None:
    wheel, _ = built
    names = zipfile.ZipFile(wheel).namelist()
    assert "constructs_lib/py.typed" in names
    assert "constructs_lib/__init__.py" in names
    assert not [n for n in names if n.startswith(("tests/", "app.py", "bench/", "examples/"))]
    # the handler asset, with the service models it validates against
    lambda_dir = ROOT / "lambda"
    shipped = {
        "constructs_lib/_lambda/" + str(p.relative_to(lambda_dir))
        for p in lambda_dir.rglob("*")
        if p.is_file() and p.suffix in (".py", ".json") and "__pycache__" not in p.parts
    }
    assert shipped <= set(names), sorted(shipped - set(names))
    assert f"cleanrooms_ml_cdk_constructs-{VERSION}.dist-info/licenses/LICENSE" in names
    metadata = next(n for n in names if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert f"Version: {VERSION}\n" in text  # the one version, read from constructs_lib
    assert "License-Expression: Apache-2.0" in text
    assert "Requires-Dist: aws-cdk-lib" in text
    assert "Requires-Dist: cdk-nag" in text


@pytest.mark.parametrize(("way", "index"), [("wheel", 0), ("sdist", 1), ("path", 2), ("git", 3)])
def test_each_documented_install_works_in_a_fresh_venv(
    built: tuple[Path, Path], tmp_path: Path, way: str, index: int
) -> None:
    # GIVEN a fresh virtual environment, and for the path and git ways a clone of this
    # repository (tagged v<version>, as a release is)
    venv_bin, site = _fresh_venv(tmp_path / "venv")
    block = _install_blocks()[index]
    cwd = ROOT
    if way in ("path", "git"):
        clone = tmp_path / "cleanrooms-ml-cdk-constructs"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "tag", f"v{VERSION}"], check=True)
        cwd = tmp_path
        assert way != "git" or PLACEHOLDER_URL in block
        # file://localhost/...: the pip that a fresh venv ships (23.2) refuses a URL requirement
        # without a host, as file:///... is; an https URL always has one
        block = block.replace(PLACEHOLDER_URL, f"file://localhost{clone}")
    if way == "wheel":  # make dist already ran in the fixture; run the rest of the block
        assert block.splitlines()[0] == "make dist"
        block = "\n".join(block.splitlines()[1:])
    # WHEN the documented block runs
    _run_block(block, cwd, venv_bin)
    # THEN the library is installed in that environment, at the one version, with its handler
    assert _installed(venv_bin, site, tmp_path) == f"{VERSION} {VERSION}"
    # AND the console script is installed and answers --help (no jsii: it starts fast)
    help_text = subprocess.run(
        [str(venv_bin / "audiences"), "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "audiences" in help_text
    # AND the documented check prints the version
    assert _run_block(_check_command(), tmp_path, venv_bin).strip().splitlines()[-1] == VERSION
    check = subprocess.run(
        [str(venv_bin / "pip"), "check"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_installed_package_builds_a_consumer_stack(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    # GIVEN the wheel installed into a separate site directory
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), WHEEL],
        check=True,
        capture_output=True,
        text=True,
    )
    # WHEN another project imports it (from outside this repository) and synthesizes
    out = tmp_path / "out"
    script = CONSUMER.format(site=str(site), out=str(out))
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
    # THEN it works from the installed copy, through the four packs and cfn-lint
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
    report = json.loads((out / "validation-report.json").read_text())
    assert all(not r.get("violations") for r in report["pluginReports"])
    assert_cfn_lint_clean(out)


def test_the_sdist_carries_what_a_build_needs(built: tuple[Path, Path], tmp_path: Path) -> None:
    # GIVEN the sdist WHEN unpacked THEN it has the sources, the handler, models and licence
    _, sdist = built
    shutil.unpack_archive(sdist, tmp_path)
    top = tmp_path / f"cleanrooms_ml_cdk_constructs-{VERSION}"
    for needed in ("pyproject.toml", "LICENSE", "README.md", "constructs_lib/__init__.py"):
        assert (top / needed).is_file(), needed
    assert (top / "lambda" / "handler.py").is_file()
    assert list((top / "lambda" / "models").glob("*/*/service-2.json"))
