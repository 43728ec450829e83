"""Hostile callers: arguments that lie about their length, mutate or release their memory, hold
lone surrogates, huge or negative numbers, values JSON cannot hold. Every one must get the
right answer or a typed error (TypeError, FlowCryptoError): never a crash, never memory read
past a buffer, never a raw interpreter error."""
import array
import mmap
import threading
from multiprocessing import shared_memory

import pytest

from conftest import VECTORS, load
import wa_flows_crypto as wfc

PING = load("requests.json")["vectors"][0]
MEDIA = {v["name"]: v for v in load("media.json")["vectors"]}
SIZE_1000 = MEDIA["size_1000"]
CDN_1000 = (VECTORS / SIZE_1000["file"]).read_bytes()
PLAIN_1000 = (VECTORS / SIZE_1000["expect"]["plaintext_file"]).read_bytes()
PASSPHRASE = "flows-public-passphrase"
ENCRYPTED_PEM = (VECTORS / "keys" / "rsa2048_pkcs8_aes256.pem").read_bytes()
AES_KEY = bytes(16)
IV = bytes(range(16))


def lying_bytes(data, length):
    class Liar(bytes):
        def __len__(self):
            return length

        def __bytes__(self):
            raise RuntimeError("__bytes__ must not be called")

    return Liar(data)


def lying_bytearray(data, length):
    class Liar(bytearray):
        def __len__(self):
            return length

    return Liar(data)


def lying_str(text, length):
    class Liar(str):
        def __len__(self):
            return length

        def encode(self, *args, **kwargs):
            return b"\xff" * 4096

        def __str__(self):
            return "something else"

    return Liar(text)


LIES = [10**11, 4096, 0, 1]


# -- 1. lengths come from the buffer, never from len() of the argument --------------------------


@pytest.mark.parametrize("lie", LIES)
def test_sign_and_verify_use_the_buffer_size(lie):
    expected = wfc.sign(b"x", "s")
    assert wfc.sign(lying_bytes(b"x", lie), "s") == expected
    assert wfc.sign(lying_bytearray(b"x", lie), "s") == expected
    assert wfc.sign(b"x", lying_bytes(b"s", lie)) == expected
    assert wfc.sign(b"x", lying_str("s", lie)) == expected
    assert wfc.verify_signature(lying_bytes(b"x", lie), expected, lying_bytes(b"s", lie))
    assert wfc.verify_signature(b"x", lying_str(expected, lie), lying_str("s", lie))


@pytest.mark.parametrize("lie", LIES)
def test_media_update_uses_the_buffer_size(lie):
    d = wfc.MediaDecryptor(SIZE_1000["metadata"])
    assert d.update(lying_bytes(b"abc", lie)) == b""
    assert d.bytes_processed == 3
    whole = wfc.MediaDecryptor(SIZE_1000["metadata"])
    out = whole.update(lying_bytes(CDN_1000, lie)) + whole.finish()
    assert out == PLAIN_1000
    v = wfc.MediaVerifier(SIZE_1000["metadata"])
    v.update(lying_bytearray(CDN_1000, lie))
    v.finish()
    assert wfc.decrypt_media_content(lying_bytes(CDN_1000, lie), SIZE_1000["metadata"]) == PLAIN_1000


@pytest.mark.parametrize("lie", LIES)
def test_requests_and_responses_use_the_buffer_size(key, lie):
    body = PING["request"] if isinstance(PING["request"], str) else wfc._json.dumps(PING["request"])
    r = wfc.decrypt_request(lying_bytes(body.encode(), lie), key)
    assert r.json()["action"] == "ping"
    assert wfc.decrypt_request(lying_str(body, lie), key).plaintext == r.plaintext
    parsed = wfc.parse_request(lying_bytearray(body.encode(), lie))
    assert wfc.unwrap_aes_key(lying_bytes(parsed.encrypted_aes_key, lie), key) == r.aes_key
    assert wfc.decrypt_payload(parsed, lying_bytes(r.aes_key, lie)).plaintext == r.plaintext
    answer = '{"data": {}}'
    expected = wfc.encrypt_response(answer, r.aes_key, r.iv)
    assert r.encrypt_response(lying_str(answer, lie)) == expected
    assert wfc.encrypt_response(
        lying_bytes(answer.encode(), lie), lying_bytes(r.aes_key, lie), lying_bytearray(r.iv, lie)
    ) == expected


