"""What starting an audience generation job in a collaboration needs, for whichever principal
starts it (the workflow's role, or the handler for a deploy-time job)."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack, Token
from constructs import IConstruct

from . import defaults

#: With a ``collaborationId``, Clean Rooms ML checks the collaboration with the caller's
#: ``cleanrooms:ListMembers``: the AWS managed policy AWSCleanRoomsMLFullAccess grants it with
#: ``aws:CalledVia`` ``cleanrooms-ml.amazonaws.com`` ("Clean Rooms ML calls ListMembers to check
#: that the collaboration is valid"); its required resource type is the collaboration (Service
#: Authorization Reference, https://docs.aws.amazon.com/service-authorization/latest/reference/
#: list_awscleanrooms.html), whose ARN holds the creator's account.
LIST_MEMBERS = "cleanrooms:ListMembers"
CALLED_VIA_CLEAN_ROOMS_ML = {
    "ForAnyValue:StringEquals": {
        "aws:CalledVia": [f"{defaults.CLEAN_ROOMS_ML_ARN_SERVICE}.amazonaws.com"]
    }
}
COLLABORATION_REASON = (
    "Collaborations a run names (collaborationId), created by any member's account; only "
    "through Clean Rooms ML (aws:CalledVia)."
)


def collaboration_arn(scope: IConstruct, collaboration_id: str | None) -> str:
    """``arn:<partition>:cleanrooms:<region>:*:collaboration/<id or *>``."""
    return Stack.of(scope).format_arn(
        service="cleanrooms",
        account="*",
        resource="collaboration",
        resource_name=collaboration_id or "*",
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def model_account_jobs(scope: IConstruct, model_arn: str) -> list[str]:
    """The generation jobs of a configured model's account, when that is another account.

    "there are three IAM Resources for Action StartAudienceGenerationJob: the AWS account A job,
    the AWS account B job, and the AWS account B ConfiguredAudienceModel" ("IAM behaviors for AWS
    Clean Rooms ML", https://docs.aws.amazon.com/clean-rooms/latest/userguide/ml-behaviors.html);
    the model's resource policy allows the other side. A model given as a construct of this app
    (a token) is this account's: none."""
    if Token.is_unresolved(model_arn):
        return []
    parts = model_arn.split(":")
    if len(parts) < 6 or parts[4] == Stack.of(scope).account:
        return []
    # the model's own partition, region and account
    return [":".join([*parts[:5], "audience-generation-job/*"])]
