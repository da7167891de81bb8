"""The batch inference workflow's state-machine pieces: the run of one shard (create, track,
retry) and the definition that chains the input check, the split, the shards and the results.

May import: ``constructs_lib._internal``, ``foundation``, ``tracking``, ``bedrock``, the
workflows' own fragments, and aws_cdk.
"""