@pytest.mark.parametrize("lie", LIES)
def test_keys_and_passphrases_use_the_buffer_size(key, lie):
    der = key.public_key_der()
    pem = ENCRYPTED_PEM
    assert wfc.FlowPrivateKey.from_pem(lying_bytes(pem, lie), lying_str(PASSPHRASE, lie)).public_key_der() == der
    assert wfc.FlowPrivateKey.from_pem(lying_str(pem.decode(), lie), lying_bytes(PASSPHRASE.encode(), lie)).public_key_der() == der
    assert wfc.FlowPrivateKey.from_der(lying_bytes(key.private_key_der(), lie)).public_key_der() == der
    with pytest.raises(wfc.FlowCryptoError):
        # the real passphrase is "x", not the 4096 bytes a lying encode() would give
        wfc.FlowPrivateKey.from_pem(pem, lying_str("x", lie))


def test_str_subclass_cannot_substitute_its_bytes(key):
    assert wfc.sign(lying_str("body", 3), "s") == wfc.sign("body", "s")
    assert wfc.verify_signature("body", wfc.sign("body", "s"), lying_str("s", 99))


def test_non_contiguous_and_shaped_buffers_are_read_in_c_order():
    data = bytes(range(256)) * 4
    strided = memoryview(data)[::2]
    assert wfc.sign(strided, "s") == wfc.sign(data[::2], "s")
    shaped = memoryview(data).cast("B", (32, 32))
    assert wfc.sign(shaped, "s") == wfc.sign(data, "s")
    ints = array.array("I", [1, 2, 3])
    assert wfc.sign(ints, "s") == wfc.sign(ints.tobytes(), "s")
    assert wfc.sign(memoryview(ints), "s") == wfc.sign(ints.tobytes(), "s")


def test_released_views_and_closed_maps_are_type_errors():
    view = memoryview(b"abc")
    view.release()
    with pytest.raises(TypeError):
        wfc.sign(view, "s")
    m = mmap.mmap(-1, 16)
    m.close()
    with pytest.raises(TypeError):
        wfc.sign(m, "s")
    with pytest.raises(TypeError):
        wfc.MediaDecryptor(SIZE_1000["metadata"]).update(m)


def test_mmap_and_shared_memory_buffers():
    m = mmap.mmap(-1, len(CDN_1000))
    m.write(CDN_1000)
    try:
        assert wfc.decrypt_media_content(m, SIZE_1000["metadata"]) == PLAIN_1000
        assert wfc.decrypt_media_content(memoryview(m), SIZE_1000["metadata"]) == PLAIN_1000
        m.close()  # nothing kept an export of the map
    finally:
        if not m.closed:
            m.close()
    shm = shared_memory.SharedMemory(create=True, size=len(CDN_1000))
    try:
        shm.buf[: len(CDN_1000)] = CDN_1000
        d = wfc.MediaDecryptor(SIZE_1000["metadata"])
        out = d.update(shm.buf[: len(CDN_1000)]) + d.finish()
        assert out == PLAIN_1000
    finally:
        shm.close()  # raises BufferError if the package kept a view of shm.buf
        shm.unlink()


def test_a_buffer_mutated_by_another_thread_is_copied_first():
    size = 1 << 20
    data = bytearray(b"a" * size)
    # A copy is a snapshot: each signature is that of one state the buffer was really in.
    states = set()
    for first in (b"a", b"`"):
        for last in (b"a", b"`"):
            base = first + b"a" * (size - 2) + last
            states.add(wfc.sign(base, "s"))
    stop = threading.Event()

    def scribble():
        while not stop.is_set():
            data[0] ^= 1
            data[-1] ^= 1

    t = threading.Thread(target=scribble)
    t.start()
    try:
        for _ in range(50):
            assert wfc.sign(data, "s") in states
            assert wfc.sign(memoryview(data), "s") in states
    finally:
        stop.set()
        t.join()
    data.append(0)  # no export of the caller's buffer outlives a call
    del data[-1]


