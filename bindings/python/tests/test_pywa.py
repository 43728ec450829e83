"""The pywa adapters against pywa's own functions on the same inputs."""
import inspect

import pytest

from conftest import VECTORS, load

import pywa.utils as pywa_utils
import wa_flows_crypto as wfc
from wa_flows_crypto import pywa as adapters

REQUESTS = [v for v in load("requests.json")["vectors"]]
MEDIA = load("media.json")["vectors"]


def test_signatures_match_pywa():
    pairs = [
        (adapters.flow_request_decryptor, pywa_utils.default_flow_request_decryptor),
        (adapters.flow_response_encryptor, pywa_utils.default_flow_response_encryptor),
        (adapters.flow_request_media_decryptor, pywa_utils.flow_request_media_decryptor),
        (adapters.media_decryptor, pywa_utils._flow_request_media_decryptor),
    ]
    for ours, theirs in pairs:
        a, b = inspect.signature(ours), inspect.signature(theirs)
        assert [(p.name, p.kind, p.default) for p in a.parameters.values()] == [
            (p.name, p.kind, p.default) for p in b.parameters.values()
        ], ours.__name__


def args(v):
    r = v["request"]
    pem = (VECTORS / v["key"]).read_text()
    return (r["encrypted_flow_data"], r["encrypted_aes_key"], r["initial_vector"], pem, v["passphrase"])


OK_PEM = [v for v in REQUESTS if v["expect"]["ok"] and not v["key"].endswith(".der")]


@pytest.mark.parametrize("v", OK_PEM, ids=[v["name"] for v in OK_PEM])
def test_request_and_response_match_pywa(v):
    ours = adapters.flow_request_decryptor(*args(v))
    theirs = pywa_utils.default_flow_request_decryptor(*args(v))
    assert ours == theirs
    data, aes_key, iv = ours
    response = {"screen": "DONE", "data": {"echo": data.get("action"), "ünï": "çødé"}}
    assert adapters.flow_response_encryptor(response, aes_key, iv) == pywa_utils.default_flow_response_encryptor(
        response, aes_key, iv
    )


BAD = [v for v in REQUESTS if not v["expect"]["ok"] and isinstance(v["request"].get("initial_vector"), str)
       and "encrypted_aes_key" in v["request"] and "encrypted_flow_data" in v["request"]]


@pytest.mark.parametrize("v", BAD, ids=[v["name"] for v in BAD])
def test_bad_requests_raise_like_pywa(v):
    # pywa answers any exception from the decryptor with HTTP 421. pywa itself accepts some of
    # these (an AES-256 key, a 12-byte IV, authentic payloads that are not a JSON object),
    # which the protocol does not allow; ours refuses every one.
    lenient = {"aes256_key_not_128", "iv_12_bytes_not_16", "payload_array", "payload_string",
               "payload_number"}
    if v["name"] not in lenient:
        with pytest.raises(Exception):
            pywa_utils.default_flow_request_decryptor(*args(v))
    with pytest.raises(wfc.FlowCryptoError) as info:
        adapters.flow_request_decryptor(*args(v))
    assert info.value.http_status == (500 if v["expect"]["error"] == "invalid_key" else 421)


@pytest.mark.parametrize("v", MEDIA, ids=[v["name"] for v in MEDIA])
def test_media_matches_pywa(v):
    cdn_file = (VECTORS / v["file"]).read_bytes()
    try:
        theirs = pywa_utils._flow_request_media_decryptor(cdn_file, v["metadata"])
    except Exception:  # noqa: BLE001
        theirs = None
    if v["expect"]["ok"]:
        assert theirs is not None
        assert adapters.media_decryptor(cdn_file, v["metadata"]) == theirs
    else:
        with pytest.raises(ValueError):
            adapters.media_decryptor(cdn_file, v["metadata"])


def test_media_download_adapter():
    httpx = pytest.importorskip("httpx")
    v = next(v for v in MEDIA if v["name"] == "size_1000")
    cdn_file = (VECTORS / v["file"]).read_bytes()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=cdn_file))
    media = {"cdn_url": "https://cdn.example/x", "media_id": "m1", "file_name": "a.bin",
             "encryption_metadata": v["metadata"]}
    ours = adapters.flow_request_media_decryptor(media, httpx.Client(transport=transport))
    theirs = pywa_utils.flow_request_media_decryptor(media, httpx.Client(transport=transport))
    assert ours == theirs
    assert ours.data == (VECTORS / v["expect"]["plaintext_file"]).read_bytes()


def test_media_download_adapter_closes_the_client_it_opens(monkeypatch):
    httpx = pytest.importorskip("httpx")
    v = next(v for v in MEDIA if v["name"] == "size_1000")
    cdn_file = (VECTORS / v["file"]).read_bytes()
    opened = []

    class RecordingClient(httpx.Client):
        def __init__(self, **kwargs):
            transport = httpx.MockTransport(lambda request: httpx.Response(200, content=cdn_file))
            super().__init__(transport=transport, **kwargs)
            opened.append(self)

    monkeypatch.setattr(httpx, "Client", RecordingClient)
    media = {"cdn_url": "https://cdn.example/x", "media_id": "m1", "file_name": "a.bin",
             "encryption_metadata": v["metadata"]}
    result = adapters.flow_request_media_decryptor(media)
    assert result.data == (VECTORS / v["expect"]["plaintext_file"]).read_bytes()
    assert len(opened) == 1 and opened[0].is_closed


def test_whatsapp_accepts_the_adapters():
    from pywa import WhatsApp

    wa = WhatsApp(
        phone_id="1",
        token="x",
        server=None,
        business_private_key=(VECTORS / "keys" / "rsa2048_pkcs8.pem").read_text(),
        flows_request_decryptor=adapters.flow_request_decryptor,
        flows_response_encryptor=adapters.flow_response_encryptor,
    )
    assert wa._flows_request_decryptor is adapters.flow_request_decryptor
