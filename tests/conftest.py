"""Shared fixtures: synthesized stacks are built once and shared (jsii synthesis is slow)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = ROOT / "node_modules" / ".bin"

# Run jsii on the project's pinned Node 22 even when pytest is started outside `make`: this must
# happen before aws_cdk is imported, which starts the jsii runtime.
if NODE_BIN.is_dir() and not os.environ.get("PATH", "").startswith(str(NODE_BIN)):
    os.environ["PATH"] = f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
# The repository (for app.py) and the handler asset (its modules are top-level, as in Lambda).
for path in (ROOT, ROOT / "lambda"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import aws_cdk as cdk  # noqa: E402
import pytest  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from constructs_lib import add_compliance_checks  # noqa: E402


@dataclass
class Synthesized:
    """One synthesized stack: its template, and the app's cdk-nag validation report."""

    template: Template
    raw: dict[str, Any]
    report: dict[str, Any]
    outdir: Path

    def resources(self, resource_type: str) -> dict[str, Any]:
        found: dict[str, Any] = self.template.find_resources(resource_type)
        return found


def synth_stack(
    outdir: Path, build: Callable[[cdk.Stack], None], stack_name: str = "TestStack"
) -> Synthesized:
    """Synthesize one stack with the four cdk-nag packs as a gate.

    Synthesis raises on any finding that was not acknowledged with a reason, so every stack a
    test builds through here is also a cdk-nag test.
    """
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, stack_name)
    build(stack)
    add_compliance_checks(app)
    assembly = app.synth()
    raw = assembly.get_stack_by_name(stack_name).template
    report = json.loads((outdir / "validation-report.json").read_text())
    return Synthesized(Template.from_json(raw), raw, report, outdir)


def bedrock_role(
    stack: cdk.Stack,
    seeds: Any,
    key: Any,
    *,
    construct_id: str = "BatchRole",
    input_prefix: str = "batch-input/",
    output_prefix: str = "batch-output/",
) -> Any:
    """The library's Bedrock role over two prefixes of the library's seed bucket."""
    from constructs_lib import BedrockBatchInferenceRole

    return BedrockBatchInferenceRole(
        stack,
        construct_id,
        input_bucket=seeds.bucket,
        input_prefix=input_prefix,
        output_bucket=seeds.bucket,
        output_prefix=output_prefix,
        encryption_key=key,
    )


@pytest.fixture
def stack() -> cdk.Stack:
    """A fresh stack for tests that only construct (failure tests never synthesize)."""
    return cdk.Stack(cdk.App(), "Scratch")


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def assert_cfn_lint_clean(outdir: Path) -> None:
    """cfn-lint over every template in ``outdir``: no error, no warning (CDK's own DependsOn
    triggers W3005, the one check ignored)."""
    import subprocess

    templates = sorted(str(p) for p in outdir.glob("*.template.json"))
    assert templates
    result = subprocess.run(
        ["cfn-lint", "--format", "parseable", "--ignore-checks", "W3005", "--", *templates],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


@pytest.fixture(scope="session")
def example_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example app (app.py) synthesized once per session, configured from cdk.json."""
    import app as example

    outdir = tmp_path_factory.mktemp("example-app")
    example.build_app(cdk.App(outdir=str(outdir), context=cdk_json_context())).synth()
    return outdir