def test_non_buffer_types_are_type_errors(key):
    for bad in (None, 12, 1.5, object(), ["a"], {1, 2}):
        with pytest.raises(TypeError):
            wfc.sign(bad, "s")
        with pytest.raises(TypeError):
            wfc.sign(b"x", bad)
        with pytest.raises(TypeError):
            wfc.MediaDecryptor(SIZE_1000["metadata"]).update(bad)
        with pytest.raises(TypeError):
            wfc.MediaVerifier(SIZE_1000["metadata"]).update(bad)
        with pytest.raises(TypeError):
            wfc.decrypt_media_content(bad, SIZE_1000["metadata"])
        with pytest.raises(TypeError):
            wfc.FlowPrivateKey.from_der(bad)
        with pytest.raises(TypeError):
            wfc.encrypt_response("{}", bad, IV)
        with pytest.raises(TypeError):
            wfc.encrypt_response("{}", AES_KEY, bad)
        with pytest.raises(TypeError):
            wfc.decrypt_payload(PING["request"], bad)
        with pytest.raises(TypeError):
            wfc.unwrap_aes_key(bad, key)
    for bad in (12, 1.5, object(), ["a"]):
        with pytest.raises(TypeError):
            wfc.FlowPrivateKey.from_pem(ENCRYPTED_PEM, bad)
        with pytest.raises(TypeError):
            key.private_key_pem(bad)
        with pytest.raises(TypeError):
            wfc.verify_signature(b"x", bad, "s")


# -- 2. lifecycle and None --------------------------------------------------------------------


def test_unwrap_aes_key_with_none_key_is_a_type_error():
    wrapped = wfc.parse_request(PING["request"]).encrypted_aes_key
    for bad in (None, "key", object()):
        with pytest.raises(TypeError):
            wfc.unwrap_aes_key(wrapped, bad)
        with pytest.raises(TypeError):
            wfc.decrypt_request(PING["request"], bad)


def test_none_everywhere(key):
    r = wfc.decrypt_request(PING["request"], key)
    calls = [
        lambda: wfc.decrypt_request(None, key),
        lambda: wfc.parse_request(None),
        lambda: wfc.decrypt_payload(None, r.aes_key),
        lambda: wfc.encrypt_response(None, r.aes_key, r.iv),
        lambda: r.encrypt_response(None),
        lambda: wfc.decrypt_media_content(CDN_1000, None),
        lambda: wfc.MediaDecryptor(None),
        lambda: wfc.MediaVerifier(None),
        lambda: wfc.verify_signature(None, "sha256=00", "s"),
        lambda: wfc.verify_signature(b"x", "sha256=00", None),
        lambda: wfc.sign(None, "s"),
        lambda: wfc.FlowPrivateKey.from_pem(None),
        lambda: wfc.FlowPrivateKey.from_der(None),
        lambda: wfc.FlowPrivateKey(None),
        lambda: wfc.DecryptedRequest(None),
        lambda: wfc.EncryptedRequest(None),
    ]
    for call in calls:
        with pytest.raises(TypeError):
            call()
    assert wfc.verify_signature(b"x", None, "s") is False  # a missing header: 432, not a crash


def test_the_pywa_media_adapter_refuses_a_broken_media_entry():
    from wa_flows_crypto.pywa import flow_request_media_decryptor

    with pytest.raises(TypeError):
        flow_request_media_decryptor(None)
    entry = {"cdn_url": "http://127.0.0.1:9/x", "media_id": "1", "file_name": "f",
             "encryption_metadata": SIZE_1000["metadata"]}
    for field in list(entry):
        broken = {k: v for k, v in entry.items() if k != field}
        with pytest.raises(wfc.FlowCryptoError) as info:
            flow_request_media_decryptor(broken)
        assert info.value.code == "malformed" and field in str(info.value)


