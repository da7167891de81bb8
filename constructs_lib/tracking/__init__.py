"""The job-status tracker: one Standard state machine per stack that polls every long-running
job the library starts until it ends, publishes the outcome and signals WaitConditions.

- ``job_status``: the ``JobStatusTracker`` construct (role, grants, alarm, rule, and the wiring
  of the definition), ``state_machine_arn_of``;
- ``schedule``: the poll schedule and the history-event and transition budgets (standard
  library only, no CDK: the benchmark and the tests compute with it);
- ``kinds``: the job kinds, the outcomes and the outcome event's names (pure data);
- ``fragments/``: the definition in pieces, one state-machine fragment each;
- ``permissions``: the state machine's grants; ``bedrock_rule``: the Bedrock end-event rule.

This layer sits below the objects that start jobs. It may import only ``constructs_lib._internal``
and aws_cdk/constructs; nothing from ``foundation``, ``cleanrooms_ml``, ``bedrock``,
``workflows`` or ``composition`` (``tests/checks/test_layers.py`` holds the rule).
"""
