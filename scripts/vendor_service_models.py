"""Copy the pinned botocore's service models into the handler asset (lambda/models/).

The Lambda runtime's bundled boto3 can lag behind the API (a newer field such as
``sqlParameters`` would be rejected client-side). The handler points ``AWS_DATA_PATH`` at
``lambda/models`` so its clients use exactly the model this repository pins; a test fails when
the copy and the pinned botocore disagree. Run ``make models`` after bumping botocore.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import botocore

SERVICES = ("cleanroomsml", "cleanrooms", "bedrock")
FILES = ("service-2.json", "endpoint-rule-set-1.json", "paginators-1.json")
TARGET = Path(__file__).resolve().parent.parent / "lambda" / "models"


def source_files() -> dict[Path, bytes]:
    """Relative path -> content of every model file we ship, read from the pinned botocore."""
    data = Path(botocore.__file__).parent / "data"
    found: dict[Path, bytes] = {}
    for service in SERVICES:
        [version_dir] = sorted((data / service).iterdir())[-1:]
        for name in FILES:
            plain, packed = version_dir / name, version_dir / f"{name}.gz"
            content = plain.read_bytes() if plain.exists() else gzip.decompress(packed.read_bytes())
            found[Path(service) / version_dir.name / name] = content
    return found


def main() -> int:
    for relative, content in source_files().items():
        target = TARGET / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        print(f"wrote {target.relative_to(TARGET.parent.parent)} ({len(content)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