def test_bytes_processed_keeps_the_total_after_finish():
    d = wfc.MediaDecryptor(SIZE_1000["metadata"])
    d.update(CDN_1000[:100])
    d.update(CDN_1000[100:])
    d.finish()
    assert d.bytes_processed == len(CDN_1000)
    failed = wfc.MediaDecryptor(SIZE_1000["metadata"])
    failed.update(CDN_1000[:-1])
    with pytest.raises(wfc.FlowCryptoError):
        failed.finish()
    assert failed.bytes_processed == len(CDN_1000) - 1


# -- 3. responses must be JSON ----------------------------------------------------------------


def circular():
    d = {"a": []}
    d["a"].append(d)
    return d


def deep(n):
    root = cur = {}
    for _ in range(n):
        cur["a"] = {}
        cur = cur["a"]
    return root


class LyingFloat(float):
    """A NaN or an infinity that says it equals nothing but is not unequal to itself."""

    def __eq__(self, other):
        return False

    def __ne__(self, other):
        return False

    __hash__ = float.__hash__


NOT_JSON = [
    {"a": float("nan")},
    {"a": LyingFloat("nan")},
    {"a": LyingFloat("-inf")},
    {"a": float("inf")},
    {"a": [float("-inf")]},
    {"a": {1, 2}},
    {1: "int key"},
    {None: "None key"},
    {("t",): "tuple key"},
    {"a": object()},
    {"a": b"bytes"},
    {"a": 10**5000},
    circular(),
    deep(10**5),
]


@pytest.mark.parametrize("value", NOT_JSON, ids=range(len(NOT_JSON)))
def test_a_response_that_is_not_json_is_a_type_error(key, value):
    r = wfc.decrypt_request(PING["request"], key)
    with pytest.raises(TypeError):
        wfc.encrypt_response(value, r.aes_key, r.iv)
    with pytest.raises(TypeError):
        r.encrypt_response(value)
    from wa_flows_crypto.pywa import flow_response_encryptor

    with pytest.raises(TypeError):
        flow_response_encryptor(value, r.aes_key, r.iv)


def test_a_response_is_written_as_json_dumps_writes_it(key):
    class K(str):
        def __str__(self):
            return "other"

    class N(int):
        def __repr__(self):
            return "other"

    class D(dict):
        def items(self):
            return [("other", 1)]

    r = wfc.decrypt_request(PING["request"], key)
    value = {"s": "é😀\u2028\"\\", K("k"): N(7), "f": [1.5, -0.0, 1e300], "t": (True, False, None),
             "d": D(x=1), "big": 10**300, "nested": deep(900)}
    expected = wfc._json.dumps({**value, "d": {"x": 1}})
    assert r.encrypt_response(value) == wfc.encrypt_response(expected, r.aes_key, r.iv)


def test_plain_values_take_json_dumps_and_write_the_same_text():
    """Values of the JSON types exactly go to json.dumps (the fast route); everything else to
    the written one. Both give json.dumps' text for random plain values, and the fast route
    is refused for a subclass anywhere, a non-str key, a non-finite float or a deep value."""
    import random

    rng = random.Random(7)

    def plain(depth=0):
        kind = rng.randrange(8 if depth < 4 else 5)
        if kind == 0:
            return rng.choice(["", "a", "é😀\u2028\"\\", "x" * rng.randrange(40)])
        if kind == 1:
            return rng.choice([0, -1, 10**30, True, False, None])
        if kind == 2:
            return rng.choice([1.5, -0.0, 1e300, 5e-324])
        if kind in (3, 4):
            return None
        if kind == 5:
            return [plain(depth + 1) for _ in range(rng.randrange(4))]
        if kind == 6:
            return tuple(plain(depth + 1) for _ in range(rng.randrange(3)))
        return {f"k{i}": plain(depth + 1) for i in range(rng.randrange(4))}

    for _ in range(300):
        value = {"root": plain()}
        assert wfc._plain_json(value, True)
        assert wfc._json_text(value, "r", True) == wfc._written_json_text(value, "r", True) == wfc._json.dumps(value)

    class S(str):
        pass

    for refused in ({"a": [S("x")]}, {1: "a"}, {"a": float("nan")}, {"a": (dict, )}, deep(1001)):
        assert not wfc._plain_json(refused, True)
    assert wfc._plain_json({"a": float("nan")}, False)
    shared = [1]
    assert wfc._plain_json({"a": shared, "b": shared}, True)
    looped: list = []
    looped.append(looped)
    assert wfc._plain_json(looped, True)  # the walk ends; json.dumps then refuses the cycle
    with pytest.raises(TypeError, match="circular"):
        wfc._json_text(looped, "r", True)


