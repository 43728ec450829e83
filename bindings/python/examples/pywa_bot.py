"""A pywa bot whose flow endpoint runs on wa-flows-crypto instead of pywa's own crypto.

The same two-screen flow as ``endpoint.py`` (``PROFILE`` with a name and a PhotoPicker, then
``SUMMARY``, then the flow closes), written the pywa way: pywa routes the requests, answers
``ping`` and acknowledges error notifications; our adapters from ``wa_flows_crypto.pywa`` do the
cryptography, wired in with one argument each::

    WhatsApp(..., flows_request_decryptor=flow_request_decryptor,
                  flows_response_encryptor=flow_response_encryptor)

and ``flow_request_media_decryptor`` (in place of ``FlowRequest.decrypt_media``, which always
uses pywa's own) downloads and decrypts each uploaded photo.

Run it (webhook on ``/``, flow endpoint on ``/flow``)::

    pip install ./bindings/python -r bindings/python/examples/requirements.txt
    PRIVATE_KEY_FILE=keys/private.pem VERIFY_TOKEN=any-string APP_SECRET=your-app-secret \\
        python bindings/python/examples/pywa_bot.py

Environment: ``PRIVATE_KEY`` / ``PRIVATE_KEY_FILE`` / ``PASSPHRASE`` as for ``endpoint.py``
(any format, parsed and checked once at start-up), ``VERIFY_TOKEN`` (pywa's webhook challenge,
required), ``APP_SECRET`` (pywa validates webhook updates with it), ``WA_PHONE_ID`` and
``WA_TOKEN`` (optional: only to send messages), ``HOST`` (default 0.0.0.0), ``PORT`` (default
3000), ``MEDIA_ALLOW_HTTP`` (1 for local tests with a fake CDN only).

Differences from ``endpoint.py``, all pywa's: it does not check ``X-Hub-Signature-256`` on
flow requests (pywa only validates webhook updates), answers any undecryptable request 421
with a fixed body, and reads each photo whole into memory (pywa's media API is one-shot).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

import httpx
from pywa import WhatsApp, types
from pywa.handlers import FlowRequestCallbackWrapper

from wa_flows_crypto import FlowCryptoError
from wa_flows_crypto.pywa import (
    flow_request_decryptor,
    flow_request_media_decryptor,
    flow_response_encryptor,
)

# The key loader of endpoint.py (next to this file): PRIVATE_KEY or PRIVATE_KEY_FILE, any
# format, PASSPHRASE; it raises StartupError with a message naming the variable at fault.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from endpoint import StartupError, read_key  # noqa: E402

FLOW_ENDPOINT = "/flow"
PROFILE = "PROFILE"
SUMMARY = "SUMMARY"
MAX_PHOTOS = 30
DOWNLOAD_TIMEOUT_SECONDS = 30.0

_log = logging.getLogger("pywa_bot")


@dataclass
class Bot:
    wa: WhatsApp
    #: pywa's handler for the flow endpoint: ``flow.handle(json_body) -> (body, status)``.
    flow: FlowRequestCallbackWrapper


def create_bot(
    *,
    private_key_pem: str,
    verify_token: str,
    app_secret: Optional[str] = None,
    allow_http: bool = False,
    phone_id: Optional[str] = None,
    token: Optional[str] = None,
    cdn: Optional[httpx.Client] = None,
) -> Bot:
    """The bot: a pywa client whose flow requests go through wa-flows-crypto."""
    wa = WhatsApp(
        phone_id=phone_id,
        token=token,
        verify_token=verify_token,
        app_secret=app_secret,
        validate_updates=app_secret is not None,
        business_private_key=private_key_pem,
        # The whole switch to wa-flows-crypto: one argument each.
        flows_request_decryptor=flow_request_decryptor,
        flows_response_encryptor=flow_response_encryptor,
    )
    # One client for the CDN (keeps connections open); redirects are not followed.
    cdn = cdn or httpx.Client(timeout=DOWNLOAD_TIMEOUT_SECONDS, follow_redirects=False)

    def read_photo(photo: Any) -> Tuple[int, str]:
        """Downloads and decrypts one upload: its size and SHA-256 (hex); raises ValueError
        with a stable code."""
        if not isinstance(photo, dict) or not isinstance(photo.get("cdn_url"), str):
            raise ValueError("malformed")
        url = photo["cdn_url"]
        if not (url.startswith("https://") or (allow_http and url.startswith("http://"))):
            raise ValueError("cdn_url_refused")
        try:
            media = flow_request_media_decryptor(photo, dl_session=cdn)
        except FlowCryptoError as error:  # the file or its metadata failed a check
            raise ValueError(error.code) from None
        except httpx.HTTPError:
            raise ValueError("download_failed") from None
        except (KeyError, TypeError):
            raise ValueError("malformed") from None
        return len(media.data), hashlib.sha256(media.data).hexdigest()

    def submit_profile(req: types.FlowRequest) -> types.FlowResponse:
        data = req.data or {}
        name = data.get("name") if isinstance(data.get("name"), str) else ""
        photos: List[Any] = data.get("photos") or []
        if not isinstance(photos, list):
            return req.respond(screen=PROFILE, data={"error_message": "photos is not a list"})
        if len(photos) > MAX_PHOTOS:
            return req.respond(
                screen=PROFILE, data={"error_message": f"too many photos: at most {MAX_PHOTOS}"}
            )
        summaries = []
        for index, photo in enumerate(photos):
            label = photo.get("file_name") if isinstance(photo, dict) else None
            label = label if isinstance(label, str) else f"#{index + 1}"
            try:
                size, sha256 = read_photo(photo)
            except ValueError as error:
                message = f"could not read photo {label}: {error}"
                return req.respond(screen=PROFILE, data={"error_message": message})
            summaries.append({"file_name": label, "size": size, "sha256": sha256})
        total = sum(photo["size"] for photo in summaries)
        return req.respond(
            screen=SUMMARY,
            data={
                "name": name,
                "photo_count": len(summaries),
                "total_bytes": total,
                "photos": summaries,
                "summary": f"{len(summaries)} photos, {total} bytes",
            },
        )

    @wa.on_flow_request(FLOW_ENDPOINT)
    def profile_flow(_: WhatsApp, req: types.FlowRequest) -> Any:
        # pywa has answered ping already, and acknowledges error notifications itself.
        if req.has_error:
            _log.warning("WhatsApp reports an error in our last answer")
            return None
        if req.action in (types.FlowRequestActionType.INIT, types.FlowRequestActionType.BACK):
            return req.respond(screen=PROFILE, data={"error_message": ""})
        if req.action == types.FlowRequestActionType.DATA_EXCHANGE:
            if req.screen == PROFILE:
                return submit_profile(req)
            if req.screen == SUMMARY:
                # A dict, not req.respond(close_flow=True): that refuses an empty flow token.
                params = {"flow_token": req.flow_token or ""}
                return {
                    "version": req.version,
                    "screen": "SUCCESS",
                    "data": {"extension_message_response": {"params": params}},
                }
            return req.respond(screen=PROFILE, data={"error_message": "unknown screen"})
        return req.respond(screen=PROFILE, data={"error_message": "unsupported action"})

    @wa.on_flow_completion
    def completed(_: WhatsApp, completion: types.FlowCompletion) -> None:
        # The params of the SUCCESS screen arrive here, as a message to the business.
        _log.info("a flow was completed")

    return Bot(wa=wa, flow=profile_flow)  # type: ignore[arg-type]


def main() -> int:
    def env(name: str) -> Optional[str]:
        return os.environ.get(name) or None

    try:
        key = read_key()
        verify_token = env("VERIFY_TOKEN")
        if verify_token is None:
            raise StartupError("VERIFY_TOKEN is not set: pywa needs it for the webhook challenge")
        port_text = (env("PORT") or "3000").strip()
        if not (port_text.isascii() and port_text.isdigit() and int(port_text) <= 65535):
            raise StartupError(f"PORT={port_text!r} is not a port number (0 to 65535)")
    except StartupError as error:
        print(f"pywa bot: refusing to start: {error}", file=sys.stderr)
        return 1
    bot = create_bot(
        # Normalised once (any input format, decrypted) to the PEM text pywa passes to the
        # decryptor on every request; the adapter parses it once and caches the key.
        private_key_pem=key.private_key_pem(),
        verify_token=verify_token,
        app_secret=env("APP_SECRET"),
        allow_http=env("MEDIA_ALLOW_HTTP") in ("1", "true"),
        phone_id=env("WA_PHONE_ID"),
        token=env("WA_TOKEN"),
    )
    bot.wa.run(host=env("HOST") or "0.0.0.0", port=int(port_text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
