"""Configured audience model (+ policy) and generation job handlers against Stubber."""

from __future__ import annotations

import datetime
import json
from typing import Any

import audience_generation_job
import configured_audience_model
import configured_audience_model_policy
import handler
import pytest
from errors import HandlerError
from lifecycle import OWNER_TAG

from tests.handler_support import (
    CAM_ARN,
    JOB_ARN,
    MODEL_ARN,
    ROLE_ARN,
    client_error,
    event,
    new_client,
    stubbed,
)

CAM = configured_audience_model.RESOURCE_TYPE
POLICY = configured_audience_model_policy.RESOURCE_TYPE
JOB = audience_generation_job.RESOURCE_TYPE
CAM_REQUEST: dict[str, Any] = {
    "name": "lookalike-config",
    "audienceModelArn": MODEL_ARN,
    "outputConfig": {
        "destination": {"s3Destination": {"s3Uri": "s3://seeds/audiences/"}},
        "roleArn": ROLE_ARN,
    },
    "sharedAudienceMetrics": ["ALL"],
    "minMatchingSeedSize": 500,
    "audienceSizeConfig": {"audienceSizeType": "ABSOLUTE", "audienceSizeBins": [10000, 50000]},
    "childResourceTagOnCreatePolicy": "FROM_PARENT_RESOURCE",
    "description": "configured",
}
JOB_REQUEST: dict[str, Any] = {
    "name": "weekly-audience",
    "configuredAudienceModelArn": CAM_ARN,
    "seedAudience": {
        "roleArn": ROLE_ARN,
        "sqlParameters": {
            "queryString": "SELECT user_id FROM seeds WHERE segment = :segment",
            "parameters": {"segment": "sports"},
        },
        "sqlComputeConfiguration": {"worker": {"type": "CR.4X", "number": 16}},
    },
    "includeSeedInOutput": False,
    "collaborationId": "2b3c4d5e-1111-2222-3333-444455556666",
    "description": "weekly",
}
NOW = datetime.datetime(2024, 7, 1, tzinfo=datetime.UTC)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    made = new_client()
    monkeypatch.setattr(handler.clients, "client", lambda service, region_name=None: made)
    return made


def test_create_configured_model_parses_numbers_and_lists(client: Any) -> None:
    with stubbed(client) as stubber:
        stubber.add_response(
            "list_configured_audience_models", {"configuredAudienceModels": []}, {"maxResults": 100}
        )
        expected = {
            **CAM_REQUEST,
            "minMatchingSeedSize": 500,
            "audienceSizeConfig": {
                "audienceSizeType": "ABSOLUTE",
                "audienceSizeBins": [10000, 50000],
            },
            "tags": {"team": "ads", OWNER_TAG: stubbed_owner()},
        }
        stubber.add_response(
            "create_configured_audience_model", {"configuredAudienceModelArn": CAM_ARN}, expected
        )
        result = handler.on_event(event("Create", CAM, CAM_REQUEST, tags={"team": "ads"}))
    assert result == {
        "PhysicalResourceId": CAM_ARN,
        "Data": {"ConfiguredAudienceModelArn": CAM_ARN, "Name": "lookalike-config"},
    }


def stubbed_owner() -> str:
    from lifecycle import owner_tag_value

    return owner_tag_value(event("Create", CAM, CAM_REQUEST))


def test_update_configured_model_in_place_sends_only_changed_fields(client: Any) -> None:
    new = {**CAM_REQUEST, "minMatchingSeedSize": 1000, "sharedAudienceMetrics": ["NONE"]}
    with stubbed(client) as stubber:
        stubber.add_response(
            "update_configured_audience_model",
            {"configuredAudienceModelArn": CAM_ARN},
            {
                "configuredAudienceModelArn": CAM_ARN,
                "minMatchingSeedSize": 1000,
                "sharedAudienceMetrics": ["NONE"],
            },
        )
        stubber.add_response("tag_resource", {}, {"resourceArn": CAM_ARN, "tags": {"v": "2"}})
        result = handler.on_event(
            event("Update", CAM, new, tags={"v": "2"}, old_request=CAM_REQUEST, physical_id=CAM_ARN)
        )
    assert result["PhysicalResourceId"] == CAM_ARN


