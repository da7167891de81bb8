"""Foundations a pipeline stands on: the customer-managed key (``encryption_key``, with the key
statements services need in ``_key_policy``), the seed bucket, the Clean Rooms ML and Bedrock
service roles, and the compliance checks (the four cdk-nag packs).

May import: ``constructs_lib._internal`` and aws_cdk. Nothing from the layers above.
"""
