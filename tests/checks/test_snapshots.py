"""The synthesized templates match their stored snapshots (``tests/snapshots/``).

GIVEN the stacks listed in ``tests/snapshot_stacks.py`` (the example app in both environments,
the deploy-time objects, every configuration of the two state machines)
WHEN each is synthesized
THEN its normalized template is identical to the stored snapshot.

A difference fails with the diff and the command that refreshes the snapshots (``make
snapshots``, which runs this file with ``UPDATE_SNAPSHOTS=1``): review the diff, then commit the
new snapshots with the change that caused them.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from tests.snapshot_stacks import SNAPSHOTS, STACKS, slug, snapshot_text

UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


def test_every_snapshot_has_a_stack() -> None:
    # GIVEN the stored snapshots THEN each belongs to a listed stack (none left behind)
    stored = {p.name for p in SNAPSHOTS.glob("*.template.json")}
    assert stored == {f"{slug(name)}.template.json" for name in STACKS} or UPDATE


@pytest.mark.parametrize("name", list(STACKS))
def test_template_matches_its_snapshot(name: str, tmp_path: Path) -> None:
    # WHEN the stack is synthesized
    actual = snapshot_text(STACKS[name](tmp_path))
    stored = SNAPSHOTS / f"{slug(name)}.template.json"
    if UPDATE:
        stored.write_text(actual)
        return
    # THEN it is the stored snapshot
    assert stored.exists(), f"no snapshot for {name!r}: run `make snapshots`"
    expected = stored.read_text()
    if actual != expected:
        diff = "".join(
            list(
                difflib.unified_diff(
                    expected.splitlines(keepends=True),
                    actual.splitlines(keepends=True),
                    f"stored {stored.name}",
                    "synthesized",
                )
            )[:120]
        )
        pytest.fail(
            f"the template of {name!r} changed; if intended, run `make snapshots` and commit "
            f"the new snapshot:\n{diff}"
        )
