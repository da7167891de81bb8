"""AWS clients for the handler: the service models bundled in this asset, standard retries.

``AWS_DATA_PATH`` is pointed at ``models/`` (copied from the botocore this repository pins) before
any session exists, so the clients know the current API shape even when the Lambda runtime's
bundled boto3 is older. Throttling and 5xx answers are retried by botocore (standard mode).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

MODELS_DIR = Path(__file__).resolve().parent / "models"
#: Total attempts per call, the first included (botocore standard retry mode).
MAX_ATTEMPTS = 8


def _use_bundled_models() -> None:
    paths = [p for p in os.environ.get("AWS_DATA_PATH", "").split(os.pathsep) if p]
    if str(MODELS_DIR) not in paths:
        os.environ["AWS_DATA_PATH"] = os.pathsep.join([str(MODELS_DIR), *paths])


_use_bundled_models()

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
    connect_timeout=5,
    read_timeout=60,
    user_agent_extra="cleanrooms-ml-cdk-constructs",
)


def new_session() -> boto3.session.Session:
    """A session whose loader searches the bundled models first."""
    _use_bundled_models()
    return boto3.session.Session()


@functools.cache
def client(service: str, region_name: str | None = None) -> Any:
    """A cached client for ``service`` (kept across warm invocations)."""
    return new_session().client(service, region_name=region_name, config=CLIENT_CONFIG)


@functools.cache
def service_model(service: str) -> Any:
    """The bundled model of ``service``: checks requests without a client or a region."""
    _use_bundled_models()
    return botocore.session.get_session().get_service_model(service)