@pytest.mark.parametrize(
    "change",
    [
        {"name": "lookalike-config-v2"},
        {"name": "lookalike-config-v2", "childResourceTagOnCreatePolicy": "NONE"},
    ],
)
def test_update_of_a_fixed_field_replaces_the_configured_model(
    client: Any, change: dict[str, Any]
) -> None:
    new = {**CAM_REQUEST, **change}
    with stubbed(client) as stubber:
        stubber.add_response(
            "list_configured_audience_models", {"configuredAudienceModels": []}, {"maxResults": 100}
        )
        stubber.add_response(
            "create_configured_audience_model",
            {"configuredAudienceModelArn": CAM_ARN + "-v2"},
            None,
        )
        result = handler.on_event(
            event(
                "Update", CAM, new, old_request=CAM_REQUEST, physical_id=CAM_ARN, request_id="req-2"
            )
        )
    assert result["PhysicalResourceId"] == CAM_ARN + "-v2"


def test_removing_an_optional_field_replaces_the_configured_model(client: Any) -> None:
    new = {k: v for k, v in CAM_REQUEST.items() if k != "minMatchingSeedSize"}
    new["name"] = "lookalike-config-v2"
    with stubbed(client) as stubber:
        stubber.add_response(
            "list_configured_audience_models", {"configuredAudienceModels": []}, {"maxResults": 100}
        )
        stubber.add_response(
            "create_configured_audience_model",
            {"configuredAudienceModelArn": CAM_ARN + "-v2"},
            None,
        )
        handler.on_event(event("Update", CAM, new, old_request=CAM_REQUEST, physical_id=CAM_ARN))


def test_delete_configured_model_treats_not_found_as_done(client: Any) -> None:
    with stubbed(client) as stubber:
        client_error(
            stubber,
            "delete_configured_audience_model",
            "ResourceNotFoundException",
            "gone",
            404,
            {"configuredAudienceModelArn": CAM_ARN},
        )
        handler.on_event(event("Delete", CAM, CAM_REQUEST, physical_id=CAM_ARN))


POLICY_DOC = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "444455556666"},
                "Action": "cleanrooms-ml:StartAudienceGenerationJob",
                "Resource": CAM_ARN,
            }
        ],
    }
)
POLICY_REQUEST = {
    "configuredAudienceModelArn": CAM_ARN,
    "configuredAudienceModelPolicy": POLICY_DOC,
}
HASH = "a" * 64


def test_put_policy_on_create_and_update(client: Any) -> None:
    with stubbed(client) as stubber:
        for _ in range(2):
            stubber.add_response(
                "put_configured_audience_model_policy",
                {"configuredAudienceModelPolicy": POLICY_DOC, "policyHash": HASH},
                POLICY_REQUEST,
            )
        created = handler.on_event(event("Create", POLICY, POLICY_REQUEST))
        updated = handler.on_event(
            event(
                "Update",
                POLICY,
                POLICY_REQUEST,
                old_request=POLICY_REQUEST,
                physical_id=CAM_ARN + "/policy",
            )
        )
    assert (
        created
        == updated
        == {
            "PhysicalResourceId": CAM_ARN + "/policy",
            "Data": {"PolicyHash": HASH, "ConfiguredAudienceModelArn": CAM_ARN},
        }
    )


def test_delete_policy_and_tolerate_a_missing_one(client: Any) -> None:
    with stubbed(client) as stubber:
        stubber.add_response(
            "delete_configured_audience_model_policy", {}, {"configuredAudienceModelArn": CAM_ARN}
        )
        client_error(
            stubber,
            "delete_configured_audience_model_policy",
            "ResourceNotFoundException",
            "no policy",
            404,
        )
        for _ in range(2):
            handler.on_event(
                event("Delete", POLICY, POLICY_REQUEST, physical_id=CAM_ARN + "/policy")
            )


def test_delete_policy_after_failed_create_makes_no_call(client: Any) -> None:
    with stubbed(client):
        handler.on_event(event("Delete", POLICY, POLICY_REQUEST, physical_id="req-1"))


