"""Keep docs/aws-assumptions.md honest: every code reference names a symbol that exists, and every
behaviour cites an AWS page or says how the code hedges ("undocumented: ...").

References have two forms (stated at the top of the document): ``constructs_lib.<module>.<name>``
(imported, then resolved attribute by attribute) and ``lambda/<file>.py:<name>[.<attribute>]``
(the handler file is parsed; the name must be a top-level def, class or assignment, the attribute
a def or assignment inside that class). No network, no synthesis: this runs in well under a second.
"""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.gate_report import report

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "aws-assumptions.md"
HEADER = ("Behaviour", "Where the code relies on it", "AWS page")

CONSTRUCTS_REF = re.compile(r"constructs_lib(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
LAMBDA_REF = re.compile(
    r"lambda/[A-Za-z_][A-Za-z0-9_]*\.py:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_]\w*)?"
)
AWS_URL = re.compile(r"https://(?:docs\.aws\.amazon\.com|aws\.amazon\.com)/\S+")
UNDOCUMENTED = "undocumented:"
#: An "undocumented" row must say how the code hedges, not just admit the gap.
MIN_HEDGE_CHARS = 60


@dataclass(frozen=True)
class Row:
    line: int
    behaviour: str
    references: tuple[str, ...]
    page: str

    @property
    def undocumented(self) -> bool:
        return UNDOCUMENTED in self.page


def parse_table(text: str) -> list[Row]:
    """Every row of every table whose header is ``HEADER``; a malformed row raises."""
    rows: list[Row] = []
    in_table = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if tuple(cells) == HEADER:
            in_table = True
            continue
        if not in_table or set(line.replace("|", "").strip()) <= {"-", " "}:
            continue
        if len(cells) != len(HEADER):
            raise ValueError(f"line {number}: {len(cells)} cells, expected {len(HEADER)}")
        behaviour, where, page = cells
        rows.append(Row(number, behaviour, tuple(re.findall(r"`([^`]+)`", where)), page))
    return rows


def _module_names(tree: ast.Module) -> dict[str, ast.AST]:
    """Top-level defs, classes and assigned names of a parsed module."""
    names: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = node
    return names


def _class_members(node: ast.ClassDef) -> set[str]:
    members: set[str] = set()
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            members.add(item.name)
        elif isinstance(item, ast.Assign):
            members.update(t.id for t in item.targets if isinstance(t, ast.Name))
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            members.add(item.target.id)
    return members


def check_reference(reference: str, root: Path = ROOT) -> str | None:
    """None when ``reference`` names an existing symbol, else why not."""
    if CONSTRUCTS_REF.fullmatch(reference):
        parts = reference.split(".")
        # The longest importable prefix is the module; the rest are attributes.
        for split in range(len(parts), 1, -1):
            try:
                target: object = importlib.import_module(".".join(parts[:split]))
            except ModuleNotFoundError:
                continue
            for attribute in parts[split:]:
                if not hasattr(target, attribute):
                    return f"{'.'.join(parts[:split])} has no {'.'.join(parts[split:])}"
                target = getattr(target, attribute)
            return None
        return f"no importable module in {reference}"
    if LAMBDA_REF.fullmatch(reference):
        file, symbol = reference.split(":")
        path = root / file
        if not path.is_file():
            return f"{file} does not exist"
        name, _, attribute = symbol.partition(".")
        node = _module_names(ast.parse(path.read_text(), filename=str(path))).get(name)
        if node is None:
            return f"{file} defines no {name}"
        if attribute and (
            not isinstance(node, ast.ClassDef) or attribute not in _class_members(node)
        ):
            return f"{file}: {name} has no member {attribute}"
        return None
    return (
        f"{reference!r} is not a reference (constructs_lib.<module>.<name> or lambda/<f>.py:<name>)"
    )


def check_row(row: Row, root: Path = ROOT) -> list[str]:
    """Every problem of one row: references, and a page or a hedge."""
    where = f"line {row.line} ({row.behaviour[:50]}...)"
    problems = [f"{where}: {why}" for ref in row.references if (why := check_reference(ref, root))]
    if not row.references:
        problems.append(f"{where}: no code reference")
    if row.undocumented:
        hedge = row.page.split(UNDOCUMENTED, 1)[1]
        if "hedge" not in hedge.lower() or len(hedge.strip()) < MIN_HEDGE_CHARS:
            problems.append(f"{where}: 'undocumented:' without how the code hedges")
    elif not AWS_URL.search(row.page):
        problems.append(f"{where}: neither an AWS page (docs.aws.amazon.com) nor 'undocumented:'")
    return problems


ROWS = parse_table(DOC.read_text())


def test_table_parses_and_covers_the_brief() -> None:
    assert len(ROWS) >= 30, f"only {len(ROWS)} rows parsed from {DOC}"
    text = DOC.read_text()
    for topic in (
        "CleanRoomsMl.",
        "Bedrock.",
        "<Service>.<Service>Exception",
        "StepFunctions.ExecutionAlreadyExistsException",
        "Sfn.ExecutionDoesNotExistException",
        "PascalCase",
        ".sync:2",
        "ABORTED",
        "Batch Inference Job State Change",
        "resources[0]",
        "12 hours",
        "Object Created",
        "URL-encoded",
        "25,000",
        "1 year",
        "90 days",
        "ServiceTimeout",
        "JitterStrategy",
        "States.ArrayGetItem",
        "States.Hash",
    ):
        assert topic in text, f"{DOC.name} does not cover {topic!r}"


def test_every_reference_exists_and_every_row_has_a_source() -> None:
    problems = [problem for row in ROWS for problem in check_row(row)]
    assert not problems, "\n".join(problems)
    references = {ref for row in ROWS for ref in row.references}
    undocumented = sum(row.undocumented for row in ROWS)
    report(
        "AWS assumptions",
        [
            f"{len(ROWS)} behaviours, {len(references)} code references checked, "
            f"{undocumented} undocumented (hedged)"
        ],
    )


# ---- the checker fails on broken rows (a check that cannot fail is a defect) -----------------

GOOD = "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("constructs_lib.tracking.schedule.HISTORY_EVENT_LIMIT_TYPO", "has no"),
        ("constructs_lib.tracking.job_status.JobStatusTracker._no_such_method", "has no"),
        ("constructs_lib.no_such_module.X", "no importable module"),
        ("lambda/tracking.py:no_such_function", "defines no"),
        ("lambda/no_such_file.py:execution_name", "does not exist"),
        ("lambda/tracking.py:execution_name.attribute", "has no member"),
        ("tracking.execution_name", "is not a reference"),
    ],
)
def test_checker_rejects_a_made_up_reference(reference: str, reason: str) -> None:
    why = check_reference(reference)
    assert why is not None
    assert reason in why
    row = Row(1, "made up", (reference,), GOOD)
    assert check_row(row)


