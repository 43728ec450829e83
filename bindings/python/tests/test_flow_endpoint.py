"""FlowEndpoint end to end, key rings, the flow view, and the arguments of every new entry point.
WhatsApp's side (sealing, opening answers) is conftest.Sealed, written with `cryptography`."""
import time

import pytest

from conftest import VECTORS, Sealed
import wa_flows_crypto as wfc

NEW_SECRET = "the new app secret"
OLD_SECRET = b"the old app secret"
NOW = 1_767_225_600


@pytest.fixture(scope="module")
def old_key():
    return wfc.FlowPrivateKey.from_pem((VECTORS / "keys" / "rsa2048_other.pem").read_bytes())


@pytest.fixture(scope="module")
def ring(key, old_key):
    return wfc.FlowKeyRing([key, old_key])


def v4(flow_token="tok-1", secret=NEW_SECRET, exp=None, **fields):
    request = {"version": "4.0", "action": "data_exchange", "screen": "A", "data": {"x": 1},
               "flow_token": flow_token, "flow_token_signature": wfc.sign_flow_token(flow_token, secret, exp)}
    request.update(fields)
    return request


def post(key, plaintext, secret=NEW_SECRET):
    sealed = Sealed(key.public_key_pem(), plaintext)
    return sealed, sealed.body, (None if secret is None else wfc.sign(sealed.body, secret))


def refused(endpoint, body, header, status, code, now=NOW):
    with pytest.raises(wfc.FlowCryptoError) as info:
        endpoint.open(body, header, now)
    assert (info.value.http_status, info.value.code) == (status, code), info.value
    assert str(info.value)


# -- the constants are the core's ---------------------------------------------------------------


def test_automatic_answers_are_the_cores_texts(key):
    endpoint = wfc.FlowEndpoint(key)
    _, body, _ = post(key, {"version": "3.0", "action": "ping"}, None)
    assert endpoint.open(body).automatic_response == wfc.PING_RESPONSE == '{"data":{"status":"active"}}'
    _, body, _ = post(key, {"version": "3.0", "action": "INIT", "data": {"error_key": "k"}}, None)
    assert endpoint.open(body).automatic_response == wfc.ERROR_ACKNOWLEDGEMENT == '{"data":{"acknowledged":true}}'
    assert wfc.FLOW_TOKEN_ERROR_STATUS == 427


# -- the endpoint, end to end -------------------------------------------------------------------


def test_a_signed_v4_request_opens_and_is_answered(key, ring):
    endpoint = wfc.FlowEndpoint(ring, [NEW_SECRET, OLD_SECRET])
    sealed, body, header = post(key, v4())
    opened = endpoint.open(body, header, NOW)
    assert opened.flow_token_signature == "verified" and opened.key_index == 0
    assert opened.automatic_response is None
    flow = opened.flow
    assert (flow.action, flow.screen, flow.data, flow.flow_token, flow.version) == ("data_exchange", "A", {"x": 1}, "tok-1", "4.0")
    assert flow.is_ping is False and flow.error_notification is None
    assert flow.plaintext == opened.plaintext == sealed.open(wfc.encrypt_response(opened.plaintext, sealed.aes_key, sealed.iv))
    assert wfc.verify_flow_token_signature(flow, NEW_SECRET, NOW) == "verified"
    for answer in ({"screen": "B", "data": {}}, '{"screen":"B","data":{}}', b'{"screen":"B","data":{}}'):
        assert wfc._json.loads(sealed.open(opened.respond(answer))) == {"screen": "B", "data": {}}
    assert opened.respond({"screen": "B", "data": {}}) == wfc.encrypt_response({"screen": "B", "data": {}}, sealed.aes_key, sealed.iv)
    status, error_body = opened.flow_token_error("This link has expired")
    assert status == 427 and wfc._json.loads(sealed.open(error_body)) == {"error_msg": "This link has expired"}
    # Default clock: now.
    _, body, header = post(key, v4(exp=int(time.time()) + 600))
    assert endpoint.open(body, header).flow_token_signature == "verified"