def test_a_parsed_request_body_that_is_not_json_is_the_cores_malformed(key):
    body = wfc._json.loads(PING["request"]) if isinstance(PING["request"], str) else dict(PING["request"])
    body["extra"] = float("nan")
    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.decrypt_request(body, key)
    assert info.value.code == "malformed" and info.value.http_status == 421
    body["extra"] = deep(10**5)
    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.decrypt_request(body, key)
    assert info.value.code == "malformed"
    body["extra"] = circular()
    with pytest.raises(TypeError):
        wfc.decrypt_request(body, key)


def sealed(key, plaintext):
    """A request for `key` with this plaintext: what anyone holding the public key can send."""
    import base64
    import os

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    public = serialization.load_pem_public_key(key.public_key_pem().encode())
    aes_key, iv = os.urandom(16), os.urandom(16)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    parts = {
        "encrypted_flow_data": AESGCM(aes_key).encrypt(iv, plaintext, None),
        "encrypted_aes_key": public.encrypt(aes_key, oaep),
        "initial_vector": iv,
    }
    return {name: base64.b64encode(value).decode() for name, value in parts.items()}


@pytest.mark.parametrize("plaintext", [b"[" * 100_000 + b"]" * 100_000, b'{"a": NaN}', b"[Infinity]", b"not json",
                                       b'{"a": 1} x'])
def test_a_payload_that_is_not_a_json_object_is_the_cores_malformed(key, plaintext):
    # The core refuses it when decrypting (every request is a JSON object), for every caller;
    # request.json() and .flow never see it.
    for ring in (key, wfc.FlowKeyRing([key])):
        with pytest.raises(wfc.FlowCryptoError) as info:
            wfc.decrypt_request(sealed(key, plaintext), ring)
        assert info.value.code == "malformed" and info.value.http_status == 421


def test_an_object_nested_too_deeply_for_python_is_malformed(key):
    # A JSON object the core accepts as a payload, too deep for json.loads and for the core's
    # flow view: malformed (421) both ways, never a RecursionError.
    plaintext = b'{"action": "ping", "a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    request = wfc.decrypt_request(sealed(key, plaintext), key)
    for read in (request.json, lambda: request.flow):
        with pytest.raises(wfc.FlowCryptoError) as info:
            read()
        assert info.value.code == "malformed" and info.value.http_status == 421


# -- 4. lone surrogates -----------------------------------------------------------------------


def test_lone_surrogates_in_configured_text_are_type_errors(key):
    for text in ("\ud800", "ok\udfff", lying_str("\udc80", 1)):
        for call in (
            lambda: wfc.sign(b"x", text),
            lambda: wfc.verify_signature(b"x", "sha256=" + "0" * 64, text),
            lambda: wfc.FlowPrivateKey.from_pem(ENCRYPTED_PEM, text),
            lambda: key.private_key_pem(text),
            lambda: wfc.FlowPrivateKey.from_pem(text),
            lambda: wfc.sign(text, "s"),
            lambda: wfc.encrypt_response(text, AES_KEY, IV),
        ):
            with pytest.raises(TypeError, match="not valid Unicode text"):
                call()


def test_lone_surrogates_from_the_wire_are_the_cores_refusal(key):
    assert wfc.verify_signature(b"x", "sha256=\ud800" + "0" * 63, "s") is False
    assert wfc.verify_signature("x\ud800", wfc.sign(b"x", "s"), "s") is False
    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.decrypt_request('{"encrypted_flow_data": "\ud800"}', key)
    assert info.value.code == "malformed" and info.value.http_status == 421


