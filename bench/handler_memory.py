"""Peak memory of one handler create call against a Stubber-backed client (printed as JSON)."""

from __future__ import annotations

import json
import os
import resource
import sys
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lambda"))
os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")

import audience_model  # noqa: E402
import clients  # noqa: E402
from botocore.stub import Stubber  # noqa: E402
from lifecycle import parse_props  # noqa: E402

ARN = "arn:aws:cleanrooms-ml:us-east-1:111122223333:audience-model/bench"
DATASET = "arn:aws:cleanrooms-ml:us-east-1:111122223333:training-dataset/bench"

client = clients.new_session().client(
    "cleanroomsml", region_name="us-east-1", config=clients.CLIENT_CONFIG
)
stubber = Stubber(client)
stubber.add_response("list_audience_models", {"audienceModels": []})
stubber.add_response("create_audience_model", {"audienceModelArn": ARN})
stubber.activate()
props = parse_props(
    client,
    "CreateAudienceModel",
    {
        "Request": {
            "name": "bench",
            "trainingDatasetArn": DATASET,
            "trainingDataStartTime": "2024-01-01T00:00:00Z",
        }
    },
    owner="o/r",
    request_id="r",
)
tracemalloc.start()
result = audience_model.on_create(props, client)
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
assert result["PhysicalResourceId"] == ARN
print(
    json.dumps(
        {
            "create_peak_kib": round(peak / 1024, 1),
            "process_max_rss_mib": round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            ),
        }
    )
)
