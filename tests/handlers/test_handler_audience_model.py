"""Custom::CleanRoomsMLAudienceModel handler against Stubber-wrapped real cleanroomsml clients."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import audience_model
import handler
import pytest
from botocore.stub import ANY
from errors import HandlerError
from lifecycle import OWNER_TAG, owner_tag_value, parse_props

from tests.handler_support import (
    DATASET_ARN,
    KEY_ARN,
    MODEL_ARN,
    client_error,
    event,
    new_client,
    stubbed,
)

TYPE = audience_model.RESOURCE_TYPE
REQUEST = {
    "name": "lookalike",
    "trainingDatasetArn": DATASET_ARN,
    "trainingDataStartTime": "2024-01-01T00:00:00Z",
    "trainingDataEndTime": "2024-06-30T00:00:00Z",
    "kmsKeyArn": KEY_ARN,
    "description": "lookalike model",
}
UTC = datetime.UTC


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Any:
    made = new_client()
    monkeypatch.setattr(handler.clients, "client", lambda service, region_name=None: made)
    return made


def _owner(request_id: str = "req-1", logical_id: str = "Model") -> str:
    return owner_tag_value(
        event("Create", TYPE, REQUEST, request_id=request_id, logical_id=logical_id)
    )


def _expect_no_existing(stubber: Any) -> None:
    stubber.add_response("list_audience_models", {"audienceModels": []}, {"maxResults": 100})


def _summary(name: str, arn: str = MODEL_ARN) -> dict[str, Any]:
    moment = datetime.datetime(2024, 7, 1, tzinfo=UTC)
    return {
        "createTime": moment,
        "updateTime": moment,
        "audienceModelArn": arn,
        "name": name,
        "trainingDatasetArn": DATASET_ARN,
        "status": "CREATE_PENDING",
    }


def test_create_sends_parsed_types_and_owner_tag(client: Any) -> None:
    # GIVEN a create event whose properties are all strings, as CloudFormation sends them
    with stubbed(client) as stubber:
        _expect_no_existing(stubber)
        stubber.add_response(
            "create_audience_model",
            {"audienceModelArn": MODEL_ARN},
            {
                "name": "lookalike",
                "trainingDatasetArn": DATASET_ARN,
                "trainingDataStartTime": datetime.datetime(2024, 1, 1, tzinfo=UTC),
                "trainingDataEndTime": datetime.datetime(2024, 6, 30, tzinfo=UTC),
                "kmsKeyArn": KEY_ARN,
                "description": "lookalike model",
                "tags": {"team": "ads", OWNER_TAG: _owner()},
            },
        )
        # WHEN the handler runs
        result = handler.on_event(event("Create", TYPE, REQUEST, tags={"team": "ads"}))
    # THEN the ARN is the physical id and an attribute; it returned without waiting
    assert result == {
        "PhysicalResourceId": MODEL_ARN,
        "Data": {"AudienceModelArn": MODEL_ARN, "Name": "lookalike"},
    }


def test_retried_create_adopts_the_object_this_request_made(client: Any) -> None:
    # GIVEN the first attempt created the model but its answer was lost
    with stubbed(client) as stubber:
        stubber.add_response(
            "list_audience_models",
            {"audienceModels": [_summary("other", MODEL_ARN + "x"), _summary("lookalike")]},
            {"maxResults": 100},
        )
        stubber.add_response(
            "list_tags_for_resource", {"tags": {OWNER_TAG: _owner()}}, {"resourceArn": MODEL_ARN}
        )
        # WHEN CloudFormation's request is retried THEN no second model is created
        result = handler.on_event(event("Create", TYPE, REQUEST))
    assert result["PhysicalResourceId"] == MODEL_ARN


def test_lookup_follows_pagination(client: Any) -> None:
    with stubbed(client) as stubber:
        stubber.add_response(
            "list_audience_models",
            {"audienceModels": [_summary("a", MODEL_ARN + "a")], "nextToken": "t"},
            {"maxResults": 100},
        )
        stubber.add_response(
            "list_audience_models", {"audienceModels": []}, {"maxResults": 100, "nextToken": "t"}
        )
        stubber.add_response("create_audience_model", {"audienceModelArn": MODEL_ARN}, None)
        assert handler.on_event(event("Create", TYPE, REQUEST))["PhysicalResourceId"] == MODEL_ARN


def test_fails_if_name_is_taken_by_an_object_this_stack_did_not_create(client: Any) -> None:
    with stubbed(client) as stubber:
        stubber.add_response(
            "list_audience_models", {"audienceModels": [_summary("lookalike")]}, {"maxResults": 100}
        )
        stubber.add_response(
            "list_tags_for_resource", {"tags": {"team": "ads"}}, {"resourceArn": MODEL_ARN}
        )
        with pytest.raises(HandlerError) as error:
            handler.on_event(event("Create", TYPE, REQUEST))
    message = str(error.value)
    assert "audience model named 'lookalike' already exists" in message
    assert MODEL_ARN in message
    assert "not created by this stack resource" in message


def test_fails_if_a_replacement_keeps_the_old_name(client: Any) -> None:
    # GIVEN an update that changes the dataset (replacement) but keeps the name
    old = dict(REQUEST)
    new = {**REQUEST, "trainingDatasetArn": DATASET_ARN + "-v2"}
    with stubbed(client) as stubber:
        stubber.add_response(
            "list_audience_models", {"audienceModels": [_summary("lookalike")]}, {"maxResults": 100}
        )
        stubber.add_response(
            "list_tags_for_resource",
            {"tags": {OWNER_TAG: _owner(request_id="the-original-create")}},
            {"resourceArn": MODEL_ARN},
        )
        with pytest.raises(HandlerError, match="needs a new `name`"):
            handler.on_event(
                event(
                    "Update", TYPE, new, old_request=old, physical_id=MODEL_ARN, request_id="req-2"
                )
            )


def test_update_of_a_field_creates_a_replacement(client: Any) -> None:
    old = dict(REQUEST)
    new = {**REQUEST, "name": "lookalike-v2", "trainingDatasetArn": DATASET_ARN + "-v2"}
    new_arn = MODEL_ARN + "-v2"
    with stubbed(client) as stubber:
        stubber.add_response(
            "list_audience_models", {"audienceModels": [_summary("lookalike")]}, {"maxResults": 100}
        )
        stubber.add_response(
            "create_audience_model",
            {"audienceModelArn": new_arn},
            {
                **{k: ANY for k in REQUEST},
                "name": "lookalike-v2",
                "trainingDatasetArn": DATASET_ARN + "-v2",
                "tags": ANY,
            },
        )
        result = handler.on_event(
            event("Update", TYPE, new, old_request=old, physical_id=MODEL_ARN)
        )
    # THEN a new physical id: CloudFormation deletes the old model after the update
    assert result["PhysicalResourceId"] == new_arn


def test_update_of_tags_only_retags_in_place(client: Any) -> None:
    with stubbed(client) as stubber:
        stubber.add_response("untag_resource", {}, {"resourceArn": MODEL_ARN, "tagKeys": ["gone"]})
        stubber.add_response(
            "tag_resource", {}, {"resourceArn": MODEL_ARN, "tags": {"team": "ml", "new": "1"}}
        )
        result = handler.on_event(
            event(
                "Update",
                TYPE,
                REQUEST,
                tags={"team": "ml", "keep": "x", "new": "1"},
                old_request=REQUEST,
                old_tags={"team": "ads", "keep": "x", "gone": "y"},
                physical_id=MODEL_ARN,
            )
        )
    assert result["PhysicalResourceId"] == MODEL_ARN


def test_update_with_nothing_changed_makes_no_call(client: Any) -> None:
    with stubbed(client):
        result = handler.on_event(
            event(
                "Update",
                TYPE,
                REQUEST,
                tags={"a": "1"},
                old_request=REQUEST,
                old_tags={"a": "1"},
                physical_id=MODEL_ARN,
            )
        )
    assert result["PhysicalResourceId"] == MODEL_ARN


def test_delete_deletes_the_model(client: Any) -> None:
    with stubbed(client) as stubber:
        stubber.add_response("delete_audience_model", {}, {"audienceModelArn": MODEL_ARN})
        assert handler.on_event(event("Delete", TYPE, REQUEST, physical_id=MODEL_ARN)) == {
            "PhysicalResourceId": MODEL_ARN
        }


def test_delete_of_a_missing_model_succeeds(client: Any) -> None:
    with stubbed(client) as stubber:
        client_error(
            stubber,
            "delete_audience_model",
            "ResourceNotFoundException",
            "Audience model not found",
            404,
            {"audienceModelArn": MODEL_ARN},
        )
        handler.on_event(event("Delete", TYPE, REQUEST, physical_id=MODEL_ARN))


@pytest.mark.parametrize(
    "physical_id", ["AWSCDK::CustomResourceProviderFramework::CREATE_FAILED", "req-1", ""]
)
def test_delete_after_a_failed_create_makes_no_call(client: Any, physical_id: str) -> None:
    with stubbed(client):
        result = handler.on_event(event("Delete", TYPE, REQUEST, physical_id=physical_id))
    assert result == {"PhysicalResourceId": physical_id}


def test_fails_if_delete_conflicts_with_the_services_message(client: Any) -> None:
    with stubbed(client) as stubber:
        client_error(
            stubber,
            "delete_audience_model",
            "ConflictException",
            "Model is in use by configured audience model cam-1",
            409,
        )
        with pytest.raises(HandlerError) as error:
            handler.on_event(event("Delete", TYPE, REQUEST, physical_id=MODEL_ARN))
    assert "DeleteAudienceModel failed (ConflictException)" in str(error.value)
    assert "in use by configured audience model cam-1" in str(error.value)


def test_fails_if_access_is_denied_with_what_to_check(client: Any) -> None:
    with stubbed(client) as stubber:
        _expect_no_existing(stubber)
        client_error(
            stubber,
            "create_audience_model",
            "AccessDeniedException",
            "User is not authorized to perform: cleanrooms-ml:CreateAudienceModel",
            403,
        )
        with pytest.raises(HandlerError) as error:
            handler.on_event(event("Create", TYPE, REQUEST))
    message = str(error.value)
    assert message.startswith("CreateAudienceModel failed (AccessDeniedException) name=lookalike:")
    assert "not authorized to perform: cleanrooms-ml:CreateAudienceModel" in message
    assert "iam:PassRole" in message


def test_fails_if_the_service_rejects_the_request(client: Any) -> None:
    with stubbed(client) as stubber:
        _expect_no_existing(stubber)
        client_error(
            stubber,
            "create_audience_model",
            "ValidationException",
            "trainingDataEndTime must be after trainingDataStartTime",
        )
        with pytest.raises(HandlerError, match=r"ValidationException.*must be after"):
            handler.on_event(event("Create", TYPE, REQUEST))


def test_fails_if_a_property_cannot_be_parsed(client: Any) -> None:
    bad = {**REQUEST, "trainingDataStartTime": "last tuesday"}
    with stubbed(client), pytest.raises(HandlerError) as error:
        handler.on_event(event("Create", TYPE, bad))
    assert "CreateAudienceModel.trainingDataStartTime must be an ISO 8601 timestamp" in str(
        error.value
    )


def test_fails_if_the_resource_type_is_unknown(client: Any) -> None:
    with pytest.raises(HandlerError, match="unsupported resource type 'Custom::Nope'"):
        handler.on_event(event("Create", "Custom::Nope", REQUEST))


def test_logs_are_structured_and_never_contain_the_response_url(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO), stubbed(client) as stubber:
        stubber.add_response("delete_audience_model", {}, {"audienceModelArn": MODEL_ARN})
        handler.on_event(event("Delete", TYPE, REQUEST, physical_id=MODEL_ARN))
    # THEN each record carries its fields as attributes (Lambda's JSON log format writes them
    # as keys of one JSON object per record)
    [received, handled] = caplog.records
    assert (received.getMessage(), handled.getMessage()) == ("event received", "event handled")
    assert received.RequestType == "Delete"
    assert received.ResourceType == TYPE
    assert handled.physicalResourceId == MODEL_ARN
    assert isinstance(handled.durationMs, int)
    # AND nothing of the presigned response URL is logged
    for record in caplog.records:
        assert "secret-signature" not in repr(vars(record))
        assert not hasattr(record, "ResponseURL")


def test_failures_are_logged_with_their_reason(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO), pytest.raises(HandlerError):
        handler.on_event(event("Create", "Custom::Nope", REQUEST))
    failed = caplog.records[-1]
    assert failed.levelname == "ERROR"
    assert failed.errorType == "HandlerError"
    assert "unsupported resource type" in failed.error


def test_props_parse_tags_separately_from_the_request(client: Any) -> None:
    props = parse_props(
        client,
        "CreateAudienceModel",
        {"Request": {"name": "n", "trainingDatasetArn": DATASET_ARN}, "Tags": {"a": "1"}},
        owner="o/r",
    )
    assert props.request == {"name": "n", "trainingDatasetArn": DATASET_ARN}
    assert props.tags == {"a": "1"}
    assert props.owner_prefix == "o"
