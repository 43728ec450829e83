"""End-to-end tests of examples/endpoint.py and examples/pywa_bot.py, played as WhatsApp plays.

The endpoint runs as a subprocess on 127.0.0.1 with a generated key; a fake CDN (http.server in
a thread, another loopback port) serves media files. The WhatsApp side (request sealing,
response opening, media sealing, signatures) is written here independently of the library,
with the `cryptography` package and the standard library, so a bug shared by the library and
the example cannot pass unnoticed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import importlib.util
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wa_flows_crypto import FlowPrivateKey

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
ENDPOINT = EXAMPLES / "endpoint.py"
APP_SECRET = "example app secret, not a real one"
PREVIOUS_APP_SECRET = "the app secret before the reset"
CONFIG_VARS = ("PRIVATE_KEY", "PRIVATE_KEY_FILE", "PASSPHRASE", "APP_SECRET", "PORT", "HOST",
               "MEDIA_ALLOW_HTTP", "PREVIOUS_PRIVATE_KEY", "PREVIOUS_PRIVATE_KEY_FILE",
               "PREVIOUS_PASSPHRASE", "PREVIOUS_APP_SECRET", "FLOW_TOKEN_SIGNATURE")
START_TIMEOUT = 60.0
HTTP_TIMEOUT = 60.0


# --- the WhatsApp side, independent of the library ---------------------------------------------


def invert(iv: bytes) -> bytes:
    return bytes(b ^ 0xFF for b in iv)


@dataclass
class Session:
    """What WhatsApp keeps of one request to open the answer."""

    aes_key: bytes
    iv: bytes

    def open(self, body: str) -> str:
        data = base64.b64decode(body, validate=True)
        ciphertext, tag = data[:-16], data[-16:]
        decryptor = Cipher(algorithms.AES(self.aes_key), modes.GCM(invert(self.iv), tag)).decryptor()
        return (decryptor.update(ciphertext) + decryptor.finalize()).decode("utf-8")


def seal_parts(public_key: Any, plaintext: bytes) -> Tuple[Dict[str, bytes], Session]:
    """RSA-OAEP-SHA256 wrap of a random AES-128 key; AES-128-GCM with a 16-byte IV."""
    aes_key, iv = os.urandom(16), os.urandom(16)
    wrapped = public_key.encrypt(
        aes_key,
        asym_padding.OAEP(mgf=asym_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )
    encryptor = Cipher(algorithms.AES(aes_key), modes.GCM(iv)).encryptor()
    data = encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag
    return {"encrypted_flow_data": data, "encrypted_aes_key": wrapped, "initial_vector": iv}, Session(aes_key, iv)


def to_body(parts: Dict[str, bytes]) -> bytes:
    return json.dumps({k: base64.b64encode(v).decode() for k, v in parts.items()}).encode()


def seal(public_key: Any, request: Any) -> Tuple[bytes, Session]:
    plaintext = request if isinstance(request, bytes) else json.dumps(request).encode()
    parts, session = seal_parts(public_key, plaintext)
    return to_body(parts), session


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def flow_token_signature(flow_token: str, secret: str = APP_SECRET, exp: Optional[int] = None) -> str:
    """Data API 4.0: an HS256 JWT over {"flow_token": ...}, as WhatsApp makes it."""
    claims: Dict[str, Any] = {"flow_token": flow_token}
    if exp is not None:
        claims["exp"] = exp
    signing_input = b64url(b'{"alg":"HS256","typ":"JWT"}') + "." + b64url(compact(claims).encode())
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(mac)


def v4(flow_token: str = "tok-4", signature: Optional[str] = None, **fields: Any) -> Dict[str, Any]:
    """A data API 4.0 request for SUMMARY (answered by closing the flow), signed unless given."""
    request = {"version": "4.0", "action": "data_exchange", "screen": "SUMMARY", "data": {},
               "flow_token": flow_token,
               "flow_token_signature": flow_token_signature(flow_token) if signature is None else signature}
    request.update(fields)
    return request


def closed(flow_token: str) -> Dict[str, Any]:
    return {"screen": "SUCCESS", "data": {"extension_message_response": {"params": {"flow_token": flow_token}}}}


def seal_media(plaintext: bytes) -> Tuple[bytes, Dict[str, str]]:
    """AES-256-CBC + PKCS#7, HMAC-SHA256(iv || ciphertext)[:10] appended, SHA-256 hashes."""
    key, mac_key, iv = os.urandom(32), os.urandom(32), os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    cdn_file = ciphertext + hmac.new(mac_key, iv + ciphertext, hashlib.sha256).digest()[:10]
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return cdn_file, {
        "encryption_key": b64(key),
        "hmac_key": b64(mac_key),
        "iv": b64(iv),
        "plaintext_hash": b64(hashlib.sha256(plaintext).digest()),
        "encrypted_hash": b64(hashlib.sha256(cdn_file).digest()),
    }


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def profile(error_message: str) -> Dict[str, Any]:
    return {"screen": "PROFILE", "data": {"error_message": error_message}}


def ping() -> Dict[str, Any]:
    return {"version": "3.0", "action": "ping"}


# --- the fake CDN ------------------------------------------------------------------------------


