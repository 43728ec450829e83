"""A complete WhatsApp Flows endpoint in Python (FastAPI on uvicorn).

It checks and decrypts what WhatsApp sends, runs a tiny two-screen flow with a PhotoPicker,
downloads and decrypts the uploaded photos with the streaming ``MediaDecryptor``, and encrypts
its answers. It follows, variable for variable and byte for byte, the specification in
``crates/wa-flows-crypto-endpoint-example/README.md`` (the Rust example)::

    wa-flows-crypto keygen --out keys/        # upload keys/public.pem to WhatsApp
    pip install ./bindings/python -r bindings/python/examples/requirements.txt
    PRIVATE_KEY_FILE=keys/private.pem APP_SECRET=your-app-secret PORT=3000 \\
        python bindings/python/examples/endpoint.py

Environment: ``PRIVATE_KEY`` (PEM text) or ``PRIVATE_KEY_FILE`` (PEM or DER, PKCS#1 or PKCS#8,
encrypted or not), ``PASSPHRASE``; while rotating, ``PREVIOUS_PRIVATE_KEY`` or
``PREVIOUS_PRIVATE_KEY_FILE`` with ``PREVIOUS_PASSPHRASE``; ``APP_SECRET`` and, while rotating,
``PREVIOUS_APP_SECRET``; ``FLOW_TOKEN_SIGNATURE`` (``if_present``, the default, ``required`` or
``off``: data API 4.0's signed flow tokens); ``PORT`` (default 3000, 0 picks a free one),
``HOST`` (default 0.0.0.0), ``MEDIA_ALLOW_HTTP`` (1 for local tests with a fake CDN only).

Every check (signature, decryption with the current or the previous key, the flow request, the
flow token signature) is the library's ``FlowEndpoint.open``; this file only maps its errors to
HTTP answers and runs the flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, List, Optional, Tuple, Union

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from wa_flows_crypto import (
    FlowCryptoError,
    FlowEndpoint,
    FlowKeyRing,
    FlowPrivateKey,
    MediaDecryptor,
    OpenedRequest,
)

# --- configuration -----------------------------------------------------------------------------

#: The port Meta's sample endpoint uses.
DEFAULT_PORT = 3000
#: WhatsApp's requests are a few KiB (about 1 KiB more per uploaded file).
MAX_BODY_BYTES = 1024 * 1024
#: WhatsApp sends at most 30 files per request.
MAX_PHOTOS = 30
#: WhatsApp limits uploads to 25 MiB; the CDN file adds at most one block of padding and the MAC.
MAX_CDN_FILE_BYTES = 25 * 1024 * 1024 + 16 + 10
#: How long one download may take, connection and redirects included.
DOWNLOAD_TIMEOUT_SECONDS = 30.0
#: How many redirects a download may follow (never to a refused scheme).
MAX_REDIRECTS = 3


def log(message: str) -> None:
    """One line on standard error. Never give it a key, a secret, a plaintext or a file name."""
    print(f"flow endpoint: {message}", file=sys.stderr, flush=True)


class StartupError(Exception):
    """A configuration problem: the endpoint refuses to start."""


#: FLOW_TOKEN_SIGNATURE's values, as the library names its policies.
FLOW_TOKEN_SIGNATURE_POLICIES = ("if_present", "required", "off")


@dataclass(frozen=True)
class Settings:
    endpoint: FlowEndpoint
    key: FlowPrivateKey
    previous_key: Optional[FlowPrivateKey]
    app_secrets: List[bytes]  # newest first; empty: signatures are not checked
    flow_token_signature: str
    host: str
    port: int
    allow_http: bool


def _var_bytes(name: str) -> Optional[bytes]:
    """A variable's raw bytes; None when unset or empty."""
    if os.supports_bytes_environ:
        value = os.environb.get(name.encode())
    else:  # Windows
        text = os.environ.get(name)
        value = text.encode("utf-8", "surrogateescape") if text is not None else None
    return value or None


def _var_is_set(name: str) -> bool:
    """Whether a variable is set at all, even to the empty string."""
    if os.supports_bytes_environ:
        return name.encode() in os.environb
    return name in os.environ


