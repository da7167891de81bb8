"""Internals every layer shares; nothing here is public API.

- ``validation``: synth-time checks against the bundled botocore service models, and the error
  that names the construct path, the property, the value and the rule.
- ``provider`` / ``custom_resource``: the stack's one handler Lambda and provider framework, and
  the custom-resource plumbing every Clean Rooms ML and Bedrock object uses.
- ``contract``: names shared with the handler asset in ``lambda/``.
- ``state_machines``: retry and quota policies, nested-failure reading, logged state machines and
  EventBridge rules with their own roles, shared by the tracker and the workflows.
- ``service_role``, ``permissions``, ``nag``, ``defaults``: secure defaults defined once.
- ``bedrock_models``: which ARNs a Bedrock model id (model, inference profile) stands for.

May import: aws_cdk, constructs, botocore (service models only). Nothing else of the library.
"""
