"""The Python peer of benches/endpoints: a FastAPI endpoint on uvicorn built on pywa's own
functions, as a pywa user writes one without our package: ``pywa.utils.webhook_updates_validator``
for X-Hub-Signature-256, ``default_flow_request_decryptor`` and
``default_flow_response_encryptor`` (Python ``cryptography``) for the envelope.

It answers the screens of the benchmark's mix as the example endpoints do
(crates/wa-flows-crypto-endpoint-example/README.md) but downloads no photos. Like our Python
example it runs the decryption in Starlette's thread pool (pywa's key cache means the PEM is
parsed once), and it is one uvicorn process with the same settings, so the two differ in the
crypto and the glue only.

    PRIVATE_KEY_FILE=private.pem APP_SECRET=… HOST=127.0.0.1 PORT=0 python pywa_fastapi.py
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from pywa.utils import (
    default_flow_request_decryptor,
    default_flow_response_encryptor,
    webhook_updates_validator,
)
from starlette.concurrency import run_in_threadpool

MAX_BODY_BYTES = 1024 * 1024
PRIVATE_KEY = open(os.environ["PRIVATE_KEY_FILE"], encoding="utf-8").read()
PASSPHRASE = os.environ.get("PASSPHRASE") or None
APP_SECRET = os.environ.get("APP_SECRET") or None

app = FastAPI()


def log(message: str) -> None:
    # One line per request, as the example endpoints log.
    print(f"flow endpoint: {message}", file=sys.stderr, flush=True)


def profile(error_message: str) -> dict:
    return {"screen": "PROFILE", "data": {"error_message": error_message}}


def next_screen(request: dict) -> dict:
    action = request.get("action")
    data = request.get("data") or {}
    if action == "ping":
        return {"data": {"status": "active"}}
    if isinstance(data.get("error"), str) or isinstance(data.get("error_key"), str):
        return {"data": {"acknowledged": True}}
    if action in ("INIT", "BACK"):
        return profile("")
    if action != "data_exchange":
        return profile("unsupported action")
    screen = request.get("screen")
    if screen == "PROFILE":
        name = data.get("name") if isinstance(data.get("name"), str) else ""
        if data.get("photos"):
            return profile("photos are not supported by this peer")
        return {
            "screen": "SUMMARY",
            "data": {
                "name": name,
                "photo_count": 0,
                "total_bytes": 0,
                "photos": [],
                "summary": "0 photos, 0 bytes",
            },
        }
    if screen == "SUMMARY":
        token = request.get("flow_token") or ""
        return {
            "screen": "SUCCESS",
            "data": {"extension_message_response": {"params": {"flow_token": token}}},
        }
    return profile("unknown screen")


def handle(raw: bytes, signature: str) -> tuple[int, str, str]:
    if APP_SECRET and not webhook_updates_validator(APP_SECRET, raw, signature):
        return 432, "invalid_signature", "invalid_signature"
    try:
        body = json.loads(raw)
        decrypted, aes_key, iv = default_flow_request_decryptor(
            body["encrypted_flow_data"],
            body["encrypted_aes_key"],
            body["initial_vector"],
            PRIVATE_KEY,
            PASSPHRASE,
        )
    except Exception:  # noqa: BLE001 - any failure to open is WhatsApp's 421
        return 421, "decryption_failed", "decryption_failed"
    answer = default_flow_response_encryptor(next_screen(decrypted), aes_key, iv)
    return 200, answer, str(decrypted.get("action"))


@app.get("/")
async def health() -> PlainTextResponse:
    return PlainTextResponse("flow endpoint\n")


@app.post("/")
async def flow(request: Request) -> PlainTextResponse:
    started = time.perf_counter()
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        status, text, label = 413, "body_too_large", "body_too_large"
    else:
        status, text, label = await run_in_threadpool(
            handle, raw, request.headers.get("x-hub-signature-256", "")
        )
    log(f"{status} {label} {(time.perf_counter() - started) * 1000:.1f}ms")
    return PlainTextResponse(text, status_code=status)


def main() -> None:
    host = os.environ.get("HOST", "0.0.0.0")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(os.environ.get("PORT", "3000"))))
    sock.listen(2048)
    port = sock.getsockname()[1]
    log(f"listening on http://{host}:{port}/ (pywa {default_flow_request_decryptor.__module__})")
    config = uvicorn.Config(app, log_config=None, access_log=False)
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    main()
