"""A burst of seed files queues for Clean Rooms ML's quota instead of failing (issue 11)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.burst_support import BurstResult, build_burst_stack, simulate_burst
from tests.conftest import synth_stack


@pytest.fixture(scope="module")
def burst(tmp_path_factory: pytest.TempPathFactory) -> BurstResult:
    # GIVEN the workflow as synthesized, and a Clean Rooms ML that refuses a start with
    # ServiceQuotaExceededException whenever 10 generation jobs are in flight (each for 2 s,
    # none ending before a first start was refused)
    template = synth_stack(tmp_path_factory.mktemp("burst"), build_burst_stack).raw
    # WHEN 100 seed files land at once (retry back-off slept at 1/100 of its length)
    return simulate_burst(template, files=100, quota=10, job_seconds=2.0, backoff_scale=0.01)


def test_every_run_of_a_burst_succeeds(burst: BurstResult) -> None:
    # THEN all 100 runs succeed
    assert len(burst.statuses) == 100
    assert Counter(burst.statuses.values()) == {"SUCCEEDED": 100}


def test_each_job_is_started_once_and_never_more_than_the_quota_in_flight(
    burst: BurstResult,
) -> None:
    # THEN each run's job was started once, and the service never had more than 10 in flight
    assert len(burst.starts_by_name) == 100
    assert set(burst.starts_by_name.values()) == {1}
    assert burst.max_in_flight == 10


def test_refused_starts_were_retried_with_jittered_minutes(burst: BurstResult) -> None:
    # THEN starts were refused (the quota bit) and retried: quota back-off starts at up to
    # 60 s and grows to at most 900 s, with full jitter (a random part of it)
    assert burst.refused > 0
    assert sum(burst.retries_by_run) == burst.refused
    assert max(burst.backoffs) <= 900
    assert len(set(burst.backoffs)) > 1
