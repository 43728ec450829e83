"""Every shared vector through the Python package."""
import base64

import pytest

from conftest import VECTORS, load
import wa_flows_crypto as wfc

REQUESTS = load("requests.json")["vectors"]
RESPONSES = load("responses.json")["vectors"]
SIGNATURES = load("signatures.json")["vectors"]
MEDIA = load("media.json")["vectors"]
FLOW_TOKENS = load("flow_token.json")["vectors"]
OTHER_KEY = "keys/rsa2048_other.pem"


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


def outcome(call):
    try:
        r = call()
        return ("ok", r.plaintext, r.aes_key, r.iv, r.key_index)
    except wfc.FlowCryptoError as e:
        return (e.code, str(e), e.http_status)


@pytest.mark.parametrize("v", REQUESTS, ids=[v["name"] for v in REQUESTS])
def test_a_parsed_body_decrypts_as_its_text(v):
    """A dict of the three fields goes to the core without JSON being written for it; every
    request vector gives exactly the outcome of its text (message included), with one key and
    with a ring."""
    try:
        key = load_key(v)
    except wfc.FlowCryptoError:
        return
    text = wfc._json.dumps(v["request"])
    for k in (key, wfc.FlowKeyRing([key])):
        assert outcome(lambda: wfc.decrypt_request(v["request"], k)) == outcome(lambda: wfc.decrypt_request(text, k))


def test_other_parsed_bodies_take_the_json_route():
    """Extra fields, values that are not strings, lone surrogates and dict subclasses give
    what their JSON text gives (the core decides; the fast route only skips writing JSON)."""
    v = next(v for v in REQUESTS if v["expect"]["ok"] and v["passphrase"] is None and v["key"].endswith(".pem"))
    key = load_key(v)
    good = dict(v["request"])

    class Lying(dict):
        def get(self, *args):
            return "AAAA"

        def __len__(self):
            return 3

    bodies = [
        dict(good, extra=1),
        dict(good, initial_vector=5),
        dict(good, encrypted_aes_key="\ud800AAAA"),
        {k: good[k] for k in ("encrypted_flow_data", "encrypted_aes_key")},
        Lying(good),
    ]
    for body in bodies:
        try:
            text = wfc._json.dumps(dict.copy(body))
        except TypeError:
            continue
        assert outcome(lambda: wfc.decrypt_request(body, key)) == outcome(lambda: wfc.decrypt_request(text, key)), body
    assert outcome(lambda: wfc.decrypt_request(Lying(good), key))[0] == "ok"


@pytest.mark.parametrize("v", REQUESTS, ids=[v["name"] for v in REQUESTS])
def test_request_through_a_key_ring(v):
    """Every request vector through a ring whose first key is another one: the ring finds the
    vector's key (key_index 1), or fails with the vector's error."""
    expect = v["expect"]
    try:
        key = load_key(v)
    except wfc.FlowCryptoError:
        assert not expect["ok"]
        return
    other = wfc.FlowPrivateKey.from_pem((VECTORS / OTHER_KEY).read_bytes())
    ring = wfc.FlowKeyRing([other, key])
    assert len(ring) == 2
    for body in (v["request"], wfc._json.dumps(v["request"]).encode()):
        if expect["ok"]:
            r = wfc.decrypt_request(body, ring)
            assert r.plaintext == expect["plaintext"]
            assert r.aes_key.hex() == expect["aes_key_hex"]
            assert r.key_index == (0 if v["key"] == OTHER_KEY else 1)
            assert wfc.decrypt_request(body, key).key_index == 0
        else:
            with pytest.raises(wfc.FlowCryptoError) as info:
                wfc.decrypt_request(body, ring)
            assert error_matches(v["name"], info.value.code, expect["error"]), info.value
            assert info.value.http_status == 421


def test_the_flow_view_of_the_request_vectors(key):
    by_name = {v["name"]: v for v in REQUESTS}
    ping = wfc.decrypt_request(by_name["ping"]["request"], key).flow
    assert (ping.action, ping.is_ping, ping.error_notification) == ("ping", True, None)
    notification = wfc.decrypt_request(by_name["error_notification"]["request"], key).flow
    assert notification.error_notification == wfc.ErrorNotification(
        "INVALID_SCREEN_TRANSITION", "screen X not found", None)
    assert notification.flow_token == "flow-token-public" and notification.version == "3.0"
    for name in ("init", "data_exchange", "back", "unicode", "photo_picker"):
        v = by_name[name]
        flow = wfc.decrypt_request(v["request"], key).flow
        sent = wfc._json.loads(v["expect"]["plaintext"])
        assert flow.plaintext == v["expect"]["plaintext"]
        assert (flow.screen, flow.data, flow.flow_token) == (sent.get("screen"), sent.get("data"), sent.get("flow_token"))
        assert flow.is_ping is False and flow.error_notification is None


def flow_token_forms(v, public_key_pem, key):
    """The request of a flow_token vector in every form verify_flow_token_signature takes."""
    from conftest import Sealed

    text = v["request"]
    yield "str", text
    yield "bytes", text.encode()
    yield "bytearray", bytearray(text.encode())
    yield "dict", wfc._json.loads(text)
    decrypted = wfc.decrypt_request(Sealed(public_key_pem, text).request, key)
    yield "DecryptedRequest", decrypted
    try:
        flow = decrypted.flow
    except wfc.FlowCryptoError as e:
        assert e.code == "malformed", e
    else:
        yield "FlowRequest", flow


@pytest.mark.parametrize("v", FLOW_TOKENS, ids=[v["name"] for v in FLOW_TOKENS])
def test_flow_token_signature(v, key):
    expect = v["expect"]
    pem = key.public_key_pem()
    for form, request in flow_token_forms(v, pem, key):
        for secret in (v["app_secret"], v["app_secret"].encode(), [v["app_secret"]], ["an older secret", v["app_secret"]]):
            if expect["ok"]:
                assert wfc.verify_flow_token_signature(request, secret, v["now"]) == expect["signature"], form
                assert wfc.verify_flow_token_signature(request, secret, float(v["now"]) + 0.5) == expect["signature"]
            else:
                with pytest.raises(wfc.FlowCryptoError) as info:
                    wfc.verify_flow_token_signature(request, secret, v["now"])
                assert info.value.code == expect["error"], (form, info.value)
                assert info.value.http_status == 427
                assert str(info.value)


def test_sign_flow_token_makes_what_the_vectors_verify():
    v = next(v for v in FLOW_TOKENS if v["name"] == "valid")
    token = wfc._json.loads(v["request"])["flow_token"]
    signature = wfc.sign_flow_token(token, v["app_secret"])
    assert signature == wfc._json.loads(v["request"])["flow_token_signature"]  # PyJWT's bytes, exactly
    request = {"version": "4.0", "action": "INIT", "flow_token": token}
    for exp, ok in ((v["now"] + 3600, True), (v["now"] - 3600, False)):
        request["flow_token_signature"] = wfc.sign_flow_token(token, v["app_secret"], exp=exp)
        if ok:
            assert wfc.verify_flow_token_signature(request, v["app_secret"], v["now"]) == "verified"
        else:
            with pytest.raises(wfc.FlowCryptoError) as info:
                wfc.verify_flow_token_signature(request, v["app_secret"], v["now"])
            assert info.value.http_status == 427


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
    # Among other secrets, in any position: the same answer.
    for secrets in ([v["app_secret"]], ["another secret", v["app_secret"]], (v["app_secret"], b"another")):
        assert wfc.verify_signature(body, v["header"], secrets) is v["valid"]
    assert wfc.verify_signature(body, v["header"], ["another secret"]) is False


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