# -- 5. an empty app secret -------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["", b"", bytearray(), memoryview(b""), lying_bytes(b"", 32)])
def test_an_empty_app_secret_is_invalid_configuration(secret):
    header = wfc.sign(b"body", b"")
    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.verify_signature(b"body", header, secret)
    assert info.value.code == "invalid_configuration" and info.value.http_status == 500
    assert "app secret" in str(info.value)


# -- 6. key sizes -----------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [2**32 + 2048, 2**64, 2**64 + 2048, -1, -2048, 0, 1, 1024, 10**30])
def test_unsupported_key_sizes_are_invalid_key(bits):
    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.FlowPrivateKey.generate(bits)
    assert info.value.code == "invalid_key" and info.value.http_status == 500
    assert "2048" in str(info.value)


@pytest.mark.parametrize("bits", [True, False, 2048.0, "2048", None, b"\x08\x00"])
def test_key_sizes_that_are_not_ints_are_type_errors(bits):
    with pytest.raises(TypeError):
        wfc.FlowPrivateKey.generate(bits)


def test_an_int_subclass_is_read_by_its_value():
    class Lying(int):
        def __index__(self):
            return 2048

        def __int__(self):
            return 2048

        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    with pytest.raises(wfc.FlowCryptoError) as info:
        wfc.FlowPrivateKey.generate(Lying(10**30))
    assert info.value.code == "invalid_key"


# -- 7. threads and interrupts ----------------------------------------------------------------


def test_one_decryptor_fed_from_many_threads_stays_consistent():
    v = MEDIA["size_1048579"]
    data = (VECTORS / v["file"]).read_bytes()
    plain = (VECTORS / v["expect"]["plaintext_file"]).read_bytes()
    d = wfc.MediaDecryptor(v["metadata"])
    lock = threading.Lock()
    chunks = iter(range(0, len(data), 4096))
    out = {}
    errors = []

    def work():
        try:
            while True:
                with lock:
                    try:
                        start = next(chunks)
                    except StopIteration:
                        return
                    # update() under the caller's own lock keeps the order; other threads
                    # read bytes_processed concurrently without it
                    out[start] = d.update(data[start:start + 4096])
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    def read():
        for _ in range(2000):
            assert 0 <= d.bytes_processed <= len(data)

    threads = [threading.Thread(target=work) for _ in range(3)] + [threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert b"".join(out[k] for k in sorted(out)) + d.finish() == plain


def test_concurrent_updates_never_race_inside_the_decryptor():
    v = MEDIA["size_1048579"]
    data = (VECTORS / v["file"]).read_bytes()
    d = wfc.MediaDecryptor(v["metadata"])
    errors = []

    def work():
        try:
            for _ in range(64):
                d.update(data[:4096])
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert d.bytes_processed == 4 * 64 * 4096


def test_an_interrupt_never_loses_plaintext_silently(monkeypatch):
    v = MEDIA["size_65536"]
    data = (VECTORS / v["file"]).read_bytes()
    plain = (VECTORS / v["expect"]["plaintext_file"]).read_bytes()
    d = wfc.MediaDecryptor(v["metadata"])
    d.update(data[:1000])
    real_copy_out = wfc._copy_out

    def interrupted(*args):
        real_copy_out(*args)
        raise KeyboardInterrupt

    # A KeyboardInterrupt after the library consumed the chunk but before the plaintext got
    # back to the caller: the decryptor must not go on as if the caller had it.
    monkeypatch.setattr(wfc, "_copy_out", interrupted)
    with pytest.raises(KeyboardInterrupt):
        d.update(data[1000:2000])
    monkeypatch.undo()
    assert d.bytes_processed == 2000
    with pytest.raises(wfc.FlowCryptoError) as info:
        d.update(data[2000:])
    assert info.value.code == "already_finished"
    with pytest.raises(wfc.FlowCryptoError):
        d.finish()
    # an interrupt before the library ran loses nothing
    d = wfc.MediaDecryptor(v["metadata"])
    first = d.update(data[:1000])
    monkeypatch.setattr(wfc, "_input", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        d.update(data[1000:])
    monkeypatch.undo()
    assert first + d.update(data[1000:]) + d.finish() == plain