def test_fails_if_policy_is_rejected(client: Any) -> None:
    with stubbed(client) as stubber:
        client_error(
            stubber,
            "put_configured_audience_model_policy",
            "ValidationException",
            "Policy has invalid principal",
        )
        with pytest.raises(HandlerError, match="PutConfiguredAudienceModelPolicy failed"):
            handler.on_event(event("Create", POLICY, POLICY_REQUEST))


def test_start_job_parses_booleans_and_integers_and_looks_up_by_model(client: Any) -> None:
    with stubbed(client) as stubber:
        stubber.add_response(
            "list_audience_generation_jobs",
            {"audienceGenerationJobs": []},
            {"maxResults": 100, "configuredAudienceModelArn": CAM_ARN},
        )
        stubber.add_response(
            "start_audience_generation_job",
            {"audienceGenerationJobArn": JOB_ARN},
            {**JOB_REQUEST, "tags": {OWNER_TAG: _job_owner()}},
        )
        result = handler.on_event(event("Create", JOB, JOB_REQUEST, logical_id="Job"))
    assert result == {
        "PhysicalResourceId": JOB_ARN,
        "Data": {"AudienceGenerationJobArn": JOB_ARN, "Name": "weekly-audience"},
    }


def _job_owner() -> str:
    from lifecycle import owner_tag_value

    return owner_tag_value(event("Create", JOB, JOB_REQUEST, logical_id="Job"))


def test_retried_job_start_adopts_the_running_job(client: Any) -> None:
    summary = {
        "createTime": NOW,
        "updateTime": NOW,
        "audienceGenerationJobArn": JOB_ARN,
        "name": "weekly-audience",
        "status": "CREATE_IN_PROGRESS",
        "configuredAudienceModelArn": CAM_ARN,
    }
    with stubbed(client) as stubber:
        stubber.add_response(
            "list_audience_generation_jobs", {"audienceGenerationJobs": [summary]}, None
        )
        stubber.add_response(
            "list_tags_for_resource", {"tags": {OWNER_TAG: _job_owner()}}, {"resourceArn": JOB_ARN}
        )
        result = handler.on_event(event("Create", JOB, JOB_REQUEST, logical_id="Job"))
    assert result["PhysicalResourceId"] == JOB_ARN


def test_delete_job(client: Any) -> None:
    with stubbed(client) as stubber:
        stubber.add_response(
            "delete_audience_generation_job", {}, {"audienceGenerationJobArn": JOB_ARN}
        )
        client_error(
            stubber, "delete_audience_generation_job", "ResourceNotFoundException", "gone", 404
        )
        for _ in range(2):
            handler.on_event(event("Delete", JOB, JOB_REQUEST, physical_id=JOB_ARN))


def test_fails_if_job_quota_is_reached(client: Any) -> None:
    with stubbed(client) as stubber:
        stubber.add_response("list_audience_generation_jobs", {"audienceGenerationJobs": []})
        client_error(
            stubber,
            "start_audience_generation_job",
            "ServiceQuotaExceededException",
            "Too many concurrent jobs",
            402,
        )
        with pytest.raises(HandlerError) as error:
            handler.on_event(event("Create", JOB, JOB_REQUEST))
    assert "Too many concurrent jobs" in str(error.value)
    assert "quota" in str(error.value)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("includeSeedInOutput", "perhaps", "must be true or false"),
        (
            "seedAudience",
            {
                "roleArn": ROLE_ARN,
                "sqlComputeConfiguration": {"worker": {"type": "CR.4X", "number": "many"}},
            },
            "must be a number",
        ),
        ("seedAudience", {"roleArn": ROLE_ARN, "bogus": "x"}, "unknown fields ['bogus']"),
    ],
)
def test_fails_if_job_property_cannot_be_parsed(
    client: Any, field: str, value: Any, message: str
) -> None:
    with stubbed(client), pytest.raises(HandlerError, match=message.replace("[", r"\[")):
        handler.on_event(event("Create", JOB, {**JOB_REQUEST, field: value}))
