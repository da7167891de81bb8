"""Workflows: state machines users start at run time, without a deploy.

- ``audience_generation_workflow``: ``AudienceGenerationWorkflow``, the construct, wiring the
  pieces below together (it also re-exports the names of ``props``);
- ``props``: ``AudienceExportSize``, the outcome and event names, the
  quotas, and the synth-time checks of the workflow's properties;
- ``definition``: the workflow's definition, its ``fragments`` chained in the order a run meets
  them;
- ``fragments``: one state-machine fragment per step (check input, start generation, track a
  job, export sizes, a nested batch inference run, publish the outcome);
- ``batch_inference_workflow``: ``BatchInferenceWorkflow``, Bedrock batch inference for inputs
  of any size (also the audience workflow's Bedrock step), with its pieces in ``batch``
  (the definition, one shard's run, the jobs' spec);
- ``permissions``: the statements of the workflow role's managed policy;
- ``seed_trigger``: the EventBridge rule that starts a run when a seed file lands.

May import: ``constructs_lib._internal``, ``foundation``, ``tracking``, ``cleanrooms_ml``,
``bedrock`` and aws_cdk. Never ``composition`` (it builds on this layer).
"""