def test_the_previous_key_and_the_previous_secret_still_work(key, old_key, ring):
    endpoint = wfc.FlowEndpoint(ring, [NEW_SECRET, OLD_SECRET])
    _, body, header = post(old_key, v4(secret=OLD_SECRET), OLD_SECRET)
    opened = endpoint.open(body, header, NOW)
    assert opened.key_index == 1 and opened.flow_token_signature == "verified"
    # Without the old key in the ring, or the old secret: refused.
    refused(wfc.FlowEndpoint(key, [NEW_SECRET, OLD_SECRET]), body, header, 421, "key_unwrap")
    refused(wfc.FlowEndpoint(ring, NEW_SECRET), body, header, 432, "invalid_signature")


def test_each_check_in_order(key, ring):
    endpoint = wfc.FlowEndpoint(ring, NEW_SECRET)
    # 432 first: a missing, wrong or altered signature, whatever the body.
    _, body, header = post(key, v4())
    refused(endpoint, body, None, 432, "invalid_signature")
    refused(endpoint, body, "sha256=" + "0" * 64, 432, "invalid_signature")
    refused(endpoint, body + b" ", header, 432, "invalid_signature")
    refused(endpoint, b"garbage", "sha256=00", 432, "invalid_signature")
    # 421: undecryptable, or no flow request.
    other = wfc.FlowPrivateKey.generate()
    _, body, header = post(other, v4())
    refused(endpoint, body, header, 421, "key_unwrap")
    _, body, header = post(key, {"version": "4.0", "action": 3})
    refused(endpoint, body, header, 421, "malformed")
    # 427: forged, expired, or for another token.
    for request in (v4(secret="forged"), v4(exp=NOW - 3600),
                    dict(v4("tok-1"), flow_token="tok-2"), dict(v4(), flow_token_signature="a.b.c")):
        _, body, header = post(key, request)
        refused(endpoint, body, header, 427, "invalid_flow_token_signature")


def test_flow_token_signature_policies(key):
    _, body3, header3 = post(key, {"version": "3.0", "action": "INIT", "flow_token": "t"})
    _, forged, forged_header = post(key, v4(secret="forged"))
    if_present = wfc.FlowEndpoint(key, NEW_SECRET)
    assert if_present.open(body3, header3, NOW).flow_token_signature == "absent"
    required = wfc.FlowEndpoint(key, NEW_SECRET, flow_token_signature="required")
    refused(required, body3, header3, 427, "invalid_flow_token_signature")
    off = wfc.FlowEndpoint(key, NEW_SECRET, flow_token_signature="off")
    assert off.open(forged, forged_header, NOW).flow_token_signature is None
    # Without an app secret nothing is signed or checked.
    no_secret = wfc.FlowEndpoint(key)
    assert no_secret.open(forged, None, NOW).flow_token_signature is None
    assert no_secret.open(forged, "sha256=zz", NOW).key_index == 0


def test_error_notifications_and_pings(key):
    endpoint = wfc.FlowEndpoint(key)
    for data, expected in (({"error_key": "flow.timeout"}, wfc.ErrorNotification(None, None, "flow.timeout")),
                           ({"error": "E", "error_message": "m"}, wfc.ErrorNotification("E", "m", None))):
        _, body, _ = post(key, {"version": "3.0", "action": "data_exchange", "screen": "A", "data": data}, None)
        opened = endpoint.open(body)
        assert opened.flow.error_notification == expected
        assert opened.automatic_response == wfc.ERROR_ACKNOWLEDGEMENT
    _, body, _ = post(key, {"version": "3.0", "action": "PING"}, None)
    opened = endpoint.open(body)
    assert opened.flow.action == "ping" and opened.flow.is_ping
    _, body, _ = post(key, {"version": "3.0", "action": "navigate"}, None)
    assert endpoint.open(body).flow.action == "navigate"


# -- configuration --------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["", b"", [], [NEW_SECRET, ""], ()])
def test_empty_secrets_are_invalid_configuration(key, secret):
    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.FlowEndpoint(key, secret)
    assert (info.value.code, info.value.http_status) == ("invalid_configuration", 500)
    for call in (lambda: wfc.verify_signature(b"x", "sha256=00", secret),
                 lambda: wfc.verify_flow_token_signature(v4(), secret, NOW)):
        with pytest.raises(wfc.FlowCryptoError) as info:
            call()
        assert info.value.code == "invalid_configuration"


