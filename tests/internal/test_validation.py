"""The shared validators: limits read from botocore's models, tokens skipped, clear errors."""

from __future__ import annotations

import datetime
import re
from typing import Any

import aws_cdk as cdk
import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constructs_lib._internal.validation import (
    ConstructValidationError,
    api_shape,
    check_api_value,
    check_int_range,
)

_SCOPE = cdk.Stack(cdk.App(), "Props")
_ALIAS = (
    botocore.session.get_session()
    .get_service_model("kms")
    .operation_model("CreateAlias")
    .input_shape.members["AliasName"]
    .metadata
)
_ROLE = (
    botocore.session.get_session()
    .get_service_model("iam")
    .operation_model("CreateRole")
    .input_shape.members["RoleName"]
    .metadata
)


def _check(value: object, service: str, operation: str, member: str) -> None:
    check_api_value(_SCOPE, "prop", value, service=service, operation=operation, member=member)


def test_limits_come_from_the_service_model() -> None:
    # GIVEN the shape botocore ships for an API field THEN our view of it is the same object data
    shape = api_shape("kms", "CreateAlias", "AliasName")
    assert shape.metadata["pattern"] == _ALIAS["pattern"]
    assert shape.metadata["max"] == _ALIAS["max"]


def test_nested_members_are_reachable_through_lists() -> None:
    shape = api_shape(
        "cleanroomsml",
        "CreateTrainingDataset",
        "trainingData.inputConfig.dataSource.glueDataSource.tableName",
    )
    assert shape.type_name == "string"
    assert "pattern" in shape.metadata


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.from_regex(re.compile(r"[\w+=,.@-]{1,64}", re.ASCII), fullmatch=True))
def test_valid_role_names_pass(name: str) -> None:
    _check(name, "iam", "CreateRole", "RoleName")


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_any_role_name_passes_or_raises_the_documented_error(name: str) -> None:
    valid = re.fullmatch(_ROLE["pattern"], name) is not None and len(name) <= _ROLE["max"]
    if valid:
        _check(name, "iam", "CreateRole", "RoleName")
        return
    with pytest.raises(ConstructValidationError) as error:
        _check(name, "iam", "CreateRole", "RoleName")
    assert error.value.path == "Props"
    assert error.value.prop == "prop"
    assert error.value.value == name
    assert str(error.value).startswith(f"Props: invalid prop={name!r}: ")


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=-10_000, max_value=10_000), st.integers(0, 100), st.integers(0, 100))
def test_int_range_accepts_exactly_the_bounds(value: int, low: int, span: int) -> None:
    high = low + span
    if low <= value <= high:
        check_int_range(_SCOPE, "days", value, minimum=low, maximum=high)
    else:
        with pytest.raises(ConstructValidationError, match=rf"invalid days={value}: must be"):
            check_int_range(_SCOPE, "days", value, minimum=low, maximum=high)


def test_unresolved_tokens_are_skipped() -> None:
    _check(cdk.Aws.STACK_NAME, "iam", "CreateRole", "RoleName")
    check_int_range(_SCOPE, "days", cdk.Token.as_number(cdk.Aws.ACCOUNT_ID), minimum=1)


def test_fails_if_enum_value_is_unknown() -> None:
    with pytest.raises(ConstructValidationError, match="must be one of ALL, NONE"):
        _check(["SOME"], "cleanroomsml", "CreateConfiguredAudienceModel", "sharedAudienceMetrics")


def test_fails_if_structure_has_unknown_field() -> None:
    with pytest.raises(ConstructValidationError, match="has no field 'nope'"):
        _check({"nope": 1}, "cleanroomsml", "CreateConfiguredAudienceModel", "outputConfig")


def test_fails_if_structure_misses_required_field() -> None:
    with pytest.raises(ConstructValidationError, match="missing the required field 'roleArn'"):
        _check(
            {"destination": {"s3Destination": {"s3Uri": "s3://b/k"}}},
            "cleanroomsml",
            "CreateConfiguredAudienceModel",
            "outputConfig",
        )


def test_fails_if_number_is_out_of_model_range() -> None:
    shape = api_shape("cleanroomsml", "CreateConfiguredAudienceModel", "minMatchingSeedSize")
    with pytest.raises(ConstructValidationError, match=f"must be >= {shape.metadata['min']}"):
        _check(
            shape.metadata["min"] - 1,
            "cleanroomsml",
            "CreateConfiguredAudienceModel",
            "minMatchingSeedSize",
        )


# ---- tag rules, and the handler's parsing of CloudFormation strings --------------------------

_TAG_KEYS = st.text(min_size=0, max_size=140)
_TAG_VALUES = st.text(max_size=300)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_TAG_KEYS, _TAG_VALUES, max_size=55))
def test_tags_pass_exactly_when_they_follow_the_documented_rules(tags: dict[str, str]) -> None:
    from constructs_lib._internal import contract as _contract
    from constructs_lib._internal.custom_resource import check_tags

    valid = (
        len(tags) <= 49
        and all(1 <= len(k) <= 128 and len(v) <= 256 for k, v in tags.items())
        and not any(k.lower().startswith("aws:") or k == _contract.OWNER_TAG for k in tags)
    )
    if valid:
        check_tags(_SCOPE, tags, "CreateAudienceModel")
        return
    with pytest.raises(ConstructValidationError) as error:
        check_tags(_SCOPE, tags, "CreateAudienceModel")
    assert error.value.prop.startswith("tags")
    assert str(error.value).startswith("Props: invalid tags")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_names_pass_or_raise_with_the_model_rule(name: str) -> None:
    meta = api_shape("cleanroomsml", "CreateAudienceModel", "name").metadata
    valid = (
        meta["min"] <= len(name) <= meta["max"]
        and re.fullmatch(meta["pattern"], name, flags=re.DOTALL) is not None
    )
    if valid:
        _check(name, "cleanroomsml", "CreateAudienceModel", "name")
    else:
        with pytest.raises(ConstructValidationError, match=r"^Props: invalid prop="):
            _check(name, "cleanroomsml", "CreateAudienceModel", "name")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(2**40), max_value=2**40))
def test_handler_parses_integers_cloudformation_sent_as_strings(number: int) -> None:
    from cfn_props import parse_value

    shape = api_shape("cleanroomsml", "CreateConfiguredAudienceModel", "minMatchingSeedSize")
    assert parse_value(shape, str(number), "p") == number
    assert parse_value(shape, number, "p") == number


def _outcome(call: Any) -> Any:
    """The value ``call`` returns, or the exception it raises (so both can be asserted on)."""
    try:
        return call()
    except Exception as error:
        return error


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_handler_parsing_of_any_text_returns_a_value_or_a_handler_error(text: str) -> None:
    from cfn_props import parse_value
    from errors import HandlerError

    boolean = api_shape("cleanroomsml", "StartAudienceGenerationJob", "includeSeedInOutput")
    outcome = _outcome(lambda: parse_value(boolean, text, "includeSeedInOutput"))
    assert isinstance(outcome, (bool, HandlerError)), outcome
    assert isinstance(outcome, bool) or "includeSeedInOutput must be true or false" in str(outcome)

    timestamp = api_shape("cleanroomsml", "CreateAudienceModel", "trainingDataStartTime")
    outcome = _outcome(lambda: parse_value(timestamp, text, "start"))
    assert isinstance(outcome, (datetime.datetime, HandlerError)), outcome
    if isinstance(outcome, datetime.datetime):
        assert outcome.tzinfo is not None
    else:
        assert "start must be an ISO 8601 timestamp" in str(outcome)
