"""Every shell command the README and docs/ show is run by a test: here (`make synth`,
`make docs`, the example app's `cdk synth` variants) or by the test named for it.

The commands run in this checkout, as a contributor types them; they write `cdk.out/` and
`build/api/` here (both ignored by git), and only this module does, so no two tests race.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import ROOT
from tests.docs_support import fences
from tests.shell_support import run_bash

EXAMPLE_APP_DOC = ROOT / "docs" / "example-app.md"
PACKS = ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")

#: Commands shown in blocks no test runs as a block, and where each one is run.
RUN_ELSEWHERE = {
    "make synth": "this module (the example app's block starts with it)",
    "make test": ".ci/run: CI runs exactly this command",
    "make docs": "this module",
    "make dist": "tests/project/test_packaging.py (the first block of docs/install.md)",
    ".venv/bin/python bench/run.py": "tests/project/test_bench_smoke.py runs its main with N = 1",
    'python -c "import constructs_lib; print(constructs_lib.__version__)"': (
        "tests/project/test_packaging.py, after each install"
    ),
}
#: Measurements, run by hand: they take minutes and their output is a timing, not a pass/fail.
NOT_RUN = {
    ".venv/bin/python bench/quota_burst.py": "a 90-second measurement against the quota model",
}


def _lines(code: str) -> list[str]:
    """A block's commands: comments and continuation lines folded, blanks dropped."""
    commands = []
    for raw in code.replace("\\\n", " ").splitlines():
        line = raw.split(" #")[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            commands.append(line)
    return commands


def _env() -> dict[str, str]:
    """A contributor's shell: the pinned Node and CLI first, no AWS credentials at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "VIRTUAL_ENV"))}
    env.update(
        PATH=f"{ROOT / 'node_modules' / '.bin'}:{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        CDK_DISABLE_CLI_TELEMETRY="true",
    )
    return env


def _run(command: str) -> str:
    return run_bash(command, ROOT, _env())


def _template(stack: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(
        (ROOT / "cdk.out" / f"{stack}.template.json").read_text()
    )
    return loaded


def test_the_example_apps_synth_commands_run_offline() -> None:
    # GIVEN the block of docs/example-app.md that shows how settings are overridden
    [block] = [f for f in fences(EXAMPLE_APP_DOC.read_text()) if f.runnable]
    commands = _lines(block.code)
    assert commands[0] == "make synth"
    # WHEN make synth runs, with no AWS account or credentials
    output = _run(commands[0])
    # THEN it synthesizes on the pinned Node, and prints one passing line per cdk-nag pack
    assert "end-of-life" not in output
    summary = [ln for ln in output.splitlines() if ln.startswith("cdk-nag ")]
    assert [ln.split(":")[0] for ln in summary] == [f"cdk-nag {p}" for p in PACKS]
    assert all(": success, 0 violation(s)," in ln for ln in summary), summary
    types = {r["Type"] for r in _template("AudiencePipeline")["Resources"].values()}  # type: ignore[attr-defined]
    assert "Custom::CleanRoomsMLConfiguredAudienceModel" in types
    assert "AWS::CloudFormation::WaitCondition" in types
    # AND each documented override synthesizes, and does what the page says it does
    expectations = [
        ("AudiencePipeline-dev", None),  # -c environment=dev
        ("AudiencePipeline", "incoming/"),  # -c seedPrefix=incoming/ -c exportSizes=...
        ("AudiencePipeline", "bedrock:CreateModelInvocationJob"),  # -c batchInference=...
    ]
    assert len(commands[1:]) == len(expectations)
    for command, (stack, expected_text) in zip(commands[1:], expectations, strict=True):
        _run(command)
        text = (ROOT / "cdk.out" / f"{stack}.template.json").read_text()
        assert expected_text is None or expected_text in text, (command, expected_text)


def test_make_docs_builds_the_api_reference() -> None:
    # GIVEN the README's command WHEN run THEN the reference is where the docs say it is
    output = _run("make docs")
    assert "API reference of constructs_lib" in output
    assert (ROOT / "build" / "api" / "index.html").is_file()
    assert (
        "LookalikeAudiencePipeline" in (ROOT / "build" / "api" / "constructs_lib.html").read_text()
    )


def _shown_commands() -> list[tuple[str, int, str]]:
    """(file, line, command) of every shell command in a block that no test runs as a block."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    shown = []
    for page in pages:
        for fence in fences(page.read_text()):
            if fence.language in ("bash", "sh", "shell") and not fence.runnable:
                for command in _lines(fence.code):
                    shown.append((str(page.relative_to(ROOT)), fence.line, command))
    return shown


def _install_commands() -> set[str]:
    doc = (ROOT / "docs" / "install.md").read_text()
    return {c for f in fences(doc) if f.runnable for c in _lines(f.code)}


def _unrun(shown: list[tuple[str, int, str]]) -> list[str]:
    """The shown commands that no test runs and that are not a listed measurement."""
    installs = _install_commands()
    return [
        f"{page}:{line}: {command}"
        for page, line, command in shown
        if command not in RUN_ELSEWHERE and command not in installs and command not in NOT_RUN
    ]


def test_every_shown_command_is_run_by_a_test() -> None:
    # GIVEN every command in a shell block of the README and docs that is not run as a block
    # WHEN each is looked up THEN it is one a test runs (named in RUN_ELSEWHERE), one of the
    # install commands docs/install.md's test runs, or a measurement listed in NOT_RUN
    shown = _shown_commands()
    assert len(shown) >= 10  # the README's and contributing's blocks, at least
    unrun = _unrun(shown)
    assert not unrun, "commands no test runs:\n" + "\n".join(unrun)


def test_fails_if_a_shown_command_is_run_by_no_test() -> None:
    # GIVEN a page showing a tested command, an untested one and a command with a typo
    shown = [
        ("docs/x.md", 3, "make test"),
        ("docs/x.md", 4, "make snapshots"),
        ("docs/x.md", 5, "pip install dist/cleanrooms_ml_cdk_constructs-0.1.0.whl"),
    ]
    # WHEN looked up THEN the two no test runs are reported with their place
    assert _unrun(shown) == [
        "docs/x.md:4: make snapshots",
        "docs/x.md:5: pip install dist/cleanrooms_ml_cdk_constructs-0.1.0.whl",
    ]


def test_the_documented_runners_exist() -> None:
    # GIVEN the tests named as running a command WHEN looked for THEN each exists
    for where in (*RUN_ELSEWHERE.values(),):
        named = where.split()[0].rstrip(":,")
        if named.startswith(("tests/", ".ci/")):
            assert (ROOT / named).is_file(), where
    assert Path(ROOT / "bench" / "quota_burst.py").is_file()
