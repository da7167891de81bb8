"""Tests of constructs_lib/bedrock: the deploy-time batch inference job."""
