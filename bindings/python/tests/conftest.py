import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
VECTORS = Path(os.environ.get("WFC_VECTORS", ROOT / "tests" / "vectors"))


def load(name):
    with open(VECTORS / name, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def vectors_dir():
    return VECTORS


@pytest.fixture(scope="session")
def key():
    from wa_flows_crypto import FlowPrivateKey

    return FlowPrivateKey.from_pem((VECTORS / "keys" / "rsa2048_pkcs8.pem").read_bytes())
