"""The configured audience model association handler (``cleanrooms`` API) against Stubber.

Stubber checks every request against the bundled ``cleanrooms`` model (lambda/models), so a
request the API would refuse (a wrong member name, a missing identifier) fails here.
Create -> list by name, create, get; update -> in place for name and description, a new
association for any other change; delete -> both ids from the ARN, "not found" is done; and every
error the model lists for each call becomes a FAILED reason naming the call and what to check.
"""

from __future__ import annotations

import datetime
from typing import Any

import configured_audience_model_association as association
import handler
import pytest
from errors import HandlerError
from lifecycle import OWNER_TAG, owner_tag_value

from tests.handler_support import (
    ACCOUNT,
    CAM_ARN,
    REGION,
    client_error,
    event,
    new_client,
    stubbed,
)

TYPE = association.RESOURCE_TYPE
MEMBERSHIP = "0f8fad5b-d9cb-469f-a165-70867728950e"
COLLABORATION = "2b3c4d5e-1111-2222-3333-444455556666"
ASSOCIATION_ID = "9a8b7c6d-aaaa-bbbb-cccc-ddddeeeeffff"
ARN = (
    f"arn:aws:cleanrooms:{REGION}:{ACCOUNT}:membership/{MEMBERSHIP}"
    f"/configuredaudiencemodelassociation/{ASSOCIATION_ID}"
)
IDS = {
    "membershipIdentifier": MEMBERSHIP,
    "configuredAudienceModelAssociationIdentifier": ASSOCIATION_ID,
}
REQUEST: dict[str, Any] = {
    "membershipIdentifier": MEMBERSHIP,
    "configuredAudienceModelArn": CAM_ARN,
    "configuredAudienceModelAssociationName": "lookalike-in-collaboration",
    "manageResourcePolicies": True,
    "description": "our lookalike model",
}
NOW = datetime.datetime(2026, 11, 24, tzinfo=datetime.UTC)
LIST = "list_configured_audience_model_associations"


def _association(arn: str = ARN, name: str = "lookalike-in-collaboration") -> dict[str, Any]:
    """The association as the API returns it (every member the model marks required)."""
    ids = association.identifiers(arn)
    return {
        "id": ids["configuredAudienceModelAssociationIdentifier"],
        "arn": arn,
        "configuredAudienceModelArn": CAM_ARN,
        "membershipId": MEMBERSHIP,
        "membershipArn": f"arn:aws:cleanrooms:{REGION}:{ACCOUNT}:membership/{MEMBERSHIP}",
        "collaborationId": COLLABORATION,
        "collaborationArn": f"arn:aws:cleanrooms:{REGION}:{ACCOUNT}:collaboration/{COLLABORATION}",
        "name": name,
        "manageResourcePolicies": True,
        "createTime": NOW,
        "updateTime": NOW,
    }


def _summary(arn: str = ARN, name: str = "lookalike-in-collaboration") -> dict[str, Any]:
    full = _association(arn, name)
    return {key: value for key, value in full.items() if key != "manageResourcePolicies"}


def _expected_data(arn: str = ARN, name: str = "lookalike-in-collaboration") -> dict[str, str]:
    ids = association.identifiers(arn)
    return {
        "ConfiguredAudienceModelAssociationArn": arn,
        "ConfiguredAudienceModelAssociationId": ids["configuredAudienceModelAssociationIdentifier"],
        "Name": name,
        "MembershipId": MEMBERSHIP,
        "CollaborationId": COLLABORATION,
        "CollaborationArn": f"arn:aws:cleanrooms:{REGION}:{ACCOUNT}:collaboration/{COLLABORATION}",
    }


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    made = {"cleanrooms": new_client("cleanrooms"), "stepfunctions": new_client("stepfunctions")}
    monkeypatch.setattr(handler.clients, "client", lambda service, region_name=None: made[service])
    return made["cleanrooms"]


def _owner(request_id: str = "req-1") -> str:
    return owner_tag_value(event("Create", TYPE, REQUEST, request_id=request_id))


def _expect_get(stubber: Any, arn: str = ARN, name: str = "lookalike-in-collaboration") -> None:
    stubber.add_response(
        "get_configured_audience_model_association",
        {"configuredAudienceModelAssociation": _association(arn, name)},
        association.identifiers(arn),
    )


