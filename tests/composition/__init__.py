"""Tests of constructs_lib/composition: the pipeline construct and its monitoring."""
