"""The pipeline's checks of what it hands to the parts it creates, on the pipeline itself, so
that an error names the pipeline's own property rather than a child's."""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from .._internal import defaults
from .._internal.custom_resource import RoleLike, check_role_trusts, role_arn_of
from .._internal.validation import check_api_value, check_disjoint_prefixes, check_prefix, fail
from ..cleanrooms_ml.configured_audience_model import AudienceSizeType
from ..foundation.encryption_key import check_alias
from ..workflows.props import AudienceExportSize, check_export_sizes_match


def check_handed_down(
    scope: Construct,
    *,
    seed_prefix: str,
    output_prefix: str,
    batch_prefixes: tuple[str, str, str] | None,
    key_alias: str | None,
    audience_size_type: AudienceSizeType,
    audience_size_bins: Sequence[int],
    cleanrooms_ml_role: RoleLike | None,
    export_sizes: Sequence[AudienceExportSize] | None,
) -> None:
    """What the pipeline hands to the parts it creates, checked on the pipeline, so that an
    error names the pipeline's own property rather than a child's."""
    check_locations(scope, seed_prefix, output_prefix, batch_prefixes)
    check_alias(scope, "key_alias", key_alias)
    check_api_value(
        scope,
        "audience_size_bins",
        list(audience_size_bins),
        service="cleanroomsml",
        operation="CreateConfiguredAudienceModel",
        member="audienceSizeConfig.audienceSizeBins",
    )
    if cleanrooms_ml_role is not None:
        check_role_trusts(
            scope, "cleanrooms_ml_role", cleanrooms_ml_role, defaults.CLEAN_ROOMS_ML_PRINCIPAL
        )
        check_api_value(
            scope,
            "cleanrooms_ml_role",
            role_arn_of(cleanrooms_ml_role),
            service="cleanroomsml",
            operation="CreateConfiguredAudienceModel",
            member="outputConfig.roleArn",
        )
    if export_sizes is not None:  # the pipeline creates the configured model: its sizes known
        check_export_sizes_match(scope, export_sizes, audience_size_type, audience_size_bins)


def check_locations(
    scope: Construct,
    seed_prefix: str,
    output_prefix: str,
    batch_prefixes: tuple[str, str, str] | None,
) -> None:
    """The pipeline's folders in its one bucket: plain folders, none inside another."""
    locations = [("seed_prefix", seed_prefix), ("output_prefix", output_prefix)]
    if batch_prefixes is not None:  # a Bedrock step in the pipeline's own bucket
        locations += [
            ("batch_inference.input_prefix", batch_prefixes[0]),
            ("batch_inference.shard_prefix", batch_prefixes[1]),
            ("batch_inference.output_prefix", batch_prefixes[2]),
        ]
    for prop, prefix in locations:
        check_prefix(scope, prop, prefix)
        if prefix == "":
            raise fail(
                scope,
                prop,
                prefix,
                "must be a folder such as 'seeds/': the pipeline keeps seeds, audiences "
                "and Bedrock files apart in one bucket",
            )
    check_disjoint_prefixes(scope, [(prop, "bucket", prefix) for prop, prefix in locations])
