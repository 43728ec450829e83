"""Every shared vector through the Python package."""
import base64

import pytest

from conftest import VECTORS, load
import wa_flows_crypto as wfc

REQUESTS = load("requests.json")["vectors"]
RESPONSES = load("responses.json")["vectors"]
SIGNATURES = load("signatures.json")["vectors"]
MEDIA = load("media.json")["vectors"]


def error_matches(name, code, expected):
    if code == expected:
        return True
    if name == "wrapped_key_wrong_length":
        return code in ("malformed", "key_unwrap")
    if expected == "padding_or_plaintext_hash":
        return code in ("padding", "plaintext_hash_mismatch")
    return False


def load_key(v):
    data = (VECTORS / v["key"]).read_bytes()
    if v["key"].endswith(".der"):
        return wfc.FlowPrivateKey.from_der(data, v["passphrase"])
    return wfc.FlowPrivateKey.from_pem(data.decode("ascii"), v["passphrase"])


@pytest.mark.parametrize("v", REQUESTS, ids=[v["name"] for v in REQUESTS])
def test_request(v):
    expect = v["expect"]
    try:
        key = load_key(v)
    except wfc.FlowCryptoError as e:
        assert not expect["ok"] and error_matches(v["name"], e.code, expect["error"]), e
        assert e.http_status == 500
        return
    for body in (v["request"], wfc._json.dumps(v["request"]), wfc._json.dumps(v["request"]).encode()):
        if expect["ok"]:
            r = wfc.decrypt_request(body, key)
            assert r.plaintext == expect["plaintext"]
            assert r.json() == wfc._json.loads(expect["plaintext"])
            assert r.aes_key.hex() == expect["aes_key_hex"]
            assert r.iv.hex() == expect["iv_hex"]
            # The separate steps agree.
            parsed = wfc.parse_request(body)
            aes_key = wfc.unwrap_aes_key(parsed, key)
            assert aes_key == r.aes_key
            assert wfc.decrypt_payload(parsed, aes_key).plaintext == r.plaintext
        else:
            with pytest.raises(wfc.FlowCryptoError) as info:
                wfc.decrypt_request(body, key)
            assert error_matches(v["name"], info.value.code, expect["error"]), info.value
            assert info.value.http_status == 421
            assert str(info.value)


@pytest.mark.parametrize("v", RESPONSES, ids=[v["name"] for v in RESPONSES])
def test_response(v):
    key, iv = bytes.fromhex(v["aes_key_hex"]), bytes.fromhex(v["request_iv_hex"])
    for plaintext in (v["plaintext"], v["plaintext"].encode()):
        assert wfc.encrypt_response(plaintext, key, iv) == v["expected_body"]


@pytest.mark.parametrize("v", SIGNATURES, ids=[v["name"] for v in SIGNATURES])
def test_signature(v):
    body = base64.b64decode(v["body_b64"])
    assert wfc.verify_signature(body, v["header"], v["app_secret"]) is v["valid"]
    if v["name"] == "valid":
        assert wfc.sign(body, v["app_secret"]) == v["header"]


@pytest.mark.parametrize("v", MEDIA, ids=[v["name"] for v in MEDIA])
def test_media(v):
    expect = v["expect"]
    cdn_file = (VECTORS / v["file"]).read_bytes()
    metadata = v["metadata"]
    want = (VECTORS / expect["plaintext_file"]).read_bytes() if expect["ok"] else None

    def streamed(chunk):
        d = wfc.MediaDecryptor(metadata)
        out = b"".join(d.update(cdn_file[i : i + chunk]) for i in range(0, len(cdn_file), chunk))
        out += d.finish()
        assert d.bytes_processed == len(cdn_file)  # the total, kept after finish()
        return out

    for metadata_form in (metadata, wfc._json.dumps(metadata), wfc._json.dumps(metadata).encode()):
        if expect["ok"]:
            assert wfc.decrypt_media_content(cdn_file, metadata_form) == want
        else:
            with pytest.raises(wfc.FlowCryptoError) as info:
                wfc.decrypt_media_content(cdn_file, metadata_form)
            assert error_matches(v["name"], info.value.code, expect["error"]), info.value
            if info.value.code != "malformed":
                assert info.value.http_status is None
    for chunk in (7, 4096, 1 << 20):
        if expect["ok"]:
            assert streamed(chunk) == want
        else:
            with pytest.raises(wfc.FlowCryptoError) as info:
                streamed(chunk)
            assert error_matches(v["name"], info.value.code, expect["error"])
