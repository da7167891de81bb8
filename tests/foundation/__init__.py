"""Tests of constructs_lib/foundation: key, seed bucket, service roles."""
