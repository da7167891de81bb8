"""Compositions of the layers below: the whole lookalike-audience pipeline in one construct
(``pipeline``) and its alarms and dashboard (``monitoring``).

May import: every layer below (``_internal``, ``foundation``, ``tracking``, ``cleanrooms_ml``,
``bedrock``, ``workflows``) and aws_cdk.
"""
