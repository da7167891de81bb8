"""The Clean Rooms ML objects: training dataset (the CloudFormation L1), audience model (with the
training queue that keeps concurrent trainings under the quota), configured audience model and its
policy, and the deploy-time audience generation job. All but the dataset are custom resources on
the stack's one provider; the asynchronous ones are followed by the job-status tracker.

May import: ``constructs_lib._internal``, ``foundation``, ``tracking`` and aws_cdk.
"""
