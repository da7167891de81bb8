"""Bedrock's per-model limits on batch inference jobs, as the library applies them.

AWS sets them per model as Service Quotas ("Format and upload your batch inference data",
https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-data.html, names "Minimum
number of records per batch inference job", "Records per batch inference job", "Records per input
file per batch inference job", "Batch inference input file size" and "Batch inference job size";
the quotas page, https://docs.aws.amazon.com/bedrock/latest/userguide/quotas.html, points to the
Service Quotas console for the values, e.g. "Records per batch inference job for Claude 3 Haiku").
AWS's pages state no default value in text, so the defaults below are the commonly published
ones (100 records minimum, 50,000 records, 1 GB per file, 5 GB per job) and every one is a prop:
read your account's values in Service Quotas (``aws service-quotas list-service-quotas
--service-code bedrock``) and pass them per model.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import IConstruct

from .._internal.validation import fail

GIB = 1024**3


@dataclass(frozen=True)
class BatchLimits:
    """The limits one model's batch jobs must respect; each shard of a run is one job.

    :param min_records_per_job:
        Bedrock refuses a job with fewer records ("Minimum number of records per
        batch inference job for <model>"); a run with fewer records in all ends as
        TOO_FEW_RECORDS. Default: 100.
    :param max_records_per_job:
        records in one job ("Records per batch inference job for <model>"). Default:
        50,000.
    :param max_bytes_per_file:
        one input file ("Batch inference input file size"); each shard is one file.
        Default: 1 GiB.
    :param max_bytes_per_job:
        all of a job's files ("Batch inference job size"). Default: 5 GiB.
    """

    min_records_per_job: int = 100
    max_records_per_job: int = 50_000
    max_bytes_per_file: int = GIB
    max_bytes_per_job: int = 5 * GIB

    def check(self, scope: IConstruct, prop: str) -> None:
        """Each limit a positive integer, the minimum not above the maximum."""
        for name in (
            "min_records_per_job",
            "max_records_per_job",
            "max_bytes_per_file",
            "max_bytes_per_job",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise fail(scope, f"{prop}.{name}", value, "must be a positive integer")
        if self.min_records_per_job > self.max_records_per_job:
            raise fail(
                scope,
                f"{prop}.min_records_per_job",
                self.min_records_per_job,
                f"must not exceed max_records_per_job ({self.max_records_per_job})",
            )

    def as_settings(self) -> dict[str, int]:
        """The limits as the handler's split reads them (one shard is one file and one job, so
        a shard's bytes are bounded by the smaller byte limit)."""
        return {
            "minRecordsPerJob": self.min_records_per_job,
            "maxRecordsPerJob": self.max_records_per_job,
            "maxBytesPerFile": min(self.max_bytes_per_file, self.max_bytes_per_job),
            "maxBytesPerJob": self.max_bytes_per_job,
        }
