"""A per-stack queue of audience model trainings: at most N models of a stack train at once.

AWS Clean Rooms ML allows 2 audience models per account to be pending or in progress (training)
at a time, by default; one more ``CreateAudienceModel`` is refused with
``ServiceQuotaExceededException``, which fails the deploy. So the stack's audience models are
ordered at synth: in declaration order, model ``k`` is created only once model ``k - N`` is
trained (it depends on that model's ``ready`` WaitCondition). Models ``k`` and ``k - N`` are never
in training together, so of any ``N + 1`` models two are ordered and at most ``N`` train at once.

Source: "AWS Clean Rooms ML quotas", quota "Pending/in progress audience models per customer",
default "Each supported Region: 2" ("Maximum number of pending/in progress audience model training
jobs per customer"),
https://docs.aws.amazon.com/clean-rooms/latest/userguide/clean-rooms-ml-quotas.html
"""

from __future__ import annotations

from typing import Protocol

from aws_cdk import Annotations
from constructs import Construct, IConstruct

from .._internal.provider import stack_singleton
from .._internal.validation import check_int_range, fail, is_unresolved

#: "AWS Clean Rooms ML quotas": "Pending/in progress audience models per customer", default
#: "Each supported Region: 2",
#: https://docs.aws.amazon.com/clean-rooms/latest/userguide/clean-rooms-ml-quotas.html
DEFAULT_MAX_CONCURRENT_TRAINING = 2
QUEUE_ID = "AudienceModelTrainingQueue"
PROPERTY = "max_concurrent_training"
#: Id of the synth warning for a limit above the documented default quota (acknowledgeable).
ABOVE_DEFAULT_QUOTA_WARNING = "cleanrooms-ml-cdk:trainingAboveDefaultQuota"

_CACHE_ATTRIBUTE = "_cleanrooms_ml_cdk_training_queue"


class QueuedModel(Protocol):
    """What the queue needs of an audience model: its resource and its readiness gate."""

    @property
    def resource(self) -> IConstruct: ...

    @property
    def ready(self) -> IConstruct: ...


class TrainingQueue(Construct):
    """The stack's audience models in declaration order, and how many may train at once.

    Holds no resources: it only adds dependencies between the stack's models. Created on first
    use; imported models (``AudienceModel.from_audience_model_arn``) are not queued.
    """

    @classmethod
    def of(cls, scope: IConstruct) -> TrainingQueue:
        """The queue of ``scope``'s stack, created with the default limit on first use."""
        return stack_singleton(scope, cls, QUEUE_ID, _CACHE_ATTRIBUTE)

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self._max_concurrent = DEFAULT_MAX_CONCURRENT_TRAINING
        self._models: list[QueuedModel] = []

    @property
    def max_concurrent(self) -> int:
        """How many of the stack's audience models may train at once."""
        return self._max_concurrent

    def configure(self, max_concurrent: int) -> None:
        """Set the limit; only before the stack's first audience model is declared (each model
        takes its place in the queue when it is declared)."""
        if is_unresolved(max_concurrent):
            raise fail(
                self, PROPERTY, max_concurrent, "must be a number known at synth, not a token"
            )
        check_int_range(self, PROPERTY, max_concurrent, minimum=1)
        if max_concurrent == self._max_concurrent:
            return
        if self._models:
            raise fail(
                self,
                PROPERTY,
                max_concurrent,
                f"must be set before the stack's first AudienceModel is declared "
                f"({len(self._models)} already queued with {PROPERTY}={self._max_concurrent})",
            )
        self._max_concurrent = max_concurrent
        if max_concurrent > DEFAULT_MAX_CONCURRENT_TRAINING:
            Annotations.of(self).add_warning_v2(
                ABOVE_DEFAULT_QUOTA_WARNING,
                f"{PROPERTY}={max_concurrent} is above Clean Rooms ML's default quota of "
                f"{DEFAULT_MAX_CONCURRENT_TRAINING} audience models in training per account and "
                'Region ("Pending/in progress audience models per customer", '
                "https://docs.aws.amazon.com/clean-rooms/latest/userguide/"
                "clean-rooms-ml-quotas.html): raise the quota first, or the deploy fails with "
                "ServiceQuotaExceededException.",
            )

    def enqueue(self, model: QueuedModel) -> None:
        """Queue ``model`` behind the model declared ``max_concurrent`` places before it: its
        resource is created only once that model's ``ready`` WaitCondition completes."""
        self._models.append(model)
        if len(self._models) > self._max_concurrent:
            model.resource.node.add_dependency(self._models[-1 - self._max_concurrent].ready)
