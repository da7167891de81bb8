"""The shared validators: limits read from botocore's models, tokens skipped, clear errors."""

from __future__ import annotations

import datetime
import re
from typing import Any

import aws_cdk as cdk
import botocore.session
import pytest
from hypothesis import HealthCheck, example, given, settings
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
    # the model's patterns are Java regular expressions: \w is ASCII only (re.ASCII)
    valid = re.fullmatch(_ROLE["pattern"], name, re.ASCII) is not None and len(name) <= _ROLE["max"]
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
@example("\x85")  # NEL: whitespace to Python's Unicode \s, not to Java's
@example("\u00a0")  # NO-BREAK SPACE: the same
@example(" ")  # blank: refused by the pattern's (?!\s*$)
def test_names_pass_or_raise_with_the_model_rule(name: str) -> None:
    meta = api_shape("cleanroomsml", "CreateAudienceModel", "name").metadata
    # The model's patterns are Java regular expressions, whose \s, \w and \d are ASCII only
    # (java.util.regex.Pattern without UNICODE_CHARACTER_CLASS): re.ASCII gives Python the same
    # classes. Without it, Python's \s also matches U+0085 (NEL), and the oracle would refuse
    # the name "\x85" that the service's pattern accepts (hypothesis found it).
    valid = (
        meta["min"] <= len(name) <= meta["max"]
        and re.fullmatch(meta["pattern"], name, flags=re.DOTALL | re.ASCII) is not None
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


# ---- rules in words (issue 14) -------------------------------------------------------------


def _error(value: object, service: str, operation: str, member: str) -> str:
    with pytest.raises(ConstructValidationError) as raised:
        _check(value, service, operation, member)
    return raised.value.rule


def test_fails_if_a_role_arn_is_given_a_name_and_the_message_says_so() -> None:
    # GIVEN a role name where the API wants a role ARN
    rule = _error("MyRole", "cleanroomsml", "CreateConfiguredAudienceModel", "outputConfig.roleArn")
    # THEN the message states the format and guesses the mistake, not "at least 20 characters"
    assert rule == (
        "must be an IAM role ARN (arn:aws:iam::<account>:role/<name>) "
        "(e.g. arn:aws:iam::111122223333:role/CleanRoomsMlRole), got a name?"
    )


def test_fails_if_a_model_id_is_wrong_and_the_message_states_the_rule_not_the_regex() -> None:
    # GIVEN a model id with a space (Bedrock's pattern is 435 characters long)
    rule = _error("claude 3", "bedrock", "CreateModelInvocationJob", "modelId")
    # THEN the rule is in words, with an example, and no pattern is quoted
    assert rule.startswith("must be a Bedrock model id, inference profile id or ARN")
    assert "anthropic.claude-3-haiku" in rule
    assert "[a-z" not in rule


def test_fails_if_a_collaboration_id_is_not_a_uuid() -> None:
    rule = _error("team-a", "cleanroomsml", "StartAudienceGenerationJob", "collaborationId")
    assert rule.startswith("must be a UUID")


def test_fails_if_an_arn_is_of_the_wrong_kind() -> None:
    # GIVEN an S3 bucket ARN where a configured audience model ARN is expected
    rule = _error(
        "arn:aws:s3:::my-bucket",
        "cleanroomsml",
        "StartAudienceGenerationJob",
        "configuredAudienceModelArn",
    )
    # THEN the message names the kind of ARN wanted (and does not guess "a name")
    assert rule.startswith("must be the ARN of a Clean Rooms ML configured audience model")
    assert "got a name" not in rule


def test_no_message_quotes_a_long_pattern() -> None:
    # GIVEN every string field of the operations the library calls, and a value none accepts
    from constructs_lib._internal.rules import MAX_QUOTED_PATTERN

    operations = {
        "cleanroomsml": [
            "CreateAudienceModel",
            "CreateConfiguredAudienceModel",
            "PutConfiguredAudienceModelPolicy",
            "StartAudienceGenerationJob",
            "StartAudienceExportJob",
            "CreateTrainingDataset",
        ],
        "bedrock": ["CreateModelInvocationJob"],
        "iam": ["CreateRole"],
        "stepfunctions": ["CreateStateMachine"],
    }
    checked = 0
    for service, names in operations.items():
        model = botocore.session.get_session().get_service_model(service)
        for name in names:
            for path, shape in _string_members(model.operation_model(name).input_shape, ""):
                if "pattern" not in shape.metadata:
                    continue
                # WHEN a value breaking the pattern is checked (a control character breaks all)
                rule = _rule_or_none("\x00", service, name, path)
                if rule is None:
                    continue
                checked += 1
                # THEN the message never holds a pattern longer than the limit
                pattern = shape.metadata["pattern"]
                assert len(pattern) <= MAX_QUOTED_PATTERN or pattern not in rule, path
    assert checked >= 30


def _rule_or_none(value: object, service: str, operation: str, member: str) -> str | None:
    try:
        _check(value, service, operation, member)
    except ConstructValidationError as error:
        return error.rule
    return None


def _string_members(shape: Any, prefix: str, depth: int = 0) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if depth > 6:
        return found
    if shape.type_name == "list":
        return _string_members(shape.member, prefix, depth + 1)
    if shape.type_name == "structure":
        for key, member in shape.members.items():
            path = f"{prefix}.{key}" if prefix else key
            if member.type_name == "string":
                found.append((path, member))
            else:
                found.extend(_string_members(member, path, depth + 1))
    return found


def test_fails_if_a_literal_field_is_wrong_next_to_a_token() -> None:
    # GIVEN an output config whose role ARN is a token and whose S3 URI is not an S3 URI
    role = cdk.aws_iam.Role(
        cdk.Stack(cdk.App(), "Tokens"),
        "Role",
        assumed_by=cdk.aws_iam.ServicePrincipal("cleanrooms-ml.amazonaws.com"),
    )
    config = {
        "destination": {"s3Destination": {"s3Uri": "https://example.com/out"}},
        "roleArn": role.role_arn,
    }
    # WHEN it is checked THEN the literal field is still checked (the token one is skipped)
    rule = _error(config, "cleanroomsml", "CreateConfiguredAudienceModel", "outputConfig")
    assert rule.startswith("must be an S3 URI")


def test_a_list_token_is_skipped_whole() -> None:
    # GIVEN a list token (its length is only known at deploy time)
    listed = cdk.Token.as_list(cdk.Fn.split(",", cdk.Fn.import_value("Subnets")))
    # THEN it passes even where the model wants at least one item
    _check(listed, "bedrock", "CreateModelInvocationJob", "vpcConfig.subnetIds")
