"""What the handler's clients do on the wire: botocore's own retries for throttling and 5xx,
and the service model bundled in the asset (not the runtime's)."""

from __future__ import annotations

import json
from pathlib import Path

import botocore
import clients
import lifecycle
import pytest
from audience_model import KIND
from errors import HandlerError

from tests.handler_support import DATASET_ARN, MODEL_ARN, Wire, new_client

PROPS = lifecycle.Props(request={"name": "m", "trainingDatasetArn": DATASET_ARN}, owner="o/r")
THROTTLED = (400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
UNAVAILABLE = (503, {"__type": "ServiceUnavailable", "message": "try again"})
EMPTY_LIST = (200, {"audienceModels": []})
CREATED = (200, {"audienceModelArn": MODEL_ARN})


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record botocore's retry back-off instead of sleeping through it."""
    recorded: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", recorded.append)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return recorded


def test_throttling_is_retried_by_botocore_then_succeeds(sleeps: list[float]) -> None:
    client = new_client()
    wire = Wire(client, [EMPTY_LIST, THROTTLED, THROTTLED, CREATED])
    assert lifecycle.create_or_adopt(client, KIND, PROPS) == MODEL_ARN
    assert len(wire.requests) == 4
    assert len(sleeps) == 2  # one back-off per retried throttle


def test_server_errors_are_retried_then_succeed(sleeps: list[float]) -> None:
    client = new_client()
    wire = Wire(client, [UNAVAILABLE, EMPTY_LIST, CREATED])
    assert lifecycle.create_or_adopt(client, KIND, PROPS) == MODEL_ARN
    assert len(wire.requests) == 3


def test_fails_if_throttling_outlasts_every_retry(sleeps: list[float]) -> None:
    client = new_client()
    wire = Wire(client, [EMPTY_LIST] + [THROTTLED] * clients.MAX_ATTEMPTS)
    with pytest.raises(HandlerError) as error:
        lifecycle.create_or_adopt(client, KIND, PROPS)
    assert len(wire.requests) == 1 + clients.MAX_ATTEMPTS
    assert "CreateAudienceModel failed (ThrottlingException)" in str(error.value)
    assert "Rate exceeded" in str(error.value)


def test_access_denied_is_not_retried(sleeps: list[float]) -> None:
    client = new_client()
    wire = Wire(client, [EMPTY_LIST, (403, {"__type": "AccessDeniedException", "message": "no"})])
    with pytest.raises(HandlerError, match="AccessDeniedException"):
        lifecycle.create_or_adopt(client, KIND, PROPS)
    assert len(wire.requests) == 2
    assert sleeps == []


@pytest.mark.parametrize("service", ["cleanroomsml", "cleanrooms", "bedrock"])
def test_clients_load_the_model_bundled_in_the_asset(service: str) -> None:
    # GIVEN the handler's session WHEN it loads the service model THEN it reads lambda/models
    loader = clients.new_session()._session.get_component("data_loader")
    version = loader.determine_latest_version(service, "service-2")
    _, path = loader.load_data_with_path(f"{service}/{version}/service-2")
    assert Path(path).resolve().is_relative_to(clients.MODELS_DIR)


def test_bundled_model_knows_fields_an_older_runtime_may_lack() -> None:
    shape = new_client().meta.service_model.operation_model("StartAudienceGenerationJob")
    seed = shape.input_shape.members["seedAudience"]
    assert "sqlParameters" in seed.members
    assert "sqlComputeConfiguration" in seed.members


@pytest.mark.parametrize("service", ["cleanroomsml", "cleanrooms", "bedrock"])
def test_bundled_models_match_the_pinned_botocore(service: str) -> None:
    # a botocore bump without `make models` fails here
    import gzip

    data = Path(botocore.__file__).parent / "data" / service
    [version] = sorted(p.name for p in data.iterdir())[-1:]
    for name in ("service-2.json", "endpoint-rule-set-1.json", "paginators-1.json"):
        pinned = data / version / name
        raw = (
            pinned.read_bytes()
            if pinned.exists()
            else gzip.decompress((data / version / f"{name}.gz").read_bytes())
        )
        shipped = clients.MODELS_DIR / service / version / name
        assert json.loads(shipped.read_bytes()) == json.loads(raw), shipped