class FakeCdn:
    """Serves registered files on 127.0.0.1; /redirect/NAME answers 302 to /media/NAME."""

    def __init__(self) -> None:
        self.files: Dict[str, bytes] = {}
        self.hits: Dict[str, int] = {}
        self.lock = threading.Lock()
        cdn = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                with cdn.lock:
                    cdn.hits[self.path] = cdn.hits.get(self.path, 0) + 1
                    data = cdn.files.get(self.path)
                if self.path.startswith("/redirect/"):
                    self.send_response(302)
                    self.send_header("Location", "/media/" + self.path[len("/redirect/"):])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                # In pieces, so the endpoint really decrypts chunk by chunk.
                for start in range(0, len(data), 100_003):
                    self.wfile.write(data[start:start + 100_003])

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def add(self, name: str, cdn_file: bytes) -> str:
        with self.lock:
            self.files["/media/" + name] = cdn_file
        return f"{self.base}/media/{name}"

    def upload(self, file_name: Optional[str], plaintext: bytes) -> Dict[str, Any]:
        """Seals a photo, serves it, and returns the PhotoPicker entry WhatsApp would send."""
        cdn_file, metadata = seal_media(plaintext)
        media_id = hashlib.sha256(os.urandom(8)).hexdigest()[:16]
        entry: Dict[str, Any] = {"media_id": media_id, "cdn_url": self.add(media_id, cdn_file),
                                 "encryption_metadata": metadata}
        if file_name is not None:
            entry["file_name"] = file_name
        return entry

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


# --- the endpoint as a subprocess --------------------------------------------------------------


