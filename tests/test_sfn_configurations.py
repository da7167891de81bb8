"""Every configuration of the library's state machines synthesizes, and is recorded for the
path-coverage gate (``tests/sfn_coverage.py``) when the gate is on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.sfn_configurations import BUILDS, TRACKER, WORKFLOW, Configuration, synthesize_all
from tests.sfn_coverage import CONFIGURATIONS_FILE, ENV


@pytest.fixture(scope="module")
def configurations(tmp_path_factory: pytest.TempPathFactory) -> list[Configuration]:
    return synthesize_all(tmp_path_factory.mktemp("configurations"))


def test_every_configuration_has_its_state_machines(configurations: list[Configuration]) -> None:
    # GIVEN every configuration the library can produce, synthesized through the cdk-nag gate
    assert [c.name for c in configurations] == list(BUILDS)
    for configuration in configurations:
        # THEN each has the tracker, and the workflow ones a workflow too
        assert TRACKER in configuration.definitions
        assert (WORKFLOW in configuration.definitions) == configuration.name.startswith("workflow")
    # AND the configurations differ where they should (the states they hold)
    workflows = {
        c.name: set(json.loads(c.definitions[WORKFLOW])["States"])
        for c in configurations
        if WORKFLOW in c.definitions
    }
    assert "ExportAudience" not in workflows["workflow, manual only"]
    assert "StartBatchInference" in workflows["workflow, S3 trigger + exports + Bedrock"]


def test_configurations_are_recorded_for_the_coverage_gate(
    configurations: list[Configuration],
) -> None:
    directory = os.environ.get(ENV)
    if not directory:
        pytest.skip("the path-coverage gate is off (make test turns it on)")
    (Path(directory) / CONFIGURATIONS_FILE).write_text(
        json.dumps({c.name: c.definitions for c in configurations})
    )