def test_policies_and_rings_are_checked(key):
    for policy in ("nope", "IF_PRESENT", "", "required\0"):
        with pytest.raises(wfc.FlowCryptoError) as info:
            wfc.FlowEndpoint(key, NEW_SECRET, flow_token_signature=policy)
        assert info.value.code == "invalid_configuration"
    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.FlowEndpoint(key, None, flow_token_signature="required")
    assert info.value.code == "invalid_configuration"
    for policy in (None, 1, b"off", True):
        with pytest.raises(TypeError):
            wfc.FlowEndpoint(key, NEW_SECRET, flow_token_signature=policy)
    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.FlowKeyRing([])
    assert (info.value.code, info.value.http_status) == ("invalid_configuration", 500)
    for keys in (key, [key, "pem"], [None], "keys", {key: 1}):
        with pytest.raises(TypeError):
            wfc.FlowKeyRing(keys)
    for bad in (None, "pem", [key]):
        with pytest.raises(TypeError):
            wfc.FlowEndpoint(bad)
    ring = wfc.FlowKeyRing((key,))
    assert len(ring) == 1 and "1" in repr(ring)
    # One key at a time: the separate unwrap step refuses a ring by type.
    with pytest.raises(TypeError):
        wfc.unwrap_aes_key(b"x" * 256, ring)


def test_a_ring_keeps_its_own_copies(key):
    # The ring outlives the key objects it was made from.
    generated = wfc.FlowPrivateKey.generate()
    ring = wfc.FlowKeyRing([generated])
    sealed = Sealed(generated.public_key_pem(), {"version": "3.0", "action": "ping"})
    del generated
    import gc

    gc.collect()
    assert wfc.decrypt_request(sealed.request, ring).flow.is_ping


def test_objects_are_made_by_the_library_only():
    for cls in (wfc.FlowRequest, wfc.OpenedRequest):
        with pytest.raises(TypeError):
            cls(None)


# -- hostile arguments to the new entry points ----------------------------------------------------


@pytest.mark.parametrize("now", [True, False, "1767225600", b"1", None.__class__, 1j, [1]])
def test_a_clock_that_is_not_a_number_is_a_type_error(key, now):
    with pytest.raises(TypeError):
        wfc.verify_flow_token_signature(v4(), NEW_SECRET, now)
    _, body, header = post(key, v4())
    with pytest.raises(TypeError):
        wfc.FlowEndpoint(key, NEW_SECRET).open(body, header, now)
    with pytest.raises(TypeError):
        wfc.sign_flow_token("t", NEW_SECRET, exp=now)


@pytest.mark.parametrize("now", [float("nan"), float("inf"), -float("inf"), 2**63, -(2**63) - 1, 1e300, 10**400])
def test_a_clock_out_of_range_is_invalid_configuration(key, now):
    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.verify_flow_token_signature(v4(), NEW_SECRET, now)
    assert info.value.code == "invalid_configuration"
    with pytest.raises(wfc.FlowCryptoError):
        wfc.sign_flow_token("t", NEW_SECRET, exp=now)


def test_clock_subclasses_are_read_by_their_value():
    class LyingInt(int):
        def __index__(self):
            return 0

        def __int__(self):
            return 0

    class LyingFloat(float):
        def __floor__(self):
            return 0

        def __float__(self):
            return 0.0

    # The extremes of int64_t reach the core: long after exp (427), long before it (verified).
    for now in (LyingInt(NOW), LyingFloat(NOW + 0.9), 2**63 - 1, -(2**63)):
        request = v4(exp=NOW + 10)
        if now == 2**63 - 1:
            with pytest.raises(wfc.FlowCryptoError) as info:
                wfc.verify_flow_token_signature(request, NEW_SECRET, now)
            assert info.value.http_status == 427
        else:
            assert wfc.verify_flow_token_signature(request, NEW_SECRET, now) == "verified"


