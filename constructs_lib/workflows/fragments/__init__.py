"""The audience-generation workflow's pieces, one ``StateMachineFragment`` per step, in the order
a run meets them:

- ``check_input``: ``CheckInput`` (a seed-file notification goes to ``hand_over``'s
  ``HandOverSeedFile``; any other input is checked by the handler into the run's plan);
- ``start_generation``: ``StartGeneration`` (``StartAudienceGenerationJob``);
- ``track_job``: ``TrackJob`` (a nested execution of the job-status tracker, its failure read
  into the run's outcome), used for the generation job and each export;
- ``export_sizes``: ``ExportSizes`` (the export Map);
- ``run_batch_inference``: ``RunBatchInference`` (a nested run of a ``BatchInferenceWorkflow``);
- ``publish_outcome``: ``PublishOutcome`` (the end event, then success or failure) and
  ``end_run`` / ``catch_call``, which route a step's end to it.

Each takes what it connects to (the ``PublishOutcome`` fragment, the tracker, ...) as keyword
arguments; its docstring names its start state, its ends and what it reads and leaves in the
state. State names are the states' construct ids, so they stay unique across fragments.

May import: ``constructs_lib._internal``, ``foundation``, ``tracking``, ``cleanrooms_ml``,
``bedrock``, the workflow's ``props`` and aws_cdk. Never ``composition``.
"""