def clean_env(**config: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env.update(config)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Endpoint:
    """examples/endpoint.py started on 127.0.0.1 with PORT=0; its stderr read by a thread."""

    def __init__(self, **config: str) -> None:
        config.setdefault("HOST", "127.0.0.1")
        config.setdefault("PORT", "0")
        self.proc = subprocess.Popen(
            [sys.executable, str(ENDPOINT)], env=clean_env(**config),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.log: List[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.url = ""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                self.url = match.group(1)
                break
        if not self.url:
            self.stop()
            raise AssertionError("the endpoint did not start:\n" + "\n".join(self.log))

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log.append(line)
            self.lines.put(line)

    def request_lines(self, count: int, timeout: float = 10.0) -> List[str]:
        """Waits (bounded) until at least `count` request log lines arrived; returns them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = [l for l in list(self.log) if re.match(r"flow endpoint: \d{3} ", l)]
            if len(lines) >= count:
                return lines
            time.sleep(0.05)
        raise AssertionError(f"expected {count} request log lines:\n" + "\n".join(self.log))

    def stop(self) -> int:
        """SIGTERM, 15 s for a graceful stop, then SIGKILL. Returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.reader.join(timeout=10)
        return self.proc.returncode


class WhatsAppSide:
    """Plays WhatsApp against an endpoint."""

    def __init__(self, url: str, public_key: Any, app_secret: Optional[str]) -> None:
        self.url = url
        self.public_key = public_key
        self.app_secret = app_secret
        self.http = httpx.Client(timeout=HTTP_TIMEOUT)

    def post(self, body: bytes, content_type: Optional[str] = "application/json",
             signature: Any = "sign") -> httpx.Response:
        headers: Dict[str, Any] = {}
        if content_type is not None:
            headers["Content-Type"] = content_type
        if signature == "sign":
            if self.app_secret is not None:
                headers["X-Hub-Signature-256"] = sign(body, self.app_secret)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return self.http.post(self.url, content=body, headers=headers)

    def call_text(self, request: Any) -> str:
        """Seals, posts signed, checks 200 text/plain, opens: the answer's JSON text."""
        body, session = seal(self.public_key, request)
        reply = self.post(body)
        assert reply.status_code == 200, (reply.status_code, reply.text)
        assert reply.headers["content-type"].startswith("text/plain"), reply.headers
        return session.open(reply.text)

    def call(self, request: Any) -> Any:
        return json.loads(self.call_text(request))

    def expect_refused(self, reply: httpx.Response, status: int, code: str) -> None:
        assert (reply.status_code, reply.text) == (status, code)
        assert reply.headers["content-type"].startswith("text/plain"), reply.headers

    def close(self) -> None:
        self.http.close()


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flow_key() -> FlowPrivateKey:
    return FlowPrivateKey.generate()


@pytest.fixture(scope="module")
def public_key(flow_key: FlowPrivateKey) -> Any:
    return serialization.load_pem_public_key(flow_key.public_key_pem().encode())


@pytest.fixture(scope="module")
def cdn():
    server = FakeCdn()
    yield server
    server.close()


@pytest.fixture(scope="module")
def endpoint(flow_key: FlowPrivateKey):
    server = Endpoint(PRIVATE_KEY=flow_key.private_key_pem(), APP_SECRET=APP_SECRET, MEDIA_ALLOW_HTTP="1")
    yield server
    assert server.stop() == 0, "\n".join(server.log)
    assert server.log[-1] == "flow endpoint: stopped"


@pytest.fixture()
def wa(endpoint: Endpoint, public_key: Any):
    side = WhatsAppSide(endpoint.url, public_key, APP_SECRET)
    yield side
    side.close()


# --- the endpoint: the flow --------------------------------------------------------------------


def test_get_answers_humans(endpoint: Endpoint) -> None:
    reply = httpx.get(endpoint.url, timeout=HTTP_TIMEOUT)
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    assert "POST" in reply.text


def test_ping_and_error_notifications(wa: WhatsAppSide) -> None:
    # Byte for byte the README's JSON.
    assert wa.call_text(ping()) == '{"data":{"status":"active"}}'
    assert wa.call_text({"version": "3.0", "action": "PING"}) == '{"data":{"status":"active"}}'
    for action, screen in [("data_exchange", "PROFILE"), ("INIT", None), ("BACK", "SUMMARY")]:
        notification = {"version": "3.0", "action": action, "flow_token": "t",
                        "data": {"error": "INVALID_SCREEN_TRANSITION", "error_message": "x"}}
        if screen:
            notification["screen"] = screen
        assert wa.call_text(notification) == '{"data":{"acknowledged":true}}'
    # Some clients send only the error's key.
    only_key = {"version": "3.0", "action": "data_exchange", "screen": "PROFILE", "flow_token": "t",
                "data": {"error_key": "flow.error.timeout"}}
    assert wa.call_text(only_key) == '{"data":{"acknowledged":true}}'


def test_data_api_4_flow_token_signatures(wa: WhatsAppSide, endpoint: Endpoint, public_key: Any) -> None:
    assert wa.call(v4("tok-4")) == closed("tok-4")
    assert wa.call(v4("tok-5", flow_token_signature("tok-5", exp=int(time.time()) + 600))) == closed("tok-5")
    # Forged, expired, for another token, or not a JWT: 427, before the flow runs.
    for request in (v4("tok-4", flow_token_signature("tok-4", secret="not the app secret")),
                    v4("tok-4", flow_token_signature("tok-4", exp=int(time.time()) - 3600)),
                    v4("tok-4", flow_token_signature("another token")),
                    v4("tok-4", "not.a.jwt")):
        body, _ = seal(public_key, request)
        wa.expect_refused(wa.post(body), 427, "invalid_flow_token_signature")
    # Data API 3.0 (no signature) still works under the default policy, if_present.
    assert wa.call({"version": "3.0", "action": "data_exchange", "screen": "SUMMARY",
                    "flow_token": "t3", "data": {}}) == closed("t3")
    assert "flow endpoint: 427 invalid_flow_token_signature" in "\n".join(endpoint.request_lines(1))


def test_screens(wa: WhatsAppSide) -> None:
    assert wa.call_text({"version": "3.0", "action": "INIT", "flow_token": "t"}) == \
        '{"screen":"PROFILE","data":{"error_message":""}}'
    assert wa.call({"version": "3.0", "action": "BACK", "screen": "SUMMARY", "flow_token": "t"}) == profile("")
    assert wa.call({"version": "3.0", "action": "data_exchange", "screen": "SUMMARY",
                    "flow_token": "tok-1", "data": {}}) == \
        {"screen": "SUCCESS", "data": {"extension_message_response": {"params": {"flow_token": "tok-1"}}}}
    assert wa.call({"version": "3.0", "action": "data_exchange", "screen": "SUMMARY", "data": {}}) == \
        {"screen": "SUCCESS", "data": {"extension_message_response": {"params": {"flow_token": ""}}}}
    assert wa.call({"version": "3.0", "action": "data_exchange", "screen": "ELSEWHERE", "data": {}}) == \
        profile("unknown screen")
    assert wa.call({"version": "3.0", "action": "data_exchange", "data": {}}) == profile("unknown screen")
    assert wa.call({"version": "3.0", "action": "navigate", "screen": "PROFILE"}) == profile("unsupported action")
    # Actions are read as the core reads them: ASCII case-insensitively, nothing more.
    assert wa.call({"version": "3.0", "action": "init"}) == profile("")
    assert wa.call({"version": "3.0", "action": "BAC\u212a", "screen": "SUMMARY"}) == profile("unsupported action")
    assert wa.call({"version": "3.0", "action": "data_exchange", "screen": "PROFILE",
                    "data": {"name": "Bo", "photos": "not a list"}}) == profile("photos is not a list")


def test_three_photos_are_downloaded_and_decrypted(wa: WhatsAppSide, endpoint: Endpoint, cdn: FakeCdn) -> None:
    photos = [("IMG_0001.jpg", os.urandom(1)), ("IMG_0002.jpg", os.urandom(65_537)),
              ("holiday é.png", os.urandom(1_504_481))]
    entries = [cdn.upload(name, data) for name, data in photos]
    # One of them through a redirect (followed: http:// is allowed for this test).
    entries[1]["cdn_url"] = entries[1]["cdn_url"].replace("/media/", "/redirect/")
    text = wa.call_text({"version": "3.0", "action": "data_exchange", "screen": "PROFILE",
                         "flow_token": "t", "data": {"name": "Ada Lovelace", "photos": entries}})
    expected_photos = [{"file_name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                       for name, data in photos]
    expected = {"screen": "SUMMARY", "data": {
        "name": "Ada Lovelace", "photo_count": 3, "total_bytes": 1_570_019, "photos": expected_photos,
        "summary": "3 photos, 1570019 bytes"}}
    # Byte for byte (key order as in the README): the server decrypted every byte of each file.
    assert text == compact(expected)
    for entry in entries:
        path = entry["cdn_url"][len(cdn.base):]
        assert cdn.hits.get(path) == 1, (path, cdn.hits)
    # Zero photos, or none given.
    for data in [{"name": "Ada"}, {"name": "Ada", "photos": None}, {"name": 3, "photos": []}]:
        answer = wa.call({"version": "3.0", "action": "data_exchange", "screen": "PROFILE", "data": data})
        assert answer["screen"] == "SUMMARY"
        assert answer["data"]["photo_count"] == 0 and answer["data"]["summary"] == "0 photos, 0 bytes"
    # Nothing of the request in the log: no name, no file name, no key, no secret.
    logged = "\n".join(endpoint.log)
    for secret in ["Ada", "IMG_000", "holiday", "PRIVATE KEY", APP_SECRET]:
        assert secret not in logged
    assert any(re.fullmatch(r"flow endpoint: 200 data_exchange \d+\.\dms", l) for l in endpoint.log)


def test_photo_failures_name_the_first_failing_photo(wa: WhatsAppSide, cdn: FakeCdn) -> None:
    def submit(entries: List[Any]) -> Any:
        return wa.call({"version": "3.0", "action": "data_exchange", "screen": "PROFILE",
                        "data": {"name": "x", "photos": entries}})

    good = cdn.upload("good.jpg", os.urandom(5000))

    # The file changed on the CDN: refused by a check of the library.
    tampered = cdn.upload("tampered.jpg", os.urandom(5000))
    path = tampered["cdn_url"][len(cdn.base):]
    cdn.files[path] = cdn.files[path][:100] + bytes([cdn.files[path][100] ^ 1]) + cdn.files[path][101:]
    answer = submit([good, tampered])
    assert answer["screen"] == "PROFILE"
    assert answer["data"]["error_message"] in {
        "could not read photo tampered.jpg: encrypted_hash_mismatch",
        "could not read photo tampered.jpg: hmac_mismatch"}

    # The file is intact (its hash matches) but the metadata lies about the MAC key / plaintext.
    wrong_mac = cdn.upload("wrong_mac.jpg", os.urandom(100))
    wrong_mac["encryption_metadata"]["hmac_key"] = base64.b64encode(os.urandom(32)).decode()
    assert submit([wrong_mac]) == profile("could not read photo wrong_mac.jpg: hmac_mismatch")
    wrong_plain = cdn.upload("wrong_plain.jpg", os.urandom(100))
    wrong_plain["encryption_metadata"]["plaintext_hash"] = base64.b64encode(os.urandom(32)).decode()
    assert submit([wrong_plain]) == profile("could not read photo wrong_plain.jpg: plaintext_hash_mismatch")

    # In request order, whichever finishes first; labels #N without a file_name.
    missing = cdn.upload(None, b"x")
    missing["cdn_url"] = cdn.base + "/media/nothing-here"
    refused = cdn.upload("refused.jpg", b"x")
    refused["cdn_url"] = "ftp://127.0.0.1/file"
    assert submit([good, missing, refused]) == profile("could not read photo #2: download_failed")
    assert submit([good, refused, missing]) == profile("could not read photo refused.jpg: cdn_url_refused")
    bad_metadata = cdn.upload("meta.jpg", b"x")
    bad_metadata["encryption_metadata"]["iv"] = "not base64!"
    assert submit([bad_metadata]) == profile("could not read photo meta.jpg: malformed")
    assert submit(["just a string"]) == profile("could not read photo #1: malformed")
    assert submit([{"file_name": "no_url.jpg", "encryption_metadata": good["encryption_metadata"]}]) == \
        profile("could not read photo no_url.jpg: malformed")

    # More than 30: refused before any download.
    before = dict(cdn.hits)
    assert submit([good] * 31) == profile("too many photos: at most 30")
    assert cdn.hits == before


# --- the endpoint: refusals --------------------------------------------------------------------


def test_tampered_and_undecryptable_requests_get_421(wa: WhatsAppSide, public_key: Any) -> None:
    parts, _ = seal_parts(public_key, json.dumps(ping()).encode())
    data = bytearray(parts["encrypted_flow_data"])
    data[3] ^= 1
    wa.expect_refused(wa.post(to_body({**parts, "encrypted_flow_data": bytes(data)})), 421, "payload_auth")
    wrapped = bytearray(parts["encrypted_aes_key"])
    wrapped[10] ^= 1
    wa.expect_refused(wa.post(to_body({**parts, "encrypted_aes_key": bytes(wrapped)})), 421, "key_unwrap")
    other = serialization.load_pem_public_key(FlowPrivateKey.generate().public_key_pem().encode())
    body, _ = seal(other, ping())
    wa.expect_refused(wa.post(body), 421, "key_unwrap")

    # Truncated (signed as received), empty, not JSON.
    body, _ = seal(public_key, ping())
    wa.expect_refused(wa.post(body[: len(body) // 2]), 421, "malformed")
    wa.expect_refused(wa.post(b""), 421, "malformed")
    wa.expect_refused(wa.post(b"[1, 2]"), 421, "malformed")
    # Decrypts, but is no flow request.
    for plaintext in [b"hello", b"{}", b'{"action": 3}', b'["ping"]', b'{"action":"ping","screen":5}',
                      b'{"action":"INIT","flow_token":{}}', b"\xff\xfe", b'{"action":"ping","a":NaN}',
                      b"[" * 100_000 + b"]" * 100_000]:
        body, _ = seal(public_key, plaintext)
        wa.expect_refused(wa.post(body), 421, "malformed")
    # Still answering.
    assert wa.call(ping()) == {"data": {"status": "active"}}


def test_bad_signatures_get_432(wa: WhatsAppSide, public_key: Any) -> None:
    body, _ = seal(public_key, ping())
    odd = [sign(body, "not the secret"), "sha256=zz", "sha1=0000", "", "sha256=" + "0" * 64,
           b"sha256=\xff\xfe", b"sha256=" + "é".encode("latin-1") * 64, "x" * 5000]
    for signature in odd:
        wa.expect_refused(wa.post(body, signature=signature), 432, "invalid_signature")
    wa.expect_refused(wa.post(body, signature=None), 432, "invalid_signature")
    # Signed, then altered by one byte.
    wa.expect_refused(wa.post(body + b" ", signature=sign(body)), 432, "invalid_signature")
    # The signature is checked before anything else is: even an undecryptable body gets 432.
    wa.expect_refused(wa.post(b"garbage", signature="sha256=00"), 432, "invalid_signature")
    assert wa.call(ping()) == {"data": {"status": "active"}}


def test_content_type_and_size(wa: WhatsAppSide, public_key: Any) -> None:
    for content_type in [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx",
                         "json"]:
        body, _ = seal(public_key, ping())
        wa.expect_refused(wa.post(body, content_type=content_type), 415, "unsupported_media_type")
    for content_type in ["application/json; charset=utf-8", "Application/JSON", "application/json ;charset=UTF-8"]:
        body, session = seal(public_key, ping())
        reply = wa.post(body, content_type=content_type)
        assert reply.status_code == 200, content_type
        assert session.open(reply.text) == '{"data":{"status":"active"}}'
    wa.expect_refused(wa.post(b"a" * (1024 * 1024 + 1)), 413, "body_too_large")
    # Right at the limit is read (and refused only because it does not decrypt).
    wa.expect_refused(wa.post(b" " * (1024 * 1024)), 421, "malformed")


def test_200_concurrent_requests(endpoint: Endpoint, public_key: Any, cdn: FakeCdn) -> None:
    photo = os.urandom(20_000)
    entry = cdn.upload("c.jpg", photo)
    cases: List[Tuple[bytes, Session, Any]] = []
    for i in range(200):
        kind = i % 4
        if kind == 0:
            request, expected = ping(), {"data": {"status": "active"}}
        elif kind == 1:
            request, expected = {"version": "3.0", "action": "INIT", "flow_token": f"t{i}"}, profile("")
        elif kind == 2:
            token = f"token-{i}"
            request = {"version": "3.0", "action": "data_exchange", "screen": "SUMMARY",
                       "flow_token": token, "data": {}}
            expected = {"screen": "SUCCESS", "data": {"extension_message_response": {"params": {"flow_token": token}}}}
        else:
            name = f"user {i}"
            request = {"version": "3.0", "action": "data_exchange", "screen": "PROFILE",
                       "data": {"name": name, "photos": [entry]}}
            expected = {"screen": "SUMMARY", "data": {
                "name": name, "photo_count": 1, "total_bytes": len(photo),
                "photos": [{"file_name": "c.jpg", "size": len(photo), "sha256": hashlib.sha256(photo).hexdigest()}],
                "summary": f"1 photos, {len(photo)} bytes"}}
        body, session = seal(public_key, request)
        cases.append((body, session, expected))
    before = len(endpoint.request_lines(0))

    async def run() -> List[Tuple[int, str, str]]:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, limits=limits) as client:
            start = asyncio.Event()

            async def one(body: bytes) -> Tuple[int, str, str]:
                await start.wait()
                reply = await client.post(endpoint.url, content=body, headers={
                    "Content-Type": "application/json", "X-Hub-Signature-256": sign(body)})
                return reply.status_code, reply.headers.get("content-type", ""), reply.text

            tasks = [asyncio.ensure_future(one(body)) for body, _, _ in cases]
            await asyncio.sleep(0)
            start.set()
            return list(await asyncio.wait_for(asyncio.gather(*tasks), timeout=120))

    replies = asyncio.run(run())
    for (status, content_type, text), (_, session, expected) in zip(replies, cases):
        assert status == 200, text
        assert content_type.startswith("text/plain")
        assert json.loads(session.open(text)) == expected
    lines = endpoint.request_lines(before + 200)[before:]
    assert len(lines) == 200 and all(l.startswith("flow endpoint: 200 ") for l in lines)


# --- rotation: the previous key and the previous app secret -----------------------------------


def test_previous_key_and_previous_app_secret(flow_key: FlowPrivateKey, tmp_path: Path) -> None:
    old_key = FlowPrivateKey.generate()
    (tmp_path / "old.pem").write_text(old_key.private_key_pem("old passphrase"))
    server = Endpoint(PRIVATE_KEY=flow_key.private_key_pem(), PREVIOUS_PRIVATE_KEY_FILE=str(tmp_path / "old.pem"),
                      PREVIOUS_PASSPHRASE="old passphrase", APP_SECRET=APP_SECRET,
                      PREVIOUS_APP_SECRET=PREVIOUS_APP_SECRET)
    try:
        started = "\n".join(server.log)
        assert f"previous key {old_key.public_key_fingerprint()}" in started
        assert "with 2 app secrets" in started
        new_public = serialization.load_pem_public_key(flow_key.public_key_pem().encode())
        old_public = serialization.load_pem_public_key(old_key.public_key_pem().encode())
        for public in (new_public, old_public):
            for secret in (APP_SECRET, PREVIOUS_APP_SECRET):
                side = WhatsAppSide(server.url, public, secret)
                assert side.call(ping()) == {"data": {"status": "active"}}
                assert side.call(v4("tok-r", flow_token_signature("tok-r", secret))) == closed("tok-r")
                side.close()
        side = WhatsAppSide(server.url, old_public, "neither secret")
        body, _ = seal(old_public, ping())
        side.expect_refused(side.post(body), 432, "invalid_signature")
        other = serialization.load_pem_public_key(FlowPrivateKey.generate().public_key_pem().encode())
        body, _ = seal(other, ping())
        side.expect_refused(side.post(body, signature=sign(body)), 421, "key_unwrap")
        side.close()
        lines = server.request_lines(10)
        assert sum(bool(re.fullmatch(r"flow endpoint: 200 ping \d+\.\dms", l)) for l in lines) == 4
        assert "old passphrase" not in "\n".join(server.log)
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("policy", ["required", "off"])
def test_flow_token_signature_policy(flow_key: FlowPrivateKey, public_key: Any, policy: str) -> None:
    server = Endpoint(PRIVATE_KEY=flow_key.private_key_pem(), APP_SECRET=APP_SECRET, FLOW_TOKEN_SIGNATURE=policy)
    try:
        assert f"flow token signature {policy}" in "\n".join(server.log)
        side = WhatsAppSide(server.url, public_key, APP_SECRET)
        assert side.call(v4("tok-p")) == closed("tok-p")
        assert side.call(ping()) == {"data": {"status": "active"}}  # a ping carries no token
        unsigned = {"version": "3.0", "action": "data_exchange", "screen": "SUMMARY", "flow_token": "t", "data": {}}
        forged = v4("tok-p", flow_token_signature("tok-p", "forged"))
        if policy == "required":
            for request in (unsigned, forged):
                body, _ = seal(public_key, request)
                side.expect_refused(side.post(body), 427, "invalid_flow_token_signature")
        else:
            assert side.call(unsigned) == closed("t")
            assert side.call(forged) == closed("tok-p")
        side.close()
    finally:
        assert server.stop() == 0


# --- the endpoint without an app secret, and its start-up --------------------------------------


def test_without_app_secret_signatures_are_not_required(flow_key: FlowPrivateKey, public_key: Any,
                                                        tmp_path: Path) -> None:
    key_file = tmp_path / "private.pem"
    key_file.write_text(flow_key.private_key_pem())
    server = Endpoint(PRIVATE_KEY_FILE=str(key_file))
    try:
        assert any("APP_SECRET is not set" in l for l in server.log)
        assert "signature check off" in "\n".join(server.log)
        side = WhatsAppSide(server.url, public_key, None)
        assert side.call(ping()) == {"data": {"status": "active"}}
        body, session = seal(public_key, ping())
        reply = side.post(body, signature="sha256=zz")  # ignored, whatever it holds
        assert reply.status_code == 200 and session.open(reply.text) == '{"data":{"status":"active"}}'
        body, _ = seal(public_key, ping())
        side.expect_refused(side.post(body[:100]), 421, "malformed")
        side.expect_refused(side.post(body, content_type="text/plain"), 415, "unsupported_media_type")
        side.close()
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("form", ["escaped_pem", "der_file", "encrypted_pem", "pkcs1_crlf_quoted"])
def test_starts_with_any_key_format(form: str, tmp_path: Path) -> None:
    key = FlowPrivateKey.generate()
    public = serialization.load_pem_public_key(key.public_key_pem().encode())
    if form == "escaped_pem":
        config = {"PRIVATE_KEY": key.private_key_pem().replace("\n", "\\n")}
    elif form == "der_file":
        (tmp_path / "k.der").write_bytes(key.private_key_der())
        config = {"PRIVATE_KEY_FILE": str(tmp_path / "k.der")}
    elif form == "encrypted_pem":
        config = {"PRIVATE_KEY": key.private_key_pem("pass phrase"), "PASSPHRASE": "pass phrase"}
    else:
        pkcs1 = serialization.load_der_private_key(key.private_key_der(), None).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()).decode()
        config = {"PRIVATE_KEY": '"' + pkcs1.replace("\n", "\r\n") + '"'}
    server = Endpoint(**config)
    try:
        side = WhatsAppSide(server.url, public, None)
        assert side.call(ping()) == {"data": {"status": "active"}}
        side.close()
    finally:
        assert server.stop() == 0
    assert "PRIVATE KEY" not in "\n".join(server.log)


def refusal_cases(tmp: Path) -> List[Tuple[str, Dict[str, str], str]]:
    key = FlowPrivateKey.generate()
    pem = key.private_key_pem()
    encrypted = key.private_key_pem("right passphrase")
    (tmp / "k.pem").write_text(pem)
    return [
        ("no key", {}, "no private key: set PRIVATE_KEY"),
        ("empty key", {"PRIVATE_KEY": ""}, "no private key"),
        ("both", {"PRIVATE_KEY": pem, "PRIVATE_KEY_FILE": str(tmp / "k.pem")}, "not both"),
        ("unreadable file", {"PRIVATE_KEY_FILE": str(tmp / "missing.pem")}, "cannot be read"),
        ("not a key", {"PRIVATE_KEY": "hello"}, "PRIVATE_KEY: invalid private key"),
        ("public key", {"PRIVATE_KEY": key.public_key_pem()}, "(invalid_key)"),
        ("no passphrase", {"PRIVATE_KEY": encrypted}, "(invalid_key)"),
        ("wrong passphrase", {"PRIVATE_KEY": encrypted, "PASSPHRASE": "not it 4711"}, "(invalid_key)"),
        ("bad port", {"PRIVATE_KEY": pem, "PORT": "http"}, "PORT='http' is not a port number"),
        ("port too big", {"PRIVATE_KEY": pem, "PORT": "65536"}, "is not a port number"),
        ("bad host", {"PRIVATE_KEY": pem, "HOST": "localhost"}, "HOST='localhost' is not an IP address"),
        ("bad media flag", {"PRIVATE_KEY": pem, "MEDIA_ALLOW_HTTP": "yes"}, "MEDIA_ALLOW_HTTP='yes'"),
        # An empty APP_SECRET must not silently turn signature checks off.
        ("empty app secret", {"PRIVATE_KEY": pem, "APP_SECRET": ""}, "APP_SECRET is set but empty"),
        ("empty previous app secret", {"PRIVATE_KEY": pem, "APP_SECRET": "s", "PREVIOUS_APP_SECRET": ""},
         "PREVIOUS_APP_SECRET is set but empty"),
        ("previous secret alone", {"PRIVATE_KEY": pem, "PREVIOUS_APP_SECRET": "s"},
         "PREVIOUS_APP_SECRET is set without APP_SECRET"),
        ("bad policy", {"PRIVATE_KEY": pem, "APP_SECRET": "s", "FLOW_TOKEN_SIGNATURE": "always"},
         "FLOW_TOKEN_SIGNATURE='always' is not one of if_present, required, off"),
        ("required without a secret", {"PRIVATE_KEY": pem, "FLOW_TOKEN_SIGNATURE": "required"},
         "(invalid_configuration)"),
        ("bad previous key", {"PRIVATE_KEY": pem, "PREVIOUS_PRIVATE_KEY": "hello"},
         "PREVIOUS_PRIVATE_KEY: invalid private key"),
        ("both previous", {"PRIVATE_KEY": pem, "PREVIOUS_PRIVATE_KEY": pem, "PREVIOUS_PRIVATE_KEY_FILE": str(tmp / "k.pem")},
         "set PREVIOUS_PRIVATE_KEY or PREVIOUS_PRIVATE_KEY_FILE, not both"),
        ("previous passphrase alone", {"PRIVATE_KEY": pem, "PREVIOUS_PASSPHRASE": "right passphrase"},
         "PREVIOUS_PASSPHRASE is set without"),
        ("wrong previous passphrase", {"PRIVATE_KEY": pem, "PREVIOUS_PRIVATE_KEY": encrypted,
                                       "PREVIOUS_PASSPHRASE": "not it 4711"}, "PREVIOUS_PRIVATE_KEY: "),
        ("unreadable previous file", {"PRIVATE_KEY": pem, "PREVIOUS_PRIVATE_KEY_FILE": str(tmp / "missing.pem")},
         "PREVIOUS_PRIVATE_KEY_FILE='"),
    ]


def test_refuses_to_start_with_a_clear_message(tmp_path: Path) -> None:
    for name, config, message in refusal_cases(tmp_path):
        proc = subprocess.run([sys.executable, str(ENDPOINT)], env=clean_env(**config),
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        err = proc.stderr.decode()
        assert proc.returncode == 1, (name, err)
        assert "listening" not in err, name
        refusal = [l for l in err.splitlines() if l.startswith("flow endpoint: refusing to start: ")]
        assert len(refusal) == 1 and message in refusal[0], (name, err)
        assert "Traceback" not in err, (name, err)
        # Nothing of a key or a passphrase: no line of any PEM body, no passphrase.
        pem_lines = [l for v in config.values() for l in v.splitlines() if len(l) == 64]
        for secret in pem_lines + ["right passphrase", "not it 4711"]:
            assert secret not in err, (name, err)


# --- the pywa bot ------------------------------------------------------------------------------


def load_bot_module():
    spec = importlib.util.spec_from_file_location("pywa_bot_example", EXAMPLES / "pywa_bot.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bot(flow_key: FlowPrivateKey):
    module = load_bot_module()
    cdn_client = httpx.Client(timeout=HTTP_TIMEOUT)
    # Offline: no token, no phone id, no callback URL; nothing is registered with Meta.
    yield module.create_bot(private_key_pem=flow_key.private_key_pem(), verify_token="verify",
                            app_secret=APP_SECRET, allow_http=True, cdn=cdn_client)
    cdn_client.close()


def test_pywa_bot_is_wired_to_our_adapters(bot: Any) -> None:
    from wa_flows_crypto import pywa as adapters

    # The client-wide settings and the flow endpoint's own (pywa resolves them at registration).
    assert bot.wa._flows_request_decryptor is adapters.flow_request_decryptor
    assert bot.wa._flows_response_encryptor is adapters.flow_response_encryptor
    assert bot.flow._request_decryptor is adapters.flow_request_decryptor
    assert bot.flow._response_encryptor is adapters.flow_response_encryptor
    assert bot.flow._endpoint == "/flow"


def test_pywa_bot_plays_the_flow(bot: Any, public_key: Any, cdn: FakeCdn, monkeypatch: pytest.MonkeyPatch) -> None:
    from wa_flows_crypto import pywa as adapters

    # Count the calls into our adapters through the handler path pywa runs for each request.
    calls = {"decrypt": 0, "encrypt": 0}

    def counting(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return function(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(bot.flow, "_request_decryptor", counting("decrypt", adapters.flow_request_decryptor))
    monkeypatch.setattr(bot.flow, "_response_encryptor", counting("encrypt", adapters.flow_response_encryptor))

    def handle(request: Any) -> Tuple[int, Any]:
        body, session = seal(public_key, request)
        text, status = bot.flow.handle(json.loads(body))
        return status, (json.loads(session.open(text)) if status == 200 else text)

    assert handle(ping()) == (200, {"data": {"status": "active"}})
    assert handle({"version": "3.0", "action": "INIT", "flow_token": "t"}) == \
        (200, {"version": "3.0", "screen": "PROFILE", "data": {"error_message": ""}})

    photos = [("a.jpg", os.urandom(10)), ("b.jpg", os.urandom(300_000)), ("c.jpg", os.urandom(0))]
    entries = [cdn.upload(name, data) for name, data in photos]
    status, answer = handle({"version": "3.0", "action": "data_exchange", "screen": "PROFILE",
                             "flow_token": "t", "data": {"name": "Ada", "photos": entries}})
    assert status == 200
    total = sum(len(d) for _, d in photos)
    assert answer == {"version": "3.0", "screen": "SUMMARY", "data": {
        "name": "Ada", "photo_count": 3, "total_bytes": total,
        "photos": [{"file_name": n, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in photos],
        "summary": f"3 photos, {total} bytes"}}

    wrong = cdn.upload("wrong.jpg", b"data")
    wrong["encryption_metadata"]["plaintext_hash"] = base64.b64encode(os.urandom(32)).decode()
    status, answer = handle({"version": "3.0", "action": "data_exchange", "screen": "PROFILE",
                             "flow_token": "t", "data": {"photos": [entries[0], wrong]}})
    assert answer["data"] == {"error_message": "could not read photo wrong.jpg: plaintext_hash_mismatch"}
    refused = dict(entries[0], cdn_url="file:///etc/passwd", file_name="r.jpg")
    status, answer = handle({"version": "3.0", "action": "data_exchange", "screen": "PROFILE",
                             "flow_token": "t", "data": {"photos": [refused]}})
    assert answer["data"] == {"error_message": "could not read photo r.jpg: cdn_url_refused"}

    assert handle({"version": "3.0", "action": "data_exchange", "screen": "SUMMARY", "flow_token": "tok",
                   "data": {}}) == (200, {"version": "3.0", "screen": "SUCCESS", "data": {
                       "extension_message_response": {"params": {"flow_token": "tok"}}}})
    assert handle({"version": "3.0", "action": "data_exchange", "screen": "PROFILE", "flow_token": "t",
                   "data": {"error": "INVALID_SCREEN_TRANSITION"}}) == \
        (200, {"version": "3.0", "data": {"acknowledged": True}})
    decrypts, encrypts = calls["decrypt"], calls["encrypt"]
    assert decrypts == 7 and encrypts == 7, calls

    # Tampered: pywa answers 421 when our decryptor raises.
    parts, _ = seal_parts(public_key, json.dumps(ping()).encode())
    data = bytearray(parts["encrypted_flow_data"])
    data[0] ^= 1
    text, status = bot.flow.handle(json.loads(to_body({**parts, "encrypted_flow_data": bytes(data)})))
    assert status == 421
    assert calls == {"decrypt": decrypts + 1, "encrypt": encrypts}


def test_pywa_bot_refuses_to_start_without_a_key() -> None:
    proc = subprocess.run([sys.executable, str(EXAMPLES / "pywa_bot.py")],
                          env=clean_env(VERIFY_TOKEN="v"), stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=60)
    assert proc.returncode == 1
    assert "pywa bot: refusing to start: no private key" in proc.stderr.decode()