def test_create_sends_the_request_typed_by_the_model_and_answers_the_ids(client: Any) -> None:
    # GIVEN no association of that name in the membership
    with stubbed(client) as stubber:
        stubber.add_response(
            LIST,
            {"configuredAudienceModelAssociationSummaries": []},
            {"maxResults": 100, "membershipIdentifier": MEMBERSHIP},
        )
        stubber.add_response(
            "create_configured_audience_model_association",
            {"configuredAudienceModelAssociation": _association()},
            {**REQUEST, "tags": {"team": "ads", OWNER_TAG: _owner()}},
        )
        # WHEN CloudFormation creates it (every property a string, "true" for the boolean)
        result = handler.on_event(event("Create", TYPE, REQUEST, tags={"team": "ads"}))
    # THEN the ARN is the physical id and the ids are attributes, from the create's answer (no
    # read follows a create: Stubber refuses any call not queued)
    assert result == {"PhysicalResourceId": ARN, "Data": _expected_data()}
    assert not association._CREATED


def test_retried_create_adopts_the_association_this_request_made(client: Any) -> None:
    # GIVEN the first attempt created the association, then the answer was lost
    with stubbed(client) as stubber:
        stubber.add_response(
            LIST,
            {"configuredAudienceModelAssociationSummaries": [_summary()], "nextToken": "page-2"},
            {"maxResults": 100, "membershipIdentifier": MEMBERSHIP},
        )
        stubber.add_response(
            "list_tags_for_resource", {"tags": {OWNER_TAG: _owner()}}, {"resourceArn": ARN}
        )
        _expect_get(stubber)
        # WHEN CloudFormation sends the same create again
        result = handler.on_event(event("Create", TYPE, REQUEST))
    # THEN no second association is created: the first is adopted
    assert result["PhysicalResourceId"] == ARN


def test_create_reads_every_page_before_creating(client: Any) -> None:
    other = ARN.replace(ASSOCIATION_ID, "11111111-2222-3333-4444-555555555555")
    with stubbed(client) as stubber:
        stubber.add_response(
            LIST,
            {
                "configuredAudienceModelAssociationSummaries": [_summary(other, "other")],
                "nextToken": "t",
            },
            {"maxResults": 100, "membershipIdentifier": MEMBERSHIP},
        )
        stubber.add_response(
            LIST,
            {"configuredAudienceModelAssociationSummaries": []},
            {"maxResults": 100, "membershipIdentifier": MEMBERSHIP, "nextToken": "t"},
        )
        stubber.add_response(
            "create_configured_audience_model_association",
            {"configuredAudienceModelAssociation": _association()},
            None,
        )
        assert handler.on_event(event("Create", TYPE, REQUEST))["PhysicalResourceId"] == ARN


@pytest.mark.parametrize(
    ("owner", "says"),
    [
        ("someone-else/req-9", "not created by this stack resource"),
        (f"{_owner().split('/')[0]}/req-0", "previous version of this resource"),
    ],
)
def test_fails_if_the_name_is_taken(client: Any, owner: str, says: str) -> None:
    # GIVEN an association of that name that this request did not create
    with stubbed(client) as stubber:
        stubber.add_response(
            LIST,
            {"configuredAudienceModelAssociationSummaries": [_summary()]},
            {"maxResults": 100, "membershipIdentifier": MEMBERSHIP},
        )
        stubber.add_response("list_tags_for_resource", {"tags": {OWNER_TAG: owner}}, None)
        # WHEN it is created THEN the error names the association and what to change
        with pytest.raises(HandlerError) as error:
            handler.on_event(event("Create", TYPE, REQUEST))
    assert "configured audience model association named 'lookalike-in-collaboration'" in str(
        error.value
    )
    assert says in str(error.value)
    assert "`name`" in str(error.value)


