"""The package's own contract: types, errors, keys, threads."""
import json
import threading

import pytest

from conftest import VECTORS, load
import wa_flows_crypto as wfc

PING = load("requests.json")["vectors"][0]


def test_error_is_an_exception_with_code_and_status(key):
    assert issubclass(wfc.FlowCryptoError, Exception)
    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.decrypt_request(b"not json", key)
    assert info.value.code == "malformed" and info.value.http_status == 421
    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.FlowPrivateKey.from_pem("nope")
    assert info.value.code == "invalid_key" and info.value.http_status == 500
    assert "private key" in str(info.value)


def test_key_round_trips(key):
    pem = key.public_key_pem()
    assert pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert pem == (VECTORS / "keys" / "rsa2048_public.pem").read_text().replace("\r\n", "\n")
    assert key.bits == 2048 and len(key.public_key_fingerprint()) == 64
    again = wfc.FlowPrivateKey.from_pem(key.private_key_pem())
    assert again.public_key_der() == key.public_key_der()
    again = wfc.FlowPrivateKey.from_der(key.private_key_der())
    assert again.public_key_pem() == pem
    encrypted = key.private_key_pem(passphrase="s3cret")
    assert encrypted.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(wfc.FlowCryptoError):
        wfc.FlowPrivateKey.from_pem(encrypted)
    assert wfc.FlowPrivateKey.from_pem(encrypted, b"s3cret").public_key_pem() == pem


def test_generate():
    k = wfc.FlowPrivateKey.generate()
    assert k.bits == 2048
    with pytest.raises(wfc.FlowCryptoError):
        wfc.FlowPrivateKey.generate(1024)


def test_response_helpers_agree(key):
    r = wfc.decrypt_request(PING["request"], key)
    answer = {"data": {"status": "active"}}
    assert r.encrypt_response(answer) == wfc.encrypt_response(answer, r.aes_key, r.iv)
    assert r.encrypt_response(answer) == wfc.encrypt_response(wfc._json.dumps(answer), r.aes_key, r.iv)
    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.encrypt_response(answer, b"short", r.iv)
    assert info.value.code == "malformed"


def test_types_are_checked(key):
    with pytest.raises(TypeError):
        wfc.decrypt_request(12, key)
    with pytest.raises(TypeError):
        wfc.decrypt_request(b"{}", "not a key")


def outcome(body, key, endpoint):
    """What one request gives: the plaintext and the (deterministic) encrypted answer, or the
    error's code, status and message; and the endpoint's verdict."""
    try:
        decrypted = wfc.decrypt_request(body, key)
        answer = decrypted.encrypt_response({"screen": "NEXT", "data": {}})
        result = ("decrypted", decrypted.plaintext, answer)
    except wfc.FlowCryptoError as e:
        result = ("refused", e.code, e.http_status, str(e))
    try:
        opened = endpoint.open(body, None)
        verdict = (opened.flow.action, opened.automatic_response)
    except wfc.FlowCryptoError as e:
        verdict = (e.code, e.http_status)
    return result, verdict


def test_one_key_and_one_endpoint_from_8_threads_give_the_single_threaded_results(key):
    # Every request vector made for this key, good and bad: the GIL is released around the
    # calls into the library, so the threads really run them at the same time.
    bodies = [
        json.dumps(v["request"])
        for v in load("requests.json")["vectors"]
        if v["key"] == "keys/rsa2048_pkcs8.pem" and v["passphrase"] is None
    ]
    assert len(bodies) >= 10
    endpoint = wfc.FlowEndpoint(key)
    expected = [outcome(body, key, endpoint) for body in bodies]
    assert {result[0] for result, _ in expected} == {"decrypted", "refused"}
    mismatches = []
    start = threading.Barrier(8)

    def work(index):
        start.wait()
        for _ in range(5):
            for offset in range(len(bodies)):
                at = (offset + index * 7) % len(bodies)
                got = outcome(bodies[at], key, endpoint)
                if got != expected[at]:
                    mismatches.append((index, at, got, expected[at]))

    threads = [threading.Thread(target=work, args=(index,)) for index in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert mismatches == []


def test_media_streams_in_8_threads_at_once_give_the_single_threaded_plaintext():
    v = max(
        (v for v in load("media.json")["vectors"] if v["expect"]["ok"]),
        key=lambda v: (VECTORS / v["file"]).stat().st_size,
    )
    file = (VECTORS / v["file"]).read_bytes()
    assert len(file) > 10_000
    expected = wfc.decrypt_media_content(file, v["metadata"])
    results = []

    def work():
        decryptor = wfc.MediaDecryptor(v["metadata"])
        parts = [decryptor.update(file[at : at + 777]) for at in range(0, len(file), 777)]
        results.append(b"".join(parts) + decryptor.finish())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 8


def test_media_decryptor_refuses_after_finish():
    v = next(v for v in load("media.json")["vectors"] if v["name"] == "size_17")
    d = wfc.MediaDecryptor(v["metadata"])
    d.update((VECTORS / v["file"]).read_bytes())
    d.finish()
    for again in (d.finish, lambda: d.update(b"more")):
        with pytest.raises(wfc.FlowCryptoError) as info:
            again()
        # Its own code: a programming error, not a malformed request (421).
        assert (info.value.code, info.value.http_status) == ("already_finished", None)
    ver = wfc.MediaVerifier(v["metadata"])
    ver.update((VECTORS / v["file"]).read_bytes())
    ver.finish()
    with pytest.raises(wfc.FlowCryptoError) as info:
        ver.finish()
    assert info.value.code == "already_finished"


def test_verifier():
    v = next(v for v in load("media.json")["vectors"] if v["name"] == "size_1000")
    data = (VECTORS / v["file"]).read_bytes()
    ver = wfc.MediaVerifier(v["metadata"])
    ver.update(data[:100])
    ver.update(data[100:])
    ver.finish()
    ver = wfc.MediaVerifier(v["metadata"])
    ver.update(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(wfc.FlowCryptoError):
        ver.finish()


def test_typed_package():
    from pathlib import Path

    pkg = Path(wfc.__file__).parent
    assert (pkg / "py.typed").exists() and (pkg / "__init__.pyi").exists()


def test_error_constructor_is_message_code_status():
    # The same order as the JS package's: message first.
    e = wfc.FlowCryptoError("the token has expired", "invalid_flow_token_signature", 427)
    assert (str(e), e.code, e.http_status) == ("the token has expired", "invalid_flow_token_signature", 427)
    assert isinstance(e, ValueError) and "427" in repr(e)
