"""The job-status state machine in pieces: one ``StateMachineFragment`` per part of the
definition, each with one start state and its end states, taking what it connects to (the
shared ``finish`` and ``in_progress`` fragments, the poll) as keyword arguments.

``JobStatusTracker._definition`` (``tracking/job_status.py``) wires them::

    StartTracking ──> PollByKind ──> Get<kind>, StatusCheck / ExportCursor ──> FinishTracking
         │                 ^                         │ (running)
         │                 └──── (wait) ── NextPoll <┘ ──> ContinueAsNew / FinishTracking
         ├──> NextPoll (a continuation resumes waiting)
         └──> BedrockEventPath ──> StatusCheck ──> FinishTracking

- ``constructs_lib._internal.fragment.Fragment`` is the base of every fragment (start state,
  end states), shared with the workflows;
- ``start``: ``StartTracking``; ``poll``: ``PollByKind``; ``export_cursor``: ``ExportCursor``;
  ``check``: ``StatusCheck`` and the outcome states every fragment ends a job with;
  ``next_poll``: ``NextPoll``; ``continue_as_new``: ``ContinueAsNew``; ``event_path``:
  ``BedrockEventPath``; ``finish``: ``FinishTracking``.

A state's name is its construct id, whatever fragment holds it, so names stay unique across
the whole definition. Fragments are built in a fixed order (see ``_definition``): a state lists
the states leading to it in the order they were connected, and that order is the order of the
rendered definition. Like the rest of ``tracking/``, these modules import only
``constructs_lib._internal``, the tracker's own modules, aws_cdk and constructs.
"""
