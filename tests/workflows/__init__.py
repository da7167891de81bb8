"""Tests of constructs_lib/workflows: the audience-generation workflow, its paths and quotas."""
