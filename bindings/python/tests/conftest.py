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


# -- the WhatsApp side, with `cryptography` (independent of the library) ------------------------


class Sealed:
    """A request sealed as WhatsApp seals it, and what WhatsApp keeps to open the answer."""

    def __init__(self, public_pem, plaintext):
        import base64
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if isinstance(plaintext, str):
            plaintext = plaintext.encode("utf-8")
        elif not isinstance(plaintext, bytes):
            plaintext = json.dumps(plaintext).encode("utf-8")
        public = serialization.load_pem_public_key(public_pem.encode())
        self.aes_key, self.iv = os.urandom(16), os.urandom(16)
        oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
        parts = {
            "encrypted_flow_data": AESGCM(self.aes_key).encrypt(self.iv, plaintext, None),
            "encrypted_aes_key": public.encrypt(self.aes_key, oaep),
            "initial_vector": self.iv,
        }
        self.request = {name: base64.b64encode(value).decode() for name, value in parts.items()}
        self.body = json.dumps(self.request).encode()

    def open(self, response_body):
        """The plaintext of an encrypted answer (AES-128-GCM, the IV with every bit flipped)."""
        import base64
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        flipped = bytes(b ^ 0xFF for b in self.iv)
        return AESGCM(self.aes_key).decrypt(flipped, base64.b64decode(response_body, validate=True), None).decode()
