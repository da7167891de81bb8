"""Amazon Bedrock: the deploy-time batch inference job (a custom resource followed by the
job-status tracker) and its model-invocation grants.

May import: ``constructs_lib._internal``, ``foundation``, ``tracking`` and aws_cdk.
"""
