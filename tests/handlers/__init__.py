"""Tests of the handler asset (lambda/) against botocore Stubber clients."""
