"""The training quota: a stack's audience models queue so that at most N train at once.

AWS fact relied on: "AWS Clean Rooms ML quotas", quota "Pending/in progress audience models per
customer", default "Each supported Region: 2" ("Maximum number of pending/in progress audience
model training jobs per customer"),
https://docs.aws.amazon.com/clean-rooms/latest/userguide/clean-rooms-ml-quotas.html
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match

from constructs_lib import AudienceModel, ConstructValidationError
from constructs_lib._internal import contract as _contract
from constructs_lib.cleanrooms_ml._training_queue import ABOVE_DEFAULT_QUOTA_WARNING
from tests.conftest import Synthesized, assert_cfn_lint_clean, synth_stack

DATASET_ARN = "arn:aws:cleanrooms-ml:us-east-1:111122223333:training-dataset/d-1"
IMPORTED_ARN = "arn:aws:cleanrooms-ml:us-east-1:111122223333:audience-model/imported"
MODELS = [f"Model{i}" for i in range(1, 6)]
WAIT_CONDITION = "AWS::CloudFormation::WaitCondition"


def _five_models(max_concurrent: int | None) -> Callable[[cdk.Stack], None]:
    def build(stack: cdk.Stack) -> None:
        if max_concurrent is not None:
            AudienceModel.set_max_concurrent_training(stack, max_concurrent)
        for i, name in enumerate(MODELS):
            AudienceModel(stack, name, training_dataset=DATASET_ARN)
            if i == 1:  # an imported model between the models does not take a place
                AudienceModel.from_audience_model_arn(stack, "Imported", IMPORTED_ARN)

    return build


@pytest.fixture(scope="module")
def default_queue(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # GIVEN 5 audience models in one stack and the default limit, WHEN synthesized through the
    # cdk-nag gate (four packs)
    return synth_stack(tmp_path_factory.mktemp("queue-2"), _five_models(None))


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    # GIVEN the same 5 models with at most 1 in training, WHEN synthesized through the gate
    return synth_stack(tmp_path_factory.mktemp("queue-1"), _five_models(1))


# ---- reading the template -------------------------------------------------------------------


def _model_ids(resources: dict[str, Any]) -> list[str]:
    """Logical ids of Model1..Model5, in declaration order."""
    ids = []
    for name in MODELS:
        [found] = [
            k
            for k, r in resources.items()
            if r["Type"] == _contract.AUDIENCE_MODEL and re.fullmatch(f"{name}[0-9A-F]{{8}}", k)
        ]
        ids.append(found)
    return ids


def _ready_of(resources: dict[str, Any], model_id: str) -> str | None:
    """The WaitCondition signalled for ``model_id`` (its handle is the model's SignalUrl)."""
    signal_url = resources[model_id]["Properties"].get(_contract.SIGNAL_URL_PROPERTY)
    if signal_url is None:
        return None
    [ready] = [
        k
        for k, r in resources.items()
        if r["Type"] == WAIT_CONDITION and r["Properties"]["Handle"] == signal_url
    ]
    return ready


def _references(value: Any) -> Iterator[str]:
    """Logical ids that ``value`` refers to (Ref, Fn::GetAtt), which CloudFormation orders by."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                yield item
            elif key == "Fn::GetAtt":
                yield item[0] if isinstance(item, list) else item.split(".")[0]
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _prerequisites(resources: dict[str, Any], logical_id: str) -> set[str]:
    """Everything CloudFormation creates before ``logical_id`` (DependsOn and references,
    transitively)."""
    seen: set[str] = set()
    todo = [logical_id]
    while todo:
        resource = resources[todo.pop()]
        depends_on = resource.get("DependsOn", [])
        direct = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        direct |= {r for r in _references(resource.get("Properties", {})) if r in resources}
        todo += [d for d in direct - seen]
        seen |= direct
    return seen


def _max_in_training_at_once(resources: dict[str, Any]) -> int:
    """The largest set of models none of which waits for another's training to end.

    Model ``a`` is trained before ``b`` starts iff ``a``'s ready WaitCondition is among ``b``'s
    prerequisites. Models pairwise unordered that way may train together: the answer is the
    longest antichain of that order (brute force over subsets; 5 models).
    """
    models = [k for k, r in resources.items() if r["Type"] == _contract.AUDIENCE_MODEL]
    prerequisites = {m: _prerequisites(resources, m) for m in models}
    ready = {m: _ready_of(resources, m) for m in models}

    def ordered(a: str, b: str) -> bool:
        return ready[a] in prerequisites[b] or ready[b] in prerequisites[a]

    return max(
        size
        for size in range(1, len(models) + 1)
        for group in itertools.combinations(models, size)
        if not any(ordered(a, b) for a, b in itertools.combinations(group, 2))
    )


def _queue_dependencies(resources: dict[str, Any], model_id: str) -> set[str]:
    """The WaitConditions a model's resource depends on directly."""
    depends_on = resources[model_id].get("DependsOn", [])
    return {d for d in depends_on if resources[d]["Type"] == WAIT_CONDITION}


# ---- the queue ------------------------------------------------------------------------------


def test_models_three_to_five_wait_for_models_one_to_three(default_queue: Synthesized) -> None:
    resources = default_queue.raw["Resources"]
    ids = _model_ids(resources)
    # THEN models 1 and 2 start at once: no WaitCondition among their dependencies
    assert _queue_dependencies(resources, ids[0]) == set()
    assert _queue_dependencies(resources, ids[1]) == set()
    # AND model k (k = 3, 4, 5) depends on the ready WaitCondition of model k - 2
    for k in (2, 3, 4):
        earlier_ready = _ready_of(resources, ids[k - 2])
        assert earlier_ready is not None
        assert _queue_dependencies(resources, ids[k]) == {earlier_ready}
    # AND only models that something waits for get a WaitCondition (models 4 and 5 do not)
    assert [_ready_of(resources, i) is not None for i in ids] == [True, True, True, False, False]


def test_at_most_two_models_can_train_at_once(default_queue: Synthesized) -> None:
    # THEN no 3 models are free of readiness ordering between them
    assert _max_in_training_at_once(default_queue.raw["Resources"]) == 2


def test_a_limit_of_one_chains_the_models(chain: Synthesized) -> None:
    resources = chain.raw["Resources"]
    ids = _model_ids(resources)
    # THEN model 1 starts at once and every later model waits for the one before it
    assert _queue_dependencies(resources, ids[0]) == set()
    for k in range(1, 5):
        assert _queue_dependencies(resources, ids[k]) == {_ready_of(resources, ids[k - 1])}
    assert _max_in_training_at_once(resources) == 1


def test_queued_stacks_pass_cfn_lint(default_queue: Synthesized, chain: Synthesized) -> None:
    # THEN both templates (already through the cdk-nag gate) are cfn-lint clean
    assert_cfn_lint_clean(default_queue.outdir)
    assert_cfn_lint_clean(chain.outdir)


def test_two_models_are_not_queued() -> None:
    # GIVEN two models (the default limit) WHEN synthesized
    stack = cdk.Stack(cdk.App(), "Two")
    AudienceModel(stack, "A", training_dataset=DATASET_ARN)
    AudienceModel(stack, "B", training_dataset=DATASET_ARN)
    resources = cdk.assertions.Template.from_stack(stack).to_json()["Resources"]
    # THEN nothing waits and no WaitCondition is added: such templates are unchanged
    assert not [r for r in resources.values() if r["Type"] == WAIT_CONDITION]


def test_each_stack_has_its_own_queue() -> None:
    # GIVEN two models in each of two stacks of one app
    app = cdk.App()
    stacks = [cdk.Stack(app, "One"), cdk.Stack(app, "Two")]
    for stack in stacks:
        AudienceModel(stack, "A", training_dataset=DATASET_ARN)
        AudienceModel(stack, "B", training_dataset=DATASET_ARN)
    # THEN no model of either stack waits: the quota is per account, but the queue per stack
    for stack in stacks:
        resources = cdk.assertions.Template.from_stack(stack).to_json()["Resources"]
        assert not [r for r in resources.values() if r["Type"] == WAIT_CONDITION]


def test_a_limit_above_the_default_quota_warns(tmp_path: Path) -> None:
    # GIVEN a stack allowing 3 models in training (a raised quota)
    stack = cdk.Stack(cdk.App(), "Raised")
    AudienceModel.set_max_concurrent_training(stack, 3)
    for name in MODELS:
        AudienceModel(stack, name, training_dataset=DATASET_ARN)
    # THEN synth warns that the default quota is 2, and the 4th model waits for the 1st
    Annotations.from_stack(stack).has_warning(
        "/Raised/AudienceModelTrainingQueue", Match.string_like_regexp("default quota of 2")
    )
    assert ABOVE_DEFAULT_QUOTA_WARNING.startswith("cleanrooms-ml-cdk:")
    resources = cdk.assertions.Template.from_stack(stack).to_json()["Resources"]
    ids = _model_ids(resources)
    assert _queue_dependencies(resources, ids[3]) == {_ready_of(resources, ids[0])}
    assert _max_in_training_at_once(resources) == 3


def test_setting_the_same_limit_again_is_allowed(stack: cdk.Stack) -> None:
    # GIVEN a model queued under the limit 1, WHEN the same limit is set again, THEN no error
    AudienceModel.set_max_concurrent_training(stack, 1)
    AudienceModel(stack, "A", training_dataset=DATASET_ARN)
    AudienceModel.set_max_concurrent_training(stack, 1)


# ---- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "rule"), [(0, "must be >= 1"), (1.5, "must be an integer")])
def test_fails_if_max_concurrent_training_is_not_a_positive_integer(
    stack: cdk.Stack, value: Any, rule: str
) -> None:
    # GIVEN a limit below 1 or not an integer WHEN set THEN synth fails naming path and rule
    with pytest.raises(ConstructValidationError) as error:
        AudienceModel.set_max_concurrent_training(stack, value)
    assert str(error.value) == (
        f"Scratch/AudienceModelTrainingQueue: invalid max_concurrent_training={value!r}: {rule}"
    )


def test_fails_if_max_concurrent_training_is_a_token(stack: cdk.Stack) -> None:
    # GIVEN a limit known only at deploy time WHEN set THEN synth fails: it shapes the template
    token = cast(int, cdk.Token.as_number(cdk.Fn.ref("Limit")))
    with pytest.raises(ConstructValidationError, match="must be a number known at synth"):
        AudienceModel.set_max_concurrent_training(stack, token)


def test_fails_if_max_concurrent_training_changes_after_a_model(stack: cdk.Stack) -> None:
    # GIVEN a model already queued under the default limit
    AudienceModel(stack, "A", training_dataset=DATASET_ARN)
    # WHEN the limit is changed THEN synth fails, saying to set it first
    with pytest.raises(ConstructValidationError) as error:
        AudienceModel.set_max_concurrent_training(stack, 1)
    assert error.value.path == "Scratch/AudienceModelTrainingQueue"
    assert error.value.prop == "max_concurrent_training"
    assert error.value.value == 1
    assert "before the stack's first AudienceModel" in error.value.rule
    assert "max_concurrent_training=2" in error.value.rule