def _secret(name: str) -> Optional[bytes]:
    """An app secret: None when unset. Set but empty is a mistake, not "no secret": it would
    silently turn the signature check off."""
    value = _var_bytes(name)
    if value is None and _var_is_set(name):
        raise StartupError(f"{name} is set but empty; unset it to run without signature checks")
    return value


def _var_text(name: str) -> Optional[str]:
    """A variable that must be text; None when unset or empty."""
    value = _var_bytes(name)
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise StartupError(f"{name} is not valid UTF-8") from None


def read_key(prefix: str = "") -> Optional[FlowPrivateKey]:
    """PRIVATE_KEY or PRIVATE_KEY_FILE, with PASSPHRASE, parsed once; with ``prefix``
    "PREVIOUS_", the previous key, which may be absent (None)."""
    key_var, file_var, passphrase_var = (prefix + name for name in ("PRIVATE_KEY", "PRIVATE_KEY_FILE", "PASSPHRASE"))
    passphrase = _var_bytes(passphrase_var)
    pem = _var_bytes(key_var)
    path = _var_text(file_var)
    if pem is not None and path is not None:
        raise StartupError(f"set {key_var} or {file_var}, not both")
    if pem is None and path is None:
        if prefix:
            if passphrase is not None:
                raise StartupError(f"{passphrase_var} is set without {key_var} or {file_var}")
            return None
        raise StartupError(
            "no private key: set PRIVATE_KEY to the key's PEM text, or PRIVATE_KEY_FILE to the "
            "path of the key file (make one with `wa-flows-crypto keygen --out keys/`, then "
            "upload keys/public.pem)"
        )
    if pem is not None:
        source, data = key_var, pem
    else:
        assert path is not None
        source = f"{file_var}={path!r}"
        try:
            with open(path, "rb") as file:
                data = file.read()
        except OSError as error:
            raise StartupError(f"{source} cannot be read: {error.strerror or error}") from None
    # from_pem also takes DER, and repairs what environment variables do to PEM (literal \n,
    # CRLF, quotes). Its messages never contain key material.
    try:
        return FlowPrivateKey.from_pem(data, passphrase)
    except FlowCryptoError as error:
        raise StartupError(f"{source}: {error} ({error.code})") from None


def load_settings() -> Settings:
    """Reads and checks the whole configuration; raises StartupError naming the variable."""
    key = read_key()
    assert key is not None
    previous_key = read_key("PREVIOUS_")
    app_secret = _secret("APP_SECRET")
    previous_secret = _secret("PREVIOUS_APP_SECRET")
    if previous_secret is not None and app_secret is None:
        raise StartupError("PREVIOUS_APP_SECRET is set without APP_SECRET")
    app_secrets = [secret for secret in (app_secret, previous_secret) if secret is not None]
    if app_secret is None:
        log(
            "warning: APP_SECRET is not set, so requests are not authenticated: anyone with your "
            "public key can call this endpoint"
        )
    policy_text = _var_text("FLOW_TOKEN_SIGNATURE")
    policy = "if_present" if policy_text is None else policy_text.strip()
    if policy not in FLOW_TOKEN_SIGNATURE_POLICIES:
        raise StartupError(f"FLOW_TOKEN_SIGNATURE={policy!r} is not one of {', '.join(FLOW_TOKEN_SIGNATURE_POLICIES)}")
    keys = [key] if previous_key is None else [key, previous_key]
    try:
        endpoint = FlowEndpoint(FlowKeyRing(keys), app_secrets or None, flow_token_signature=policy)
    except FlowCryptoError as error:  # e.g. FLOW_TOKEN_SIGNATURE=required without APP_SECRET
        raise StartupError(f"{error} ({error.code})") from None
    port_text = _var_text("PORT")
    if port_text is None:
        port = DEFAULT_PORT
    else:
        digits = port_text.strip()
        if not (digits.isascii() and digits.isdigit() and int(digits) <= 65535):
            raise StartupError(f"PORT={port_text!r} is not a port number (0 to 65535)")
        port = int(digits)
    host_text = _var_text("HOST")
    if host_text is None:
        host = "0.0.0.0"
    else:
        try:
            host = str(ipaddress.ip_address(host_text.strip()))
        except ValueError:
            raise StartupError(
                f"HOST={host_text!r} is not an IP address (e.g. 0.0.0.0 or ::1)"
            ) from None
    allow_text = _var_text("MEDIA_ALLOW_HTTP")
    allow = None if allow_text is None else allow_text.strip()
    if allow in (None, "0", "false"):
        allow_http = False
    elif allow in ("1", "true"):
        allow_http = True
    else:
        raise StartupError(f"MEDIA_ALLOW_HTTP={allow!r} is not 0 or 1")
    return Settings(endpoint=endpoint, key=key, previous_key=previous_key, app_secrets=app_secrets,
                    flow_token_signature=policy, host=host, port=port, allow_http=allow_http)


