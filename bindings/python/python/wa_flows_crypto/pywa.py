"""Drop-in replacements for pywa's default Flows crypto functions.

Same signatures and results as ``pywa.utils.default_flow_request_decryptor``,
``pywa.utils.default_flow_response_encryptor`` and ``pywa.utils.flow_request_media_decryptor``,
so a pywa bot switches with one argument each::

    from pywa import WhatsApp
    from wa_flows_crypto.pywa import flow_request_decryptor, flow_response_encryptor

    wa = WhatsApp(
        ...,
        business_private_key=open("private.pem").read(),
        flows_request_decryptor=flow_request_decryptor,
        flows_response_encryptor=flow_response_encryptor,
    )

Errors are :class:`wa_flows_crypto.FlowCryptoError`, a ``ValueError`` (what pywa's media
decryptor raises); pywa answers any decryption error with HTTP 421.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Mapping, Optional, Tuple

from . import FlowPrivateKey, _error, _lib, decrypt_media_content, decrypt_request, encrypt_response

__all__ = [
    "flow_request_decryptor",
    "flow_response_encryptor",
    "flow_request_media_decryptor",
    "media_decryptor",
]


@functools.lru_cache(maxsize=8)
def _key(private_key: str, password: Optional[str]) -> FlowPrivateKey:
    # Parsed once per (key, password) pair from the developer's own configuration, like pywa.
    return FlowPrivateKey.from_pem(private_key, password or None)


def flow_request_decryptor(
    encrypted_flow_data_b64: str,
    encrypted_aes_key_b64: str,
    initial_vector_b64: str,
    private_key: str,
    password: Optional[str] = None,
) -> Tuple[Dict[str, Any], bytes, bytes]:
    """As ``pywa.utils.default_flow_request_decryptor``: returns ``(decrypted_data, aes_key,
    iv)``."""
    body = {
        "encrypted_flow_data": encrypted_flow_data_b64,
        "encrypted_aes_key": encrypted_aes_key_b64,
        "initial_vector": initial_vector_b64,
    }
    request = decrypt_request(body, _key(private_key, password))
    return request.json(), request.aes_key, request.iv


def flow_response_encryptor(response: Dict[str, Any], aes_key: bytes, iv: bytes) -> str:
    """As ``pywa.utils.default_flow_response_encryptor``: the response is serialized as
    ``json.dumps(response)`` writes it and encrypted; returns the base64 body. A response JSON
    cannot hold (NaN, a set, a circular dict) raises ``TypeError``, where pywa would send it."""
    return encrypt_response(response, aes_key, iv)


def media_decryptor(cdn_file: bytes, encryption_metadata: Dict[str, str]) -> bytes:
    """As pywa's internal ``_flow_request_media_decryptor``: decrypts and verifies a downloaded
    CDN file; raises a ``ValueError`` (:class:`wa_flows_crypto.FlowCryptoError`)."""
    return decrypt_media_content(cdn_file, encryption_metadata)


def flow_request_media_decryptor(encrypted_media: Dict[str, Any], dl_session: Any = None) -> Any:
    """As ``pywa.utils.flow_request_media_decryptor``: downloads ``cdn_url`` with httpx and
    returns pywa's ``FlowRequestDecryptedMedia`` (needs pywa and httpx installed)."""
    import httpx
    from pywa.utils import FlowRequestDecryptedMedia

    if not isinstance(encrypted_media, Mapping):
        raise TypeError(f"encrypted_media must be a dict, not {type(encrypted_media).__name__}")
    for field in ("cdn_url", "media_id", "file_name", "encryption_metadata"):
        if field not in encrypted_media:
            # pywa raises KeyError here; a request's media entry missing a field is malformed.
            raise _error(_lib.WFC_STATUS_MALFORMED, f"malformed input: the media entry has no {field!r}")
    if dl_session is not None:
        res = dl_session.get(encrypted_media["cdn_url"])
    else:
        # A client made here is closed here (the body is read by then); the caller's is theirs.
        with httpx.Client() as client:
            res = client.get(encrypted_media["cdn_url"])
    res.raise_for_status()
    return FlowRequestDecryptedMedia(
        media_id=encrypted_media["media_id"],
        filename=encrypted_media["file_name"],
        data=media_decryptor(res.content, encrypted_media["encryption_metadata"]),
    )