def test_secret_lists_are_read_as_they_are(key):
    class LyingList(list):
        def __iter__(self):
            return iter(["wrong"])

        def __len__(self):
            return 0

    header = wfc.sign(b"x", NEW_SECRET)
    assert wfc.verify_signature(b"x", header, LyingList([NEW_SECRET])) is True
    assert wfc.verify_signature(b"x", header, [bytearray(NEW_SECRET.encode()), memoryview(b"other")]) is True
    for bad in ([1], [None], {NEW_SECRET}, [[NEW_SECRET]], iter([NEW_SECRET]), 3, None):
        with pytest.raises(TypeError):
            wfc.verify_signature(b"x", header, bad)
        with pytest.raises(TypeError):
            wfc.verify_flow_token_signature(v4(), bad, NOW)
    for bad in ([1], {NEW_SECRET}, 3):
        with pytest.raises(TypeError):
            wfc.FlowEndpoint(key, bad)


def test_lone_surrogates(key):
    # Configured text (secrets, tokens, messages) is refused as a TypeError; text from the wire
    # (a request, a header) goes to the core, which refuses it.
    for call in (lambda: wfc.FlowEndpoint(key, ["ok", "\ud800"]),
                 lambda: wfc.verify_signature(b"x", "sha256=00", ["\udfff"]),
                 lambda: wfc.verify_flow_token_signature(v4(), "\ud800", NOW),
                 lambda: wfc.sign_flow_token("t\ud800", "s"),
                 lambda: wfc.sign_flow_token("t", "s\ud800")):
        with pytest.raises(TypeError):
            call()
    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.verify_flow_token_signature('{"action": "INIT", "flow_token": "\ud800"}', "s", NOW)
    assert info.value.code == "malformed"
    endpoint = wfc.FlowEndpoint(key, NEW_SECRET)
    _, body, _ = post(key, v4())
    refused(endpoint, body, "sha256=\ud800", 432, "invalid_signature")
    _, body, _ = post(key, v4(), None)
    with pytest.raises(TypeError):
        wfc.FlowEndpoint(key).open(body).flow_token_error("\ud800")
    with pytest.raises(TypeError):
        wfc.FlowEndpoint(key).open(body).respond({"data": float("nan")})


def test_request_forms_that_are_not_requests(key):
    for bad in (None, 12, object(), [1]):
        with pytest.raises(TypeError):
            wfc.verify_flow_token_signature(bad, NEW_SECRET, NOW)
    for bad in (b"not json", "[1]", {"action": 3}, {"version": 4, "action": "INIT"}):
        with pytest.raises(wfc.FlowCryptoError) as info:
            wfc.verify_flow_token_signature(bad, NEW_SECRET, NOW)
        assert info.value.code == "malformed" and info.value.http_status == 421
    endpoint = wfc.FlowEndpoint(key, NEW_SECRET)
    for bad_body in (None, 12, object()):
        with pytest.raises(TypeError):
            endpoint.open(bad_body, "sha256=00", NOW)
    with pytest.raises(TypeError):
        endpoint.open(b"{}", 12, NOW)


@pytest.mark.parametrize("lie", [10**11, 4096, 0, 1])
def test_new_entry_points_use_the_buffer_size(key, lie):
    class Liar(bytes):
        def __len__(self):
            return lie

    endpoint = wfc.FlowEndpoint(key, Liar(NEW_SECRET.encode()))
    sealed, body, header = post(key, v4())
    opened = endpoint.open(Liar(body), Liar(header.encode()), NOW)
    assert opened.flow_token_signature == "verified"
    assert wfc.verify_flow_token_signature(Liar(opened.plaintext.encode()), [Liar(NEW_SECRET.encode())], NOW) == "verified"
    assert wfc.sign_flow_token(Liar(b"tok-1"), Liar(NEW_SECRET.encode())) == wfc.sign_flow_token("tok-1", NEW_SECRET)
    assert wfc._json.loads(sealed.open(opened.respond(Liar(b'{"a":1}')))) == {"a": 1}
    assert wfc._json.loads(sealed.open(opened.flow_token_error(Liar(b"gone"))[1])) == {"error_msg": "gone"}


def test_a_dict_request_is_written_by_the_strict_writer():
    # A parsed dict the package cannot write as JSON: TypeError, not a raw interpreter error.
    for bad in ({"action": "INIT", "x": {1, 2}}, {"action": "INIT", 3: "x"}):
        with pytest.raises(TypeError):
            wfc.verify_flow_token_signature(bad, NEW_SECRET, NOW)