# --- the flow ----------------------------------------------------------------------------------

PROFILE = "PROFILE"
SUMMARY = "SUMMARY"
SUCCESS = "SUCCESS"

#: The actions the library names; any other is logged as "other" (the text is the sender's).
KNOWN_ACTIONS = ("ping", "INIT", "data_exchange", "BACK")


def safe_code(text: Optional[str]) -> str:
    """WhatsApp's error names and keys are short codes; log nothing else from the request."""
    return "".join(c for c in (text or "") if c.isascii() and (c.isalnum() or c in "_.-"))[:64]


def to_json(value: Any) -> str:
    """Compact JSON, UTF-8 as is (what serde_json writes)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def profile(error_message: str) -> dict:
    return {"screen": PROFILE, "data": {"error_message": error_message}}


async def respond(opened: OpenedRequest, media: "MediaClient") -> str:
    """The answer to an opened request, as JSON text (to be encrypted)."""
    request = opened.flow
    notification = request.error_notification
    if notification is not None:
        reported = safe_code(notification.error) or safe_code(notification.error_key)
        log(f"WhatsApp reports an error in our last answer: {reported}")
    # A ping or an error notification: the protocol fixes the answer, and the library knows it.
    automatic = opened.automatic_response
    if automatic is not None:
        return automatic
    data = request.data if isinstance(request.data, dict) else {}
    if request.action in ("INIT", "BACK"):
        answer = profile("")
    elif request.action == "data_exchange":
        if request.screen == PROFILE:
            answer = await submit_profile(data, media)
        elif request.screen == SUMMARY:
            answer = close(request.flow_token or "")
        else:
            answer = profile("unknown screen")
    else:
        answer = profile("unsupported action")
    return to_json(answer)


async def submit_profile(data: dict, media: "MediaClient") -> dict:
    """PROFILE submitted ``{"name": ..., "photos": [...]}``: read every photo, then show
    SUMMARY, or PROFILE again naming the first photo that could not be read."""
    name = data.get("name") if isinstance(data.get("name"), str) else ""
    photos = data.get("photos")
    if photos is None:
        photos = []
    if not isinstance(photos, list):
        return profile("photos is not a list")
    if len(photos) > MAX_PHOTOS:
        return profile(f"too many photos: at most {MAX_PHOTOS}")
    results = await media.read_all(photos)
    for label, result in results:
        if isinstance(result, str):
            return profile(f"could not read photo {label}: {result}")
    summaries = [
        {"file_name": label, "size": size, "sha256": sha256}
        for label, (size, sha256) in results  # type: ignore[misc]
    ]
    total_bytes = sum(photo["size"] for photo in summaries)
    return {
        "screen": SUMMARY,
        "data": {
            "name": name,
            "photo_count": len(summaries),
            "total_bytes": total_bytes,
            "photos": summaries,
            "summary": f"{len(summaries)} photos, {total_bytes} bytes",
        },
    }


def close(flow_token: str) -> dict:
    """Closes the flow; WhatsApp sends ``params`` to the business in the completion message."""
    return {
        "screen": SUCCESS,
        "data": {"extension_message_response": {"params": {"flow_token": flow_token}}},
    }


# --- PhotoPicker uploads -----------------------------------------------------------------------


class PhotoError(Exception):
    """Why one photo could not be read: a stable code, shown to the user and safe to log."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class MediaClient:
    """Downloads uploads from their ``cdn_url`` and decrypts them as they arrive."""

    def __init__(self, http: httpx.AsyncClient, allow_http: bool) -> None:
        self.http = http
        self.allow_http = allow_http

    def _allowed(self, url: str) -> bool:
        return url.startswith("https://") or (self.allow_http and url.startswith("http://"))

    async def read_all(self, photos: List[Any]) -> List[Tuple[str, Union[str, Tuple[int, str]]]]:
        """Every upload, in parallel: ``(label, (size, sha256))`` or ``(label, error code)``,
        in request order."""

        async def one(index: int, photo: Any) -> Tuple[str, Union[str, Tuple[int, str]]]:
            fields = photo if isinstance(photo, dict) else {}
            label = fields.get("file_name")
            if not isinstance(label, str):
                label = f"#{index + 1}"
            try:
                return label, await self.read(fields)
            except PhotoError as error:
                return label, error.code

        return list(await asyncio.gather(*(one(i, photo) for i, photo in enumerate(photos))))

    async def read(self, photo: dict) -> Tuple[int, str]:
        """Downloads one upload and decrypts it chunk by chunk: its size and SHA-256 (hex)."""
        url = photo.get("cdn_url")
        metadata = photo.get("encryption_metadata")
        if not isinstance(url, str) or not isinstance(metadata, dict):
            raise PhotoError("malformed")
        try:
            decryptor = MediaDecryptor(metadata)  # parses the five base64 fields
        except FlowCryptoError as error:
            raise PhotoError(error.code) from None
        if not self._allowed(url):
            raise PhotoError("cdn_url_refused")
        try:
            return await asyncio.wait_for(self._download(url, decryptor), DOWNLOAD_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            raise PhotoError("download_failed") from None

    @contextlib.asynccontextmanager
    async def _get(self, url: str) -> AsyncIterator[httpx.Response]:
        """GET with at most MAX_REDIRECTS redirects, never to a refused scheme."""
        for _ in range(MAX_REDIRECTS + 1):
            async with self.http.stream("GET", url) as response:
                if not response.is_redirect:
                    yield response
                    return
                location = response.headers.get("location", "")
                url = str(response.url.join(location))
            if not self._allowed(url):
                raise PhotoError("download_failed")
        raise PhotoError("download_failed")

    async def _download(self, url: str, decryptor: MediaDecryptor) -> Tuple[int, str]:
        hasher = hashlib.sha256()
        size = 0
        received = 0
        try:
            async with self._get(url) as response:
                if not response.is_success:
                    raise PhotoError("download_failed")
                length = response.headers.get("content-length", "")
                if length.isdigit() and int(length) > MAX_CDN_FILE_BYTES:
                    raise PhotoError("too_large")
                async for chunk in response.aiter_raw():
                    received += len(chunk)
                    if received > MAX_CDN_FILE_BYTES:
                        raise PhotoError("too_large")
                    # NOT VERIFIED yet: only hashed; the hash is thrown away unless finish() passes.
                    plaintext = decryptor.update(chunk)
                    hasher.update(plaintext)
                    size += len(plaintext)
        except httpx.HTTPError:
            raise PhotoError("download_failed") from None
        try:
            plaintext = decryptor.finish()
        except FlowCryptoError as error:
            raise PhotoError(error.code) from None
        hasher.update(plaintext)
        size += len(plaintext)
        return size, hasher.hexdigest()


# --- HTTP --------------------------------------------------------------------------------------


class Refusal(Exception):
    """A refused request: the status and the stable code sent as the body and logged."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code

    @classmethod
    def from_library(cls, error: FlowCryptoError) -> "Refusal":
        """The library decides the status: 421 undecryptable, 432 bad signature, 500 bad key."""
        return cls(error.http_status or 500, error.code)


def visible_ascii(value: str) -> bool:
    """What HTTP libraries accept as header text: tab and visible ASCII."""
    return all(c == "\t" or " " <= c <= "~" for c in value)


def is_json(content_type: Optional[str]) -> bool:
    """``application/json``, any case, any parameters."""
    if not content_type or not visible_ascii(content_type):
        return False
    return content_type.split(";", 1)[0].strip(" \t").lower() == "application/json"


async def read_body(request: Request) -> bytes:
    """The raw body, exactly as received, at most MAX_BODY_BYTES."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise Refusal(413, "body_too_large")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise Refusal(413, "body_too_large")
    except ClientDisconnect:
        raise Refusal(400, "unreadable_body") from None
    return bytes(body)


def signature_header(request: Request) -> str:
    """Missing -> "" (refused as missing); not visible ASCII -> "?" (refused as malformed)."""
    value = request.headers.get("x-hub-signature-256", "")
    return value if visible_ascii(value) else "?"


def create_app(settings: Settings) -> FastAPI:
    """The endpoint's routes: POST / for WhatsApp, GET / for a human or a load balancer."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # One client for the CDN: it keeps connections open between downloads.
        timeout = httpx.Timeout(DOWNLOAD_TIMEOUT_SECONDS, connect=10.0)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
            app.state.media = MediaClient(http, settings.allow_http)
            yield

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(StarletteHTTPException)
    async def plain_http_errors(_: Request, error: StarletteHTTPException) -> Response:
        # Every answer is text/plain, 404 and 405 included.
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "error")
        return PlainTextResponse(code, status_code=error.status_code, headers=error.headers)

    @app.get("/")
    async def health() -> Response:
        return PlainTextResponse("WhatsApp Flows endpoint: POST encrypted flow requests here.\n")

    @app.post("/")
    async def flow_endpoint(request: Request) -> Response:
        started = time.perf_counter()
        try:
            body, action = await handle(request)
            status, what = 200, action
        except Refusal as refusal:
            status, body, what = refusal.status, refusal.code, refusal.code
        log(f"{status} {what} {(time.perf_counter() - started) * 1000:.1f}ms")
        return PlainTextResponse(body, status_code=status)

    async def handle(request: Request) -> Tuple[str, str]:
        if not is_json(request.headers.get("content-type")):
            raise Refusal(415, "unsupported_media_type")
        body = await read_body(request)
        # One call, in the protocol's order: the signature over the raw bytes exactly as
        # received (432), decryption with the current or the previous key (421), the flow
        # request (421), data API 4.0's flow token signature (427). The RSA private operation
        # takes about a millisecond and releases the GIL: run it on the thread pool, off the
        # event loop.
        try:
            opened = await run_in_threadpool(
                settings.endpoint.open, body, signature_header(request), time.time()
            )
            flow = opened.flow
        except FlowCryptoError as error:
            raise Refusal.from_library(error) from None
        answer = await respond(opened, request.app.state.media)
        # The log line is the specification's (STATUS ACTION TIME): the action as the library
        # names it, "other" for any the sender made up.
        action = flow.action if flow.action in KNOWN_ACTIONS else "other"
        return opened.respond(answer.encode("utf-8")), action

    return app


# --- start-up ----------------------------------------------------------------------------------


def main() -> int:
    # Parse the key (and everything else) before anything listens.
    try:
        settings = load_settings()
    except StartupError as error:
        log(f"refusing to start: {error}")
        return 1
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((settings.host, settings.port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        log(f"cannot listen on {settings.host}:{settings.port}: {error.strerror or error}")
        return 1
    port = sock.getsockname()[1]
    shown_host = f"[{settings.host}]" if family == socket.AF_INET6 else settings.host
    previous = settings.previous_key
    log(
        f"listening on http://{shown_host}:{port}/ (public key "
        f"{settings.key.public_key_fingerprint()}"
        + (f", previous key {previous.public_key_fingerprint()}" if previous is not None else "")
        + f", signature check {'on' if settings.app_secrets else 'off'}"
        + (f" with {len(settings.app_secrets)} app secrets" if len(settings.app_secrets) > 1 else "")
        + f", flow token signature {settings.flow_token_signature if settings.app_secrets else 'off'})"
    )
    # log_config=None and no access log: the one line per request above is the log.
    config = uvicorn.Config(create_app(settings), log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)  # stops gracefully on SIGTERM and Ctrl-C
    # uvicorn re-raises the signal that stopped it once it has shut down; ours takes it then,
    # so a stop on SIGTERM or Ctrl-C is a clean exit (status 0), not a death by signal.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: None)
    asyncio.run(server.serve(sockets=[sock]))
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