def test_checker_accepts_real_references() -> None:
    for reference in (
        "constructs_lib.tracking.schedule.HISTORY_EVENT_LIMIT",
        "constructs_lib._internal.state_machines.read_nested_failure",
        "constructs_lib.tracking.fragments.event_path.BedrockEventPath._poller_execution_arn",
        "lambda/tracking.py:execution_name",
        "lambda/workflow_input.py:WorkflowInputError",
    ):
        assert check_reference(reference) is None, reference


def test_checker_rejects_rows_without_source_or_hedge() -> None:
    ref = ("constructs_lib.tracking.schedule.HISTORY_EVENT_LIMIT",)
    assert check_row(Row(1, "no source", ref, "see the docs"))
    assert check_row(Row(1, "non-AWS source", ref, "https://example.com/page"))
    assert check_row(Row(1, "bare admission", ref, "undocumented: we don't know"))
    assert check_row(Row(1, "no reference", (), GOOD))
    assert not check_row(Row(1, "sourced", ref, GOOD))
    hedged = "undocumented: hedge: retried a few times, then a States.ALL catch ends the run."
    assert not check_row(Row(1, "hedged", ref, hedged))


def test_parser_reads_the_documented_format_and_rejects_a_broken_row() -> None:
    table = (
        "| Behaviour | Where the code relies on it | AWS page |\n"
        "| --- | --- | --- |\n"
        "| a | `constructs_lib.tracking.schedule.HISTORY_EVENT_LIMIT`, `lambda/x.py:y` "
        f"| {GOOD} |\n"
    )
    (row,) = parse_table(table)
    assert row.references == (
        "constructs_lib.tracking.schedule.HISTORY_EVENT_LIMIT",
        "lambda/x.py:y",
    )
    assert check_row(row)  # lambda/x.py does not exist
    with pytest.raises(ValueError, match="cells"):
        parse_table(table + "| only | two |\n")