def test_update_of_name_and_description_is_in_place(client: Any) -> None:
    new = {**REQUEST, "configuredAudienceModelAssociationName": "renamed", "description": "v2"}
    with stubbed(client) as stubber:
        stubber.add_response(
            "update_configured_audience_model_association",
            {"configuredAudienceModelAssociation": _association(name="renamed")},
            {**IDS, "name": "renamed", "description": "v2"},
        )
        stubber.add_response("untag_resource", {}, {"resourceArn": ARN, "tagKeys": ["old"]})
        stubber.add_response("tag_resource", {}, {"resourceArn": ARN, "tags": {"team": "ads"}})
        _expect_get(stubber, name="renamed")
        result = handler.on_event(
            event(
                "Update",
                TYPE,
                new,
                tags={"team": "ads"},
                old_request=REQUEST,
                old_tags={"old": "x"},
                physical_id=ARN,
            )
        )
    assert result == {"PhysicalResourceId": ARN, "Data": _expected_data(name="renamed")}


def test_removing_the_description_clears_it_in_place(client: Any) -> None:
    new = {k: v for k, v in REQUEST.items() if k != "description"}
    with stubbed(client) as stubber:
        stubber.add_response(
            "update_configured_audience_model_association",
            {"configuredAudienceModelAssociation": _association()},
            {**IDS, "description": ""},
        )
        _expect_get(stubber)
        handler.on_event(event("Update", TYPE, new, old_request=REQUEST, physical_id=ARN))


def test_tag_only_update_changes_tags_and_nothing_else(client: Any) -> None:
    with stubbed(client) as stubber:
        stubber.add_response("tag_resource", {}, {"resourceArn": ARN, "tags": {"v": "2"}})
        _expect_get(stubber)
        handler.on_event(
            event("Update", TYPE, REQUEST, tags={"v": "2"}, old_request=REQUEST, physical_id=ARN)
        )


@pytest.mark.parametrize(
    "change",
    [
        {"manageResourcePolicies": False},
        {"configuredAudienceModelArn": CAM_ARN + "-v2"},
        {"membershipIdentifier": "1f8fad5b-d9cb-469f-a165-70867728950e"},
    ],
)
def test_update_of_an_immutable_field_creates_a_new_association(
    client: Any, change: dict[str, Any]
) -> None:
    # GIVEN a change the update call cannot make (it takes only name and description)
    new = {**REQUEST, **change, "configuredAudienceModelAssociationName": "v2"}
    membership = new["membershipIdentifier"]
    new_arn = (
        f"arn:aws:cleanrooms:{REGION}:{ACCOUNT}:membership/{membership}"
        "/configuredaudiencemodelassociation/22222222-3333-4444-5555-666666666666"
    )
    with stubbed(client) as stubber:
        stubber.add_response(
            LIST,
            {"configuredAudienceModelAssociationSummaries": []},
            {"maxResults": 100, "membershipIdentifier": membership},
        )
        stubber.add_response(
            "create_configured_audience_model_association",
            {"configuredAudienceModelAssociation": {**_association(new_arn), "name": "v2"}},
            {**new, "tags": {OWNER_TAG: _owner("req-2")}},
        )
        # WHEN it is deployed THEN a new association answers (CloudFormation deletes the old)
        result = handler.on_event(
            event("Update", TYPE, new, old_request=REQUEST, physical_id=ARN, request_id="req-2")
        )
    assert result["PhysicalResourceId"] == new_arn


def test_update_after_a_failed_create_creates(client: Any) -> None:
    # GIVEN a first create that failed (the provider framework then sends a non-ARN id)
    with stubbed(client) as stubber:
        stubber.add_response(LIST, {"configuredAudienceModelAssociationSummaries": []}, None)
        stubber.add_response(
            "create_configured_audience_model_association",
            {"configuredAudienceModelAssociation": _association()},
            None,
        )
        result = handler.on_event(
            event("Update", TYPE, REQUEST, old_request=REQUEST, physical_id="failed-create-id")
        )
    assert result["PhysicalResourceId"] == ARN


def test_delete_sends_both_ids_from_the_arn(client: Any) -> None:
    with stubbed(client) as stubber:
        stubber.add_response("delete_configured_audience_model_association", {}, IDS)
        assert handler.on_event(event("Delete", TYPE, REQUEST, physical_id=ARN)) == {
            "PhysicalResourceId": ARN
        }


