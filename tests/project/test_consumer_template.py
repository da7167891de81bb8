"""The project template (examples/consumer): a copy of it, a freshly built wheel in `wheels/`,
and exactly the commands of its README, in a new virtual environment.

This is what a user does on day one, and nothing is borrowed from this repository's
environments: pip installs the library and its pinned dependencies from `wheels/` and the
package index (its cache makes that fast after `make test`'s set-up), `npm ci` installs the CLI
and Node 22 from the template's lock, and the machine's own Node (20, end of life) is left on
`PATH` to prove the template does not depend on it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import constructs_lib
from tests.conftest import ROOT, assert_cfn_lint_clean
from tests.docs_support import fences
from tests.project.test_environment import aws_cdk_lib_owns_the_shared_module
from tests.shell_support import run_bash

TEMPLATE = ROOT / "examples" / "consumer"
PACKS = ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
#: What jsii and the CDK CLI print when they run on an unsupported Node.
END_OF_LIFE_BANNER = "is end-of-life"


def _commands() -> list[str]:
    [block] = [f for f in fences((TEMPLATE / "README.md").read_text()) if f.runnable]
    return [line for line in block.code.splitlines() if line.strip()]


def _wheel(into: Path) -> Path:
    """A wheel of the library as it is now (`pip wheel` builds what `make dist` builds)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(into), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )  # fmt: skip
    [wheel] = into.glob("cleanrooms_ml_cdk_constructs-*.whl")
    return wheel


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The template copied outside this repository, its README's commands run in it."""
    work = tmp_path_factory.mktemp("template")
    copy = work / "marketing-audiences"
    shutil.copytree(
        TEMPLATE, copy, ignore=shutil.ignore_patterns(".venv", "node_modules", "cdk.out")
    )
    _wheel(copy / "wheels")
    env = {
        # the user's shell: the system's Python 3.11 and Node 20, nothing of this repository
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", str(work)),
        "LANG": "C.UTF-8",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    outputs = [run_bash(command, copy, env) for command in _commands()]
    return copy, outputs


def test_the_readme_commands_run_in_a_fresh_copy(project: tuple[Path, list[str]]) -> None:
    # GIVEN the template's README WHEN its commands ran (fixture) THEN each exited 0, in order
    copy, outputs = project
    assert len(outputs) == len(_commands()) == 5
    # AND the library came from the template's own environment, at this version
    probe = subprocess.run(
        [str(copy / ".venv" / "bin" / "python"), "-c",
         "import constructs_lib; print(constructs_lib.__version__, constructs_lib.__file__)"],
        capture_output=True, text=True, check=True, cwd=copy,
    ).stdout.split()  # fmt: skip
    assert probe[0] == constructs_lib.__version__
    assert probe[1].startswith(str(copy / ".venv"))
    # AND pip left aws-cdk-lib's copy of the module it shares with a dependency
    assert aws_cdk_lib_owns_the_shared_module(copy / ".venv" / "bin" / "python")


def test_synth_runs_on_the_pinned_node_and_cli(project: tuple[Path, list[str]]) -> None:
    # GIVEN the machine's Node 20 on PATH WHEN `npx cdk synth` ran THEN no end-of-life banner
    # (npx put the template's Node 22 first) and the CLI is the locked one
    copy, outputs = project
    synth = outputs[_commands().index("npx cdk synth --quiet")]
    assert END_OF_LIFE_BANNER not in synth, synth
    lock = json.loads((copy / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == "2.1148.1"
    installed = json.loads((copy / "node_modules" / "aws-cdk" / "package.json").read_text())
    assert installed["version"] == "2.1148.1"


def test_the_stack_passes_the_gate_and_the_summary_says_so(
    project: tuple[Path, list[str]],
) -> None:
    copy, outputs = project
    # THEN the pipeline's stack was synthesized, lint-clean
    template = json.loads((copy / "cdk.out" / "MarketingAudiences.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert "Custom::CleanRoomsMLConfiguredAudienceModel" in types
    assert "AWS::CloudWatch::Dashboard" in types
    assert_cfn_lint_clean(copy / "cdk.out")
    # AND the summary printed one passing line per pack
    summary = [ln for ln in outputs[-1].splitlines() if ln.startswith("cdk-nag ")]
    assert [ln.split(":")[0] for ln in summary] == [f"cdk-nag {p}" for p in PACKS]
    assert all(": success, 0 violation(s)," in ln for ln in summary), summary
