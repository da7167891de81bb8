"""Tests of constructs_lib/tracking: the job-status tracker, its fragments and schedule."""
