"""``audiences``: the command line of day-2 operation for what this library deploys.

Find the pipelines a stack's outputs describe, start a run with its input checked locally by
the workflow's own checker, follow it, and read why it ended and where its audience is. Run
``audiences --help`` (or ``python -m constructs_lib.cli --help``).

The CLI uses the standard library and botocore only (``rich`` if installed, for the live
display): it never imports ``aws_cdk``, ``constructs`` or ``jsii``, so it starts fast.
"""