def test_delete_of_a_missing_association_succeeds(client: Any) -> None:
    with stubbed(client) as stubber:
        client_error(
            stubber,
            "delete_configured_audience_model_association",
            "ResourceNotFoundException",
            "association not found",
            404,
            IDS,
        )
        handler.on_event(event("Delete", TYPE, REQUEST, physical_id=ARN))


@pytest.mark.parametrize(
    "physical_id",
    ["failed-create-id", CAM_ARN, f"arn:aws:cleanrooms:{REGION}:{ACCOUNT}:membership/{MEMBERSHIP}"],
)
def test_delete_of_what_was_never_created_makes_no_call(client: Any, physical_id: str) -> None:
    with stubbed(client):
        assert handler.on_event(event("Delete", TYPE, REQUEST, physical_id=physical_id)) == {
            "PhysicalResourceId": physical_id
        }


def _errors_of(operation: str) -> list[str]:
    model = new_client("cleanrooms").meta.service_model.operation_model(operation)
    return [shape.name for shape in model.error_shapes]


@pytest.mark.parametrize("code", _errors_of("CreateConfiguredAudienceModelAssociation"))
def test_fails_if_create_is_refused(client: Any, code: str) -> None:
    # GIVEN each error the model lists for the create call
    with stubbed(client) as stubber:
        stubber.add_response(LIST, {"configuredAudienceModelAssociationSummaries": []}, None)
        client_error(stubber, "create_configured_audience_model_association", code, "refused")
        # WHEN it is created THEN the FAILED reason names the call, the error and the message
        with pytest.raises(HandlerError) as error:
            handler.on_event(event("Create", TYPE, REQUEST))
    assert f"CreateConfiguredAudienceModelAssociation failed ({code})" in str(error.value)
    assert "refused" in str(error.value)


@pytest.mark.parametrize("code", _errors_of("UpdateConfiguredAudienceModelAssociation"))
def test_fails_if_update_is_refused(client: Any, code: str) -> None:
    new = {**REQUEST, "description": "v2"}
    with stubbed(client) as stubber:
        client_error(stubber, "update_configured_audience_model_association", code, "refused")
        with pytest.raises(
            HandlerError, match=rf"UpdateConfiguredAudienceModelAssociation failed \({code}\)"
        ):
            handler.on_event(event("Update", TYPE, new, old_request=REQUEST, physical_id=ARN))


@pytest.mark.parametrize(
    "code",
    [
        c
        for c in _errors_of("DeleteConfiguredAudienceModelAssociation")
        if c != "ResourceNotFoundException"
    ],
)
def test_fails_if_delete_is_refused(client: Any, code: str) -> None:
    with stubbed(client) as stubber:
        client_error(stubber, "delete_configured_audience_model_association", code, "refused")
        with pytest.raises(HandlerError) as error:
            handler.on_event(event("Delete", TYPE, REQUEST, physical_id=ARN))
    assert f"DeleteConfiguredAudienceModelAssociation failed ({code})" in str(error.value)
    assert ARN in str(error.value)


@pytest.mark.parametrize("code", _errors_of("ListConfiguredAudienceModelAssociations"))
def test_fails_if_the_name_lookup_is_refused(client: Any, code: str) -> None:
    with stubbed(client) as stubber:
        client_error(stubber, LIST, code, "refused")
        with pytest.raises(
            HandlerError, match=rf"ListConfiguredAudienceModelAssociations failed \({code}\)"
        ):
            handler.on_event(event("Create", TYPE, REQUEST))


def test_fails_if_a_property_is_not_of_the_models_type(client: Any) -> None:
    # GIVEN a boolean CloudFormation cannot have meant
    with (
        stubbed(client),
        pytest.raises(HandlerError, match="manageResourcePolicies must be true or false"),
    ):
        handler.on_event(event("Create", TYPE, {**REQUEST, "manageResourcePolicies": "maybe"}))


def test_the_covered_errors_are_the_models() -> None:
    # the matrix above follows the bundled model: a model that lists a new error grows it
    assert set(_errors_of("CreateConfiguredAudienceModelAssociation")) >= {
        "ConflictException",
        "ServiceQuotaExceededException",
        "ResourceNotFoundException",
        "ValidationException",
        "AccessDeniedException",
        "ThrottlingException",
        "InternalServerException",
    }
