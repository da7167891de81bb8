"""The example app wires every building block together, configured from cdk.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def template(example_app: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (example_app / "AudiencePipeline.template.json").read_text()
    )
    return loaded


def _types(template: dict[str, Any]) -> list[str]:
    return sorted(r["Type"] for r in template["Resources"].values())


def test_app_declares_key_buckets_and_roles(template: dict[str, Any]) -> None:
    assert _types(template) == sorted(
        [
            "AWS::KMS::Key",
            "AWS::KMS::Alias",
            "AWS::S3::Bucket",
            "AWS::S3::Bucket",
            "AWS::S3::BucketPolicy",
            "AWS::S3::BucketPolicy",
            "AWS::IAM::Role",
            "AWS::IAM::Role",
            "AWS::IAM::ManagedPolicy",
            "AWS::IAM::ManagedPolicy",
        ]
    )


def test_app_reads_its_settings_from_cdk_json(template: dict[str, Any]) -> None:
    [alias] = [r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Alias"]
    assert alias["Properties"]["AliasName"] == "alias/audience-pipeline"
    text = json.dumps(template)
    assert "example-training-data/interactions/*" in text
    assert "/seeds/*" in text


def test_app_is_account_agnostic(template: dict[str, Any]) -> None:
    text = json.dumps(template)
    assert '"Ref": "AWS::AccountId"' in text
    assert '"Ref": "AWS::Region"' in text


def test_stateful_resources_are_retained(template: dict[str, Any]) -> None:
    for resource in template["Resources"].values():
        if resource["Type"] in ("AWS::S3::Bucket", "AWS::KMS::Key"):
            assert resource["DeletionPolicy"] == "Retain"
            assert resource["UpdateReplacePolicy"] == "Retain"
