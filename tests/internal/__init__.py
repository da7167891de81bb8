"""Tests of constructs_lib/_internal: validation against the service models, tag rules."""
