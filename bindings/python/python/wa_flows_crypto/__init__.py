"""The cryptography of a WhatsApp Flows endpoint, on the Rust core through its C ABI.

Load the key once, then per request::

    from wa_flows_crypto import FlowPrivateKey, decrypt_request

    key = FlowPrivateKey.from_pem(open("private.pem").read(), passphrase=None)
    request = decrypt_request(raw_body, key)       # bytes, str or dict
    data = request.json()
    return request.encrypt_response({"data": {"status": "active"}})  # text/plain body

Or let :class:`FlowEndpoint` run every check of one POST (signature, decryption with a key or a
:class:`FlowKeyRing`, the flow request, data API 4.0's flow token signature)::

    endpoint = FlowEndpoint(FlowKeyRing([key, previous_key]), app_secret=[secret, old_secret])
    request = endpoint.open(raw_body, signature_header)    # raises FlowCryptoError
    return request.respond(request.automatic_response or answer_for(request.flow))

Every failure raises :class:`FlowCryptoError` with a stable ``.code`` (``"malformed"``,
``"key_unwrap"``, ``"payload_auth"``, ``"invalid_key"``, ``"invalid_signature"``,
``"invalid_flow_token_signature"``, ``"invalid_configuration"``, or a media code) and the
recommended ``.http_status`` (421, 432, 427, 500; ``None`` for media errors). An argument of the wrong Python type raises ``TypeError``, and
so does a value the package cannot turn into bytes: a response JSON cannot hold (NaN, infinities,
sets, non-str keys, other objects, circular or nested deeper than 1000 levels), or a ``str`` you
configure (PEM, passphrase, app secret, response) that is not valid Unicode text.
Bytes arguments take any bytes-like object; the memory is read at its real size and copied
first unless it is a ``bytes``. Keys are immutable and safe to share between threads; the GIL
is released during the cryptography.
"""

from __future__ import annotations

import json as _json
import math as _math
import threading as _threading
import time as _time
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from ._native import ffi as _ffi
from ._native import lib as _lib

# The public API: exactly these names (bindings/python/api.txt lists them, and
# tests/test_api_list.py fails on a missing or an unexpected one).
__all__ = [
    "FlowCryptoError",
    "FlowPrivateKey",
    "FlowKeyRing",
    "DecryptedRequest",
    "EncryptedRequest",
    "FlowRequest",
    "ErrorNotification",
    "FlowEndpoint",
    "OpenedRequest",
    "MediaDecryptor",
    "MediaVerifier",
    "decrypt_request",
    "parse_request",
    "unwrap_aes_key",
    "decrypt_payload",
    "encrypt_response",
    "decrypt_media_content",
    "verify_signature",
    "sign",
    "verify_flow_token_signature",
    "sign_flow_token",
    "PING_RESPONSE",
    "ERROR_ACKNOWLEDGEMENT",
    "FLOW_TOKEN_ERROR_STATUS",
    "__version__",
]

__version__: str = _ffi.string(_lib.wfc_version()).decode()

_OK = _lib.WFC_STATUS_OK
_BUFFER_TOO_SMALL = _lib.WFC_STATUS_BUFFER_TOO_SMALL
_INVALID_SIGNATURE = _lib.WFC_STATUS_INVALID_SIGNATURE
_SIZE_MAX = 2 ** (8 * _ffi.sizeof("size_t")) - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_UINT32_MAX = 2**32 - 1

#: The answer to a health check (``action: ping``), as the core writes it.
PING_RESPONSE: str = '{"data":{"status":"active"}}'
#: The answer to an error notification, as the core writes it.
ERROR_ACKNOWLEDGEMENT: str = '{"data":{"acknowledged":true}}'
#: The HTTP status of an invalid or expired flow token (data API 4.0), from the C ABI.
FLOW_TOKEN_ERROR_STATUS: int = int(_lib.WFC_FLOW_TOKEN_ERROR_STATUS)
# How deeply a response may nest (objects and arrays). Python's own json.dumps stops near its
# recursion limit (1000), so every response it could serialize still serializes.
_RESPONSE_MAX_DEPTH = 1000

Bytes = Union[bytes, bytearray, memoryview]


class FlowCryptoError(ValueError):
    """A failure of the library.

    ``code`` is the stable code string (the same in every language binding), ``http_status``
    the status a Flows endpoint should answer with (``None`` for media errors, which are not
    request-level: answer the request with an error screen). The message says what went
    wrong and what to do; it never contains key material or input data.
    """

    code: str
    http_status: Optional[int]

    def __init__(self, message: str, code: str, http_status: Optional[int]) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status

    def __repr__(self) -> str:
        return f"FlowCryptoError(code={self.code!r}, http_status={self.http_status!r}, message={str(self)!r})"


def _last_message() -> str:
    need = _lib.wfc_last_error_message_len()
    buf = _ffi.new("uint8_t[]", need + 1)
    out_len = _ffi.new("size_t *")
    if _lib.wfc_last_error_message(buf, need + 1, out_len) != _OK:
        return ""
    return bytes(_ffi.buffer(buf, out_len[0])).decode("utf-8", "replace")


def _error(status: int, message: str = "") -> FlowCryptoError:
    code = _ffi.string(_lib.wfc_status_str(status)).decode()
    http = _lib.wfc_status_http_status(status)
    return FlowCryptoError(message or _last_message() or code, code, http or None)


def _check(status: int) -> None:
    if status != _OK:
        raise _error(status)


class _Input:
    """Bytes on their way to C: a pointer and the length of the memory it points to.

    The length is always the size of the buffer cffi holds, never ``len()`` of the caller's
    object (a subclass can lie about it). Anything but an exact ``bytes`` is copied first, so a
    buffer another thread mutates, resizes or releases cannot change under the call."""

    __slots__ = ("ptr", "len")

    def __init__(self, data: bytes) -> None:
        self.ptr = _ffi.from_buffer("uint8_t[]", data)
        self.len = len(self.ptr)


def _buffer_copy(value: Any, name: str) -> bytes:
    try:
        view = memoryview(value)
    except TypeError:
        raise TypeError(f"{name} must be bytes or str, not {type(value).__name__}") from None
    except Exception as e:  # noqa: BLE001  (a closed mmap, a released view, a raising __buffer__)
        raise TypeError(f"{name} is a {type(value).__name__} whose memory cannot be read ({e})") from None
    try:
        # C order, whatever the shape, strides or format: the raw bytes of the buffer.
        return view.tobytes()
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001
        raise TypeError(f"{name} is a {type(value).__name__} whose memory cannot be read ({e})") from None
    finally:
        view.release()


def _text(value: str, name: str, wire: bool) -> bytes:
    # str.encode, not value.encode: a subclass cannot substitute its own bytes.
    if wire:
        # Text from the network goes to the core as it is (a lone surrogate included); the core
        # then refuses it like any other bad input (malformed, invalid_signature).
        return str.encode(value, "utf-8", "surrogatepass")
    try:
        return str.encode(value, "utf-8")
    except UnicodeEncodeError:
        raise TypeError(
            f"{name} is not valid Unicode text (it contains a lone surrogate); pass bytes for raw bytes"
        ) from None


def _input(value: Any, name: str, wire: bool = False) -> _Input:
    """Bytes, any other bytes-like object (copied), or str (UTF-8) as an input to C."""
    if type(value) is bytes:
        return _Input(value)
    if isinstance(value, str):
        return _Input(_text(value, name, wire))
    return _Input(_buffer_copy(value, name))


def _opt(value: Any, name: str) -> Any:
    """An optional input as (pointer, length); None becomes (NULL, 0)."""
    if value is None:
        return _ffi.NULL, 0
    data = _input(value, name)
    return data.ptr, data.len


def _list_items(value: Any, name: str, what: str) -> list:
    """The items of a list or tuple, read through the built-in types (a subclass cannot lie)."""
    if isinstance(value, list):
        return list.copy(value)
    if isinstance(value, tuple):
        return list(tuple.__iter__(value))
    raise TypeError(f"{name} must be {what}, not {type(value).__name__}")


class _Secrets:
    """One app secret (str or bytes-like) or a list of them, as a ``wfc_bytes`` array. Each is
    copied like any other input and kept alive as long as this object."""

    __slots__ = ("array", "count", "_inputs")

    def __init__(self, value: Any, name: str = "app_secret") -> None:
        if isinstance(value, (list, tuple)):
            items = _list_items(value, name, "a str, bytes, or a list of them")
            self._inputs = [_input(item, f"{name}[{i}]") for i, item in enumerate(items)]
        else:
            self._inputs = [_input(value, name)]
        self.count = len(self._inputs)
        if self.count == 0:
            self.array = _ffi.NULL
            return
        self.array = _ffi.new("wfc_bytes[]", self.count)
        for i, data in enumerate(self._inputs):
            self.array[i].data = data.ptr
            self.array[i].len = data.len


def _unix_seconds(value: Any, name: str) -> int:
    """Unix seconds (an int, or a float rounded down) as the C ABI's int64_t."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be Unix seconds as an int or a float, not {type(value).__name__}")
    if isinstance(value, float):
        number = float.__float__(value)  # the value itself, not what a subclass says it is
        if not _math.isfinite(number):
            raise _error(
                _lib.WFC_STATUS_INVALID_CONFIGURATION,
                f"invalid configuration: {name} is {float.__repr__(number)}, not a time",
            )
        seconds = _math.floor(number)
    else:
        seconds = int.__index__(value)
    if not _INT64_MIN <= seconds <= _INT64_MAX:
        # Beyond what the C ABI carries: the core never sees it, so its refusal is stated here.
        raise _error(
            _lib.WFC_STATUS_INVALID_CONFIGURATION,
            f"invalid configuration: {name} is out of range for a Unix time in seconds",
        )
    return seconds


def _now(now: Any) -> int:
    return _unix_seconds(_time.time() if now is None else now, "now")


_FLOW_TOKEN_SIGNATURE = {
    _lib.WFC_FLOW_TOKEN_SIGNATURE_VERIFIED: "verified",
    _lib.WFC_FLOW_TOKEN_SIGNATURE_ABSENT: "absent",
}


_new_uncleared = _ffi.new_allocator(should_clear_after_alloc=False)


def _copy_out(call: Any, size_hint: int) -> bytes:
    """Runs `call(out, out_cap, out_len)` with a buffer of `size_hint` bytes, growing it once if
    the library reports BUFFER_TOO_SMALL."""
    out_len = _ffi.new("size_t *")
    cap = max(size_hint, 1)
    buf = _ffi.new("uint8_t[]", cap)
    status = call(buf, cap, out_len)
    if status == _BUFFER_TOO_SMALL:
        cap = out_len[0]
        buf = _ffi.new("uint8_t[]", cap)
        status = call(buf, cap, out_len)
    _check(status)
    return bytes(_ffi.buffer(buf, out_len[0]))


def _new_handle(ctype: str, call: Any, free: Any) -> Any:
    out = _ffi.new(ctype + " **")
    _check(call(out))
    return _ffi.gc(out[0], free)


_ENCODE_STR = _json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


_SCALARS = frozenset((str, int, bool, type(None)))
_CONTAINERS = frozenset((dict, list, tuple))


def _plain_json(value: Any, strict: bool) -> bool:
    """Whether ``value`` is made of the JSON types exactly (no subclasses), with str keys and,
    when ``strict``, finite floats and at most ``_RESPONSE_MAX_DEPTH`` levels: then
    ``json.dumps`` writes what :func:`_written_json_text` would, running no method of the
    caller's, several times faster. Each container is looked at once, so a cycle ends the
    walk; json.dumps then refuses it."""
    scalars, containers, isfinite = _SCALARS, _CONTAINERS, _math.isfinite
    if type(value) in scalars:
        return True
    if type(value) not in containers:
        return type(value) is float and (not strict or isfinite(value))
    seen = {id(value)}
    todo = [(value, 1)]
    while todo:
        container, depth = todo.pop()
        if strict and depth > _RESPONSE_MAX_DEPTH:
            return False
        if type(container) is dict:
            for key in dict.keys(container):
                if type(key) is not str:
                    return False
            children = dict.values(container)
        else:
            children = container  # an exact list or tuple: its own iterator
        for child in children:
            t = type(child)
            if t in scalars:
                continue
            if t in containers:
                if id(child) not in seen:
                    seen.add(id(child))
                    todo.append((child, depth + 1))
            elif t is not float or (strict and not isfinite(child)):
                return False
    return True


def _json_text(value: Any, name: str, strict: bool) -> str:
    if _plain_json(value, strict):
        try:
            return _json.dumps(value)
        except (ValueError, RecursionError):
            pass  # a cycle, an int too long for text, or the C stack: written (or refused) below
    return _written_json_text(value, name, strict)


def _written_json_text(value: Any, name: str, strict: bool) -> str:
    """``json.dumps(value)``, byte for byte, for the JSON types only (dict with str keys, list,
    tuple, str, int, float, bool, None), read through the built-in types' own methods so that
    no method of a subclass runs. Iterative: no RecursionError at any depth.

    ``strict`` (a response, which must be JSON): NaN and infinities, and nesting deeper than
    ``_RESPONSE_MAX_DEPTH``, raise TypeError. Otherwise (a request body or media metadata a
    framework parsed from the wire) they are written as ``json.dumps`` writes them and the core
    refuses them as ``malformed``."""
    parts = []
    on_path = set()
    todo: list = [(0, value, 1)]  # (0, value, depth) | (1, literal text) | (2, id of a container)
    while todo:
        item = todo.pop()
        if item[0] == 1:
            parts.append(item[1])
            continue
        if item[0] == 2:
            on_path.discard(item[1])
            continue
        _, v, depth = item
        if v is None:
            parts.append("null")
        elif v is True:
            parts.append("true")
        elif v is False:
            parts.append("false")
        elif isinstance(v, str):
            parts.append(_ENCODE_STR(v))
        elif isinstance(v, int):
            try:
                parts.append(int.__repr__(v))
            except ValueError:  # more digits than sys.get_int_max_str_digits() allows
                raise TypeError(f"{name} holds an int too large to write as JSON text") from None
        elif isinstance(v, float):
            # math reads the float's own value; v != v would call a subclass's __ne__.
            if _math.isfinite(v):
                parts.append(float.__repr__(v))
            elif strict:
                raise TypeError(f"{name} holds {float.__repr__(v)}, which JSON cannot represent")
            else:
                parts.append({"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[float.__repr__(v)])
        elif isinstance(v, (dict, list, tuple)):
            if id(v) in on_path:
                raise TypeError(f"{name} contains itself (a circular reference): it cannot be JSON")
            if strict and depth > _RESPONSE_MAX_DEPTH:
                raise TypeError(f"{name} nests deeper than {_RESPONSE_MAX_DEPTH} levels")
            on_path.add(id(v))
            todo.append((2, id(v)))
            if isinstance(v, dict):
                entries = list(dict.items(v))
                todo.append((1, "}"))
                for i in range(len(entries) - 1, -1, -1):
                    key, child = entries[i]
                    if not isinstance(key, str):
                        raise TypeError(
                            f"{name} has a key of type {type(key).__name__}; JSON object keys are str"
                        )
                    todo.append((0, child, depth + 1))
                    todo.append((1, ("" if i == 0 else ", ") + _ENCODE_STR(key) + ": "))
                todo.append((1, "{"))
            else:
                entries = list.copy(v) if isinstance(v, list) else list(tuple.__iter__(v))
                todo.append((1, "]"))
                for i in range(len(entries) - 1, -1, -1):
                    todo.append((0, entries[i], depth + 1))
                    if i:
                        todo.append((1, ", "))
                todo.append((1, "["))
        else:
            raise TypeError(f"{name} holds a value of type {type(v).__name__}, which is not a JSON type")
    return "".join(parts)


def _json_input(value: Any, name: str, strict: bool = False) -> _Input:
    """A JSON body: a dict (serialized) or its text (str or bytes-like)."""
    if isinstance(value, Mapping):
        return _Input(_text(_json_text(value, name, strict), name, wire=False))
    return _input(value, name, wire=not strict)


def _refuse_constant(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _key_ptr(key: Any) -> Any:
    if isinstance(key, FlowKeyRing):
        raise TypeError(
            "key must be a FlowPrivateKey here: this step uses one key (decrypt_request and "
            "FlowEndpoint take a FlowKeyRing)"
        )
    if not isinstance(key, FlowPrivateKey):
        raise TypeError(f"key must be a FlowPrivateKey, not {type(key).__name__}")
    return key._ptr


def _ring_ptr(key: Any) -> Any:
    """A FlowKeyRing's handle, or a ring of one made for a FlowPrivateKey."""
    if isinstance(key, FlowKeyRing):
        return key._ptr
    if isinstance(key, FlowPrivateKey):
        return FlowKeyRing([key])._ptr
    raise TypeError(f"key must be a FlowPrivateKey or a FlowKeyRing, not {type(key).__name__}")


class FlowPrivateKey:
    """The business private key (RSA, 2048 bits or more). Load it once and share it: it is
    immutable and thread-safe; its material is zeroized when it is garbage-collected."""

    __slots__ = ("_ptr",)

    def __init__(self, _ptr: Any) -> None:
        if not isinstance(_ptr, _ffi.CData):
            raise TypeError("use FlowPrivateKey.from_pem, from_der or generate")
        self._ptr = _ptr

    @classmethod
    def from_pem(cls, pem: Union[str, Bytes], passphrase: Union[str, Bytes, None] = None) -> "FlowPrivateKey":
        """Loads PKCS#1 or PKCS#8 PEM, encrypted or not (also legacy OpenSSL encryption), or DER
        without armour. Repairs what environment variables do to PEM (literal ``\\n``, CRLF,
        quotes). Raises :class:`FlowCryptoError` ``invalid_key``."""
        data = _input(pem, "pem")
        pw, pw_len = _opt(passphrase, "passphrase")
        return cls(_new_handle(
            "wfc_private_key",
            lambda out: _lib.wfc_private_key_from_pem(data.ptr, data.len, pw, pw_len, out),
            _lib.wfc_private_key_free,
        ))

    @classmethod
    def from_der(cls, der: Bytes, passphrase: Union[str, Bytes, None] = None) -> "FlowPrivateKey":
        """Loads PKCS#8 (plain or encrypted) or PKCS#1 DER."""
        data = _input(der, "der")
        pw, pw_len = _opt(passphrase, "passphrase")
        return cls(_new_handle(
            "wfc_private_key",
            lambda out: _lib.wfc_private_key_from_der(data.ptr, data.len, pw, pw_len, out),
            _lib.wfc_private_key_free,
        ))

    @classmethod
    def generate(cls, bits: int = 2048) -> "FlowPrivateKey":
        """Generates a new key: 2048 (what WhatsApp Flows expects), 3072 or 4096 bits.
        Raises :class:`FlowCryptoError` ``invalid_key`` for any other size, ``TypeError`` if
        ``bits`` is not an ``int`` (``bool`` included)."""
        if isinstance(bits, bool) or not isinstance(bits, int):
            raise TypeError(f"bits must be an int (2048, 3072 or 4096), not {type(bits).__name__}")
        size = int.__index__(bits)  # the value itself, not what a subclass says it is
        if not 0 < size <= _SIZE_MAX:
            # Beyond what the C ABI can carry (and 0, which means "the default" in C): the
            # core never sees it, so its refusal is stated here, with the core's code.
            raise _error(
                _lib.WFC_STATUS_INVALID_KEY,
                f"invalid private key: cannot generate a {size}-bit RSA key; generate 2048 bits "
                "(what WhatsApp Flows expects), 3072 or 4096 bits",
            )
        return cls(_new_handle(
            "wfc_private_key",
            lambda out: _lib.wfc_private_key_generate(size, out),
            _lib.wfc_private_key_free,
        ))

    @property
    def bits(self) -> int:
        """The modulus size in bits."""
        return int(_lib.wfc_private_key_bits(self._ptr))

    def public_key_pem(self) -> str:
        """The public key as SPKI PEM: what Meta's Graph API and providers want uploaded."""
        return _copy_out(
            lambda o, c, n: _lib.wfc_private_key_public_pem(self._ptr, o, c, n),
            _lib.wfc_private_key_public_pem_len(self._ptr),
        ).decode("ascii")

    def public_key_der(self) -> bytes:
        """The public key as SPKI DER."""
        return _copy_out(
            lambda o, c, n: _lib.wfc_private_key_public_der(self._ptr, o, c, n),
            _lib.wfc_private_key_public_der_len(self._ptr),
        )

    def public_key_fingerprint(self) -> str:
        """SHA-256 of the SPKI DER, lowercase hex."""
        return _copy_out(
            lambda o, c, n: _lib.wfc_private_key_public_fingerprint(self._ptr, o, c, n),
            _lib.WFC_FINGERPRINT_LEN,
        ).decode("ascii")

    def private_key_pem(self, passphrase: Union[str, Bytes, None] = None) -> str:
        """PKCS#8 PEM; encrypted (PBES2, PBKDF2-SHA256 600 000 iterations, AES-256-CBC) when a
        non-empty passphrase is given."""
        pw, pw_len = _opt(passphrase, "passphrase")
        return _copy_out(
            lambda o, c, n: _lib.wfc_private_key_private_pem(self._ptr, pw, pw_len, o, c, n),
            _lib.wfc_private_key_private_pem_max_len(self._ptr),
        ).decode("ascii")

    def private_key_der(self) -> bytes:
        """Unencrypted PKCS#8 DER."""
        return _copy_out(
            lambda o, c, n: _lib.wfc_private_key_private_der(self._ptr, o, c, n),
            _lib.wfc_private_key_private_der_len(self._ptr),
        )

    def __repr__(self) -> str:
        return f"FlowPrivateKey(bits={self.bits}, fingerprint={self.public_key_fingerprint()[:16]}...)"


class FlowKeyRing:
    """The business private keys, newest first, for key rotation: a request is decrypted with
    the first key whose RSA-OAEP unwrap succeeds, and ``key_index`` on the result says which.
    Accepted wherever a key is by :func:`decrypt_request` and :class:`FlowEndpoint`. The ring
    holds its own copies of the keys; immutable and thread-safe.

    Raises :class:`FlowCryptoError` ``invalid_configuration`` (500) for an empty list,
    ``TypeError`` unless ``keys`` is a list or tuple of :class:`FlowPrivateKey`."""

    __slots__ = ("_ptr",)

    def __init__(self, keys: "Union[list, tuple]") -> None:
        items = _list_items(keys, "keys", "a list of FlowPrivateKey (newest first)")
        for i, item in enumerate(items):
            if not isinstance(item, FlowPrivateKey):
                raise TypeError(f"keys[{i}] must be a FlowPrivateKey, not {type(item).__name__}")
        handles = _ffi.new("wfc_private_key *[]", [item._ptr for item in items]) if items else _ffi.NULL
        self._ptr = _new_handle(
            "wfc_key_ring",
            lambda out: _lib.wfc_key_ring_new(handles, len(items), out),
            _lib.wfc_key_ring_free,
        )

    def __len__(self) -> int:
        return int(_lib.wfc_key_ring_len(self._ptr))

    def __repr__(self) -> str:
        return f"FlowKeyRing(keys={len(self)})"


class ErrorNotification:
    """An error WhatsApp reports about the endpoint's previous answer, as the core reads it:
    ``error`` (e.g. ``INVALID_SCREEN_TRANSITION``), ``error_message`` and ``error_key``, each a
    str or None. Answer it with :data:`ERROR_ACKNOWLEDGEMENT`."""

    __slots__ = ("error", "error_message", "error_key")

    def __init__(self, error: Optional[str], error_message: Optional[str], error_key: Optional[str]) -> None:
        self.error = error
        self.error_message = error_message
        self.error_key = error_key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ErrorNotification):
            return NotImplemented
        return (self.error, self.error_message, self.error_key) == (other.error, other.error_message, other.error_key)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"ErrorNotification(error={self.error!r}, error_key={self.error_key!r})"


_PRIVATE = object()


class FlowRequest:
    """The typed view of a decrypted request, made by the core (the Python package only
    converts it): ``action`` (``"ping"``, ``"INIT"``, ``"data_exchange"``, ``"BACK"``, or an
    unknown one as sent), ``screen``, ``data``, ``flow_token`` and ``version`` (None when
    absent), ``is_ping``, and ``error_notification`` (None or an :class:`ErrorNotification`).
    ``plaintext`` is the decrypted text it was read from, which
    :func:`verify_flow_token_signature` checks (not the attributes)."""

    __slots__ = ("action", "screen", "data", "flow_token", "version", "is_ping", "error_notification", "plaintext")

    def __init__(self, _private: Any, view: bytes = b"", plaintext: str = "") -> None:
        if _private is not _PRIVATE:
            raise TypeError("use DecryptedRequest.flow or OpenedRequest.flow")
        try:
            fields = _json.loads(view.decode("utf-8"), parse_constant=_refuse_constant)
        except (ValueError, RecursionError):  # never for the core's own output
            raise _error(_lib.WFC_STATUS_MALFORMED, "malformed input: the flow view is not JSON") from None
        self.action: str = fields["action"]
        self.screen: Optional[str] = fields["screen"]
        self.data: Any = fields["data"]
        self.flow_token: Optional[str] = fields["flow_token"]
        self.version: Optional[str] = fields["version"]
        self.is_ping: bool = fields["is_ping"]
        notification = fields["error_notification"]
        self.error_notification: Optional[ErrorNotification] = None if notification is None else ErrorNotification(
            notification["error"], notification["error_message"], notification["error_key"]
        )
        self.plaintext: str = plaintext

    def __repr__(self) -> str:
        return f"FlowRequest(action={self.action!r}, screen={self.screen!r}, version={self.version!r})"


class DecryptedRequest:
    """A decrypted request: the plaintext and the key to answer it with."""

    __slots__ = ("_ptr", "_plaintext", "_flow")

    def __init__(self, _ptr: Any) -> None:
        if not isinstance(_ptr, _ffi.CData):
            raise TypeError("use decrypt_request or decrypt_payload")
        self._ptr = _ptr
        self._plaintext: Optional[str] = None
        self._flow: Optional[FlowRequest] = None

    @property
    def flow(self) -> FlowRequest:
        """The request as a Flows endpoint sees it (see :class:`FlowRequest`). Raises
        :class:`FlowCryptoError` ``malformed`` (421) if it is not a flow request (no string
        ``action``; a ``screen``, ``flow_token`` or ``version`` that is not a string)."""
        if self._flow is None:
            view = _copy_out(lambda o, c, n: _lib.wfc_decrypted_request_flow(self._ptr, o, c, n), 0)
            self._flow = FlowRequest(_PRIVATE, view, self.plaintext)
        return self._flow

    @property
    def key_index(self) -> int:
        """Which key of the :class:`FlowKeyRing` opened the request (0 is the newest; always 0
        for a single key)."""
        return int(_lib.wfc_decrypted_request_key_index(self._ptr))

    @property
    def plaintext(self) -> str:
        """The decrypted JSON text, exactly as WhatsApp sent it."""
        if self._plaintext is None:
            self._plaintext = _copy_out(
                lambda o, c, n: _lib.wfc_decrypted_request_plaintext(self._ptr, o, c, n),
                _lib.wfc_decrypted_request_plaintext_len(self._ptr),
            ).decode("utf-8")
        return self._plaintext

    def json(self) -> Dict[str, Any]:
        """The plaintext parsed as JSON. Raises :class:`FlowCryptoError` ``malformed`` (421) if
        it is not JSON text (NaN and Infinity included) or nests too deeply for Python: anyone
        holding the public key can send such a payload."""
        try:
            value = _json.loads(self.plaintext, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as e:
            reason = f"malformed input: the decrypted payload is not JSON text ({type(e).__name__})"
            raise _error(_lib.WFC_STATUS_MALFORMED, reason) from None
        return value  # type: ignore[no-any-return]

    @property
    def aes_key(self) -> bytes:
        """The request's AES-128 key (16 bytes)."""
        return _copy_out(lambda o, c, n: _lib.wfc_decrypted_request_aes_key(self._ptr, o, c, n), 16)

    @property
    def iv(self) -> bytes:
        """The request's initial vector (16 bytes), as it arrived."""
        return _copy_out(lambda o, c, n: _lib.wfc_decrypted_request_iv(self._ptr, o, c, n), 16)

    def encrypt_response(self, response: Union[Mapping[str, Any], str, Bytes]) -> str:
        """Encrypts the answer (a dict is serialized with ``json.dumps``) and returns the
        base64 body to send with ``Content-Type: text/plain``."""
        data = _json_input(response, "response", strict=True)
        return _copy_out(
            lambda o, c, n: _lib.wfc_decrypted_request_encrypt_response(self._ptr, data.ptr, data.len, o, c, n),
            _lib.wfc_encrypt_response_len(data.len),
        ).decode("ascii")

    def __repr__(self) -> str:
        return f"DecryptedRequest(plaintext_len={_lib.wfc_decrypted_request_plaintext_len(self._ptr)})"


class EncryptedRequest:
    """A request body parsed and length-checked, not decrypted (see :func:`parse_request`)."""

    __slots__ = ("_ptr",)

    def __init__(self, _ptr: Any) -> None:
        if not isinstance(_ptr, _ffi.CData):
            raise TypeError("use parse_request")
        self._ptr = _ptr

    @property
    def encrypted_aes_key(self) -> bytes:
        """The RSA-OAEP-wrapped AES key, decoded from base64."""
        return _copy_out(
            lambda o, c, n: _lib.wfc_encrypted_request_encrypted_aes_key(self._ptr, o, c, n),
            _lib.wfc_encrypted_request_encrypted_aes_key_len(self._ptr),
        )


_REQUEST_FIELDS = ("encrypted_flow_data", "encrypted_aes_key", "initial_vector")


def _parsed_fields(body: Any) -> Optional[Tuple[_Input, _Input, _Input]]:
    """The three fields of a body a framework already parsed, when it is exactly a dict of the
    three strings WhatsApp sends: handed to the core as they are, without writing JSON for it
    to read again. Anything else (and a lone surrogate) is None: the JSON route, where the
    core names what is wrong."""
    if type(body) is not dict or dict.__len__(body) != 3:
        return None
    values = [dict.get(body, name) for name in _REQUEST_FIELDS]
    if not all(type(value) is str for value in values):
        return None
    try:
        return tuple(_Input(str.encode(value, "utf-8")) for value in values)  # type: ignore[return-value]
    except UnicodeEncodeError:
        return None


def _request_from_fields(fields: Tuple[_Input, _Input, _Input]) -> Any:
    flow_data, aes_key, iv = fields
    return _new_handle(
        "wfc_encrypted_request",
        lambda out: _lib.wfc_encrypted_request_from_base64(
            flow_data.ptr, flow_data.len, aes_key.ptr, aes_key.len, iv.ptr, iv.len, out
        ),
        _lib.wfc_encrypted_request_free,
    )


def decrypt_request(body: Union[Bytes, str, Mapping[str, Any]], key: "Union[FlowPrivateKey, FlowKeyRing]") -> DecryptedRequest:
    """Decrypts a Flows request. ``body`` is the raw POST body (bytes or str) or the JSON object
    a framework already parsed. Raises :class:`FlowCryptoError` (``malformed``, ``key_unwrap``,
    ``payload_auth``; all answered with HTTP 421). ``key`` is a :class:`FlowPrivateKey` or a
    :class:`FlowKeyRing` (the result's ``key_index`` says which key opened it)."""
    # The key (or ring) decides the two C calls: one for a parsed request, one for a body.
    if isinstance(key, FlowKeyRing):
        ring_ptr = key._ptr
        decrypt_parsed = lambda parsed, out: _lib.wfc_key_ring_decrypt(parsed, ring_ptr, out)  # noqa: E731
        decrypt_body = lambda data, out: _lib.wfc_key_ring_decrypt_request(data.ptr, data.len, ring_ptr, out)  # noqa: E731
    else:
        key_ptr = _key_ptr(key)
        decrypt_parsed = lambda parsed, out: _lib.wfc_encrypted_request_decrypt(parsed, key_ptr, out)  # noqa: E731
        decrypt_body = lambda data, out: _lib.wfc_decrypt_request(data.ptr, data.len, key_ptr, out)  # noqa: E731
    fields = _parsed_fields(body)
    if fields is not None:
        parsed = _request_from_fields(fields)
        call = lambda out: decrypt_parsed(parsed, out)  # noqa: E731
    else:
        data = _json_input(body, "body")
        call = lambda out: decrypt_body(data, out)  # noqa: E731
    return DecryptedRequest(_new_handle("wfc_decrypted_request", call, _lib.wfc_decrypted_request_free))


def parse_request(body: Union[Bytes, str, Mapping[str, Any]]) -> EncryptedRequest:
    """Parses a request body without decrypting it, for :func:`unwrap_aes_key` elsewhere and
    :func:`decrypt_payload`."""
    data = _json_input(body, "body")
    return EncryptedRequest(_new_handle(
        "wfc_encrypted_request",
        lambda out: _lib.wfc_encrypted_request_from_json(data.ptr, data.len, out),
        _lib.wfc_encrypted_request_free,
    ))


def unwrap_aes_key(encrypted_aes_key: Union[Bytes, EncryptedRequest], key: FlowPrivateKey) -> bytes:
    """Step one on its own: RSA-OAEP-SHA256-unwraps the AES key (raw wrapped bytes, or the
    key of a parsed request). Raises ``key_unwrap`` or ``malformed``."""
    key_ptr = _key_ptr(key)
    if isinstance(encrypted_aes_key, EncryptedRequest):
        wrapped = _input(encrypted_aes_key.encrypted_aes_key, "encrypted_aes_key")
    else:
        wrapped = _input(encrypted_aes_key, "encrypted_aes_key")
    return _copy_out(
        lambda o, c, n: _lib.wfc_unwrap_aes_key(wrapped.ptr, wrapped.len, key_ptr, o, c, n),
        _lib.WFC_AES_KEY_LEN,
    )


def decrypt_payload(
    request: Union[EncryptedRequest, Bytes, str, Mapping[str, Any]], aes_key: Bytes
) -> DecryptedRequest:
    """Step two on its own: opens the request's payload with an AES key unwrapped by
    :func:`unwrap_aes_key` or by the host (KMS, HSM). Raises ``payload_auth`` or
    ``malformed``."""
    parsed = request if isinstance(request, EncryptedRequest) else parse_request(request)
    key_bytes = _input(aes_key, "aes_key")
    return DecryptedRequest(_new_handle(
        "wfc_decrypted_request",
        lambda out: _lib.wfc_decrypt_payload(parsed._ptr, key_bytes.ptr, key_bytes.len, out),
        _lib.wfc_decrypted_request_free,
    ))


def encrypt_response(response: Union[Mapping[str, Any], str, Bytes], aes_key: Bytes, iv: Bytes) -> str:
    """Encrypts a response with a request's AES key and IV (as they arrived; the library
    inverts the IV) and returns the base64 body. A dict is serialized with ``json.dumps``."""
    data = _json_input(response, "response", strict=True)
    k = _input(aes_key, "aes_key")
    v = _input(iv, "iv")
    rk = _new_handle(
        "wfc_response_key",
        lambda out: _lib.wfc_response_key_new(k.ptr, k.len, v.ptr, v.len, out),
        _lib.wfc_response_key_free,
    )
    return _copy_out(
        lambda o, c, n: _lib.wfc_encrypt_response(data.ptr, data.len, rk, o, c, n),
        _lib.wfc_encrypt_response_len(data.len),
    ).decode("ascii")


def _metadata(encryption_metadata: Union[Mapping[str, Any], str, Bytes]) -> Any:
    data = _json_input(encryption_metadata, "encryption_metadata")
    return _new_handle(
        "wfc_media_metadata",
        lambda out: _lib.wfc_media_metadata_from_json(data.ptr, data.len, out),
        _lib.wfc_media_metadata_free,
    )


def decrypt_media_content(cdn_file: Bytes, encryption_metadata: Union[Mapping[str, Any], str, Bytes]) -> bytes:
    """Decrypts and verifies a whole media file downloaded from its ``cdn_url``.
    ``encryption_metadata`` is the object from the flow request (dict, or its JSON text).
    Raises ``encrypted_hash_mismatch``, ``hmac_mismatch``, ``padding``,
    ``plaintext_hash_mismatch`` or ``malformed``."""
    md = _metadata(encryption_metadata)
    data = _input(cdn_file, "cdn_file")
    # At the maximum size the core decrypts straight into this buffer, and zeroes what it
    # wrote if a check fails, so it need not be cleared first (for 16 MiB, a pass saved).
    cap = max(_lib.wfc_decrypt_media_content_max_len(data.len), 1)
    out = _new_uncleared("uint8_t[]", cap)
    out_len = _ffi.new("size_t *")
    _check(_lib.wfc_decrypt_media_content(md, data.ptr, data.len, out, cap, out_len))
    return _ffi.buffer(out, out_len[0])[:]


class MediaDecryptor:
    """Decrypts a media file chunk by chunk in constant memory.

    **What update() returns is NOT VERIFIED** until finish() returns: do not parse, serve or act
    on it before; if finish() raises, discard all of it. Prefer :func:`decrypt_media_content`
    when the file fits in memory.

    Calls on one decryptor from several threads are serialized (feed the chunks in order
    yourself). If update() raises anything but :class:`FlowCryptoError` (a KeyboardInterrupt,
    MemoryError) after the library consumed the chunk, the plaintext it released is lost, so
    the decryptor is finished: later calls raise ``already_finished``; start again.
    """

    __slots__ = ("_ptr", "_lock", "_total")

    def __init__(self, encryption_metadata: Union[Mapping[str, Any], str, Bytes]) -> None:
        md = _metadata(encryption_metadata)
        self._lock = _threading.RLock()
        self._total: Optional[int] = None  # bytes_processed, kept once finished
        self._ptr = _new_handle(
            "wfc_media_decryptor",
            lambda out: _lib.wfc_media_decryptor_new(md, out),
            _lib.wfc_media_decryptor_free,
        )

    def update(self, chunk: Bytes) -> bytes:
        """Feeds the next chunk of the CDN file; returns the (unverified) plaintext it releases."""
        data = _input(chunk, "chunk")
        with self._lock:
            before = _lib.wfc_media_decryptor_bytes_processed(self._ptr)
            try:
                return _copy_out(
                    lambda o, c, n: _lib.wfc_media_decryptor_update(self._ptr, data.ptr, data.len, o, c, n),
                    _lib.wfc_media_decryptor_update_len(self._ptr, data.len),
                )
            except FlowCryptoError:
                raise
            except BaseException:
                if _lib.wfc_media_decryptor_bytes_processed(self._ptr) != before:
                    self._end()
                raise

    def finish(self) -> bytes:
        """Runs every check; returns the last plaintext bytes, or raises FlowCryptoError."""
        with self._lock:
            if self._total is None:
                self._total = int(_lib.wfc_media_decryptor_bytes_processed(self._ptr))
            return _copy_out(
                lambda o, c, n: _lib.wfc_media_decryptor_finish(self._ptr, o, c, n),
                _lib.WFC_MEDIA_FINISH_MAX_LEN,
            )

    def _end(self) -> None:
        self._total = int(_lib.wfc_media_decryptor_bytes_processed(self._ptr))
        scratch = _ffi.new("uint8_t[]", _lib.WFC_MEDIA_FINISH_MAX_LEN)
        _lib.wfc_media_decryptor_finish(self._ptr, scratch, _lib.WFC_MEDIA_FINISH_MAX_LEN, _ffi.new("size_t *"))

    @property
    def bytes_processed(self) -> int:
        """How many bytes of the CDN file have been fed (the total, also after finish())."""
        with self._lock:
            if self._total is not None:
                return self._total
            return int(_lib.wfc_media_decryptor_bytes_processed(self._ptr))


class MediaVerifier:
    """Verifies a media file chunk by chunk (file hash and MAC) without decrypting it. Calls on
    one verifier from several threads are serialized."""

    __slots__ = ("_ptr", "_lock")

    def __init__(self, encryption_metadata: Union[Mapping[str, Any], str, Bytes]) -> None:
        md = _metadata(encryption_metadata)
        self._lock = _threading.RLock()
        self._ptr = _new_handle(
            "wfc_media_verifier",
            lambda out: _lib.wfc_media_verifier_new(md, out),
            _lib.wfc_media_verifier_free,
        )

    def update(self, chunk: Bytes) -> None:
        data = _input(chunk, "chunk")
        with self._lock:
            _check(_lib.wfc_media_verifier_update(self._ptr, data.ptr, data.len))

    def finish(self) -> None:
        with self._lock:
            _check(_lib.wfc_media_verifier_finish(self._ptr))


def verify_signature(body: Union[Bytes, str], header: Optional[str], app_secret: Any) -> bool:
    """Whether the ``X-Hub-Signature-256`` header authenticates the raw body (before any JSON
    parsing). Constant-time. Answer HTTP 432 when it is False. ``app_secret`` is one secret
    (str or bytes) or a list of them, newest first, while the app secret is being rotated: any
    one that matches will do (every one is compared). Raises :class:`FlowCryptoError`
    ``invalid_configuration`` (500) for an empty secret or an empty list."""
    data = _input(body, "body", wire=True)
    head = _input("" if header is None else header, "header", wire=True)
    secrets = _Secrets(app_secret)
    status = _lib.wfc_verify_signature_any(
        data.ptr, data.len, head.ptr, head.len, secrets.array, secrets.count, _ffi.NULL
    )
    if status == _INVALID_SIGNATURE:
        return False
    _check(status)
    return True


def sign(body: Union[Bytes, str], app_secret: Union[str, Bytes]) -> str:
    """The ``X-Hub-Signature-256`` value for ``body``: ``sha256=`` and lowercase hex."""
    data = _input(body, "body")
    secret = _input(app_secret, "app_secret")
    return _copy_out(
        lambda o, c, n: _lib.wfc_sign(data.ptr, data.len, secret.ptr, secret.len, o, c, n),
        _lib.WFC_SIGNATURE_HEADER_LEN,
    ).decode("ascii")


# -- data API 4.0: the flow token signature ----------------------------------------------------


def _request_text(request: Any) -> _Input:
    """A decrypted request's JSON text, from any of the forms verify_flow_token_signature takes."""
    if isinstance(request, (DecryptedRequest, FlowRequest)):
        return _Input(_text(request.plaintext, "request", wire=True))
    if isinstance(request, OpenedRequest):
        return _Input(_text(request.plaintext, "request", wire=True))
    return _json_input(request, "request")


def verify_flow_token_signature(request: Any, app_secret: Any, now: Union[int, float, None] = None) -> str:
    """Data API 4.0: checks the request's ``flow_token_signature`` (an HS256 JWT over its
    ``flow_token``, made with the Meta app secret). Returns ``"verified"``, or ``"absent"`` when
    the request has none (data API 3.0, a ping).

    ``request`` is the decrypted request: its JSON text (str or bytes), the dict parsed from it,
    a :class:`DecryptedRequest`, :class:`FlowRequest` or :class:`OpenedRequest`. ``app_secret`` is a str or bytes, or a
    list of them (newest first). ``now`` is the clock in Unix seconds (default ``time.time()``);
    ``exp`` and ``nbf`` get 60 s of leeway.

    Raises :class:`FlowCryptoError` ``invalid_flow_token_signature`` (answer HTTP 427) when the
    signature is there but wrong in any way, ``malformed`` (421) when ``request`` is not a flow
    request, ``invalid_configuration`` (500) for an empty secret or no secrets."""
    data = _request_text(request)
    secrets = _Secrets(app_secret)
    seconds = _now(now)
    outcome = _ffi.new("wfc_flow_token_signature *")
    _check(_lib.wfc_verify_flow_token_signature(data.ptr, data.len, secrets.array, secrets.count, seconds, outcome))
    return _FLOW_TOKEN_SIGNATURE[outcome[0]]


def sign_flow_token(flow_token: Union[str, Bytes], app_secret: Union[str, Bytes], exp: Union[int, float, None] = None) -> str:
    """A ``flow_token_signature`` as WhatsApp makes it (an HS256 JWT over
    ``{"flow_token": ...}``, with ``exp`` in Unix seconds when given): for clients and tests."""
    token = _input(flow_token, "flow_token")
    secret = _input(app_secret, "app_secret")
    has_exp, seconds = (0, 0) if exp is None else (1, _unix_seconds(exp, "exp"))
    return _copy_out(
        lambda o, c, n: _lib.wfc_sign_flow_token(token.ptr, token.len, secret.ptr, secret.len, has_exp, seconds, o, c, n),
        0,
    ).decode("ascii")


# -- the endpoint tier -------------------------------------------------------------------------

_POLICIES = {
    "if_present": _lib.WFC_FLOW_TOKEN_SIGNATURE_POLICY_IF_PRESENT,
    "required": _lib.WFC_FLOW_TOKEN_SIGNATURE_POLICY_REQUIRED,
    "off": _lib.WFC_FLOW_TOKEN_SIGNATURE_POLICY_OFF,
}


class FlowEndpoint:
    """Everything a Flows endpoint does with one POST, in one call, in the protocol's order:
    the ``X-Hub-Signature-256`` header (432), decryption with the key or key ring (421), the
    flow request (421), and data API 4.0's flow token signature (427). Make it once at
    start-up; it is immutable and thread-safe and holds its own copies of keys and secrets.

    ``key`` is a :class:`FlowPrivateKey` or a :class:`FlowKeyRing`. ``app_secret`` is None (no
    signature is checked), a str or bytes, or a list of them (newest first).
    ``flow_token_signature`` is ``"if_present"`` (check it when the request carries one),
    ``"required"`` (refuse a request without one) or ``"off"``; it is checked only when there is
    an app secret. Raises :class:`FlowCryptoError` ``invalid_configuration`` (500) for an empty
    secret, an empty list, an unknown policy, or ``"required"`` without a secret."""

    __slots__ = ("_ptr",)

    def __init__(self, key: Any, app_secret: Any = None, flow_token_signature: str = "if_present") -> None:
        ring_ptr = _ring_ptr(key)
        if not isinstance(flow_token_signature, str):
            raise TypeError(
                f"flow_token_signature must be 'if_present', 'required' or 'off', not {type(flow_token_signature).__name__}"
            )
        # An unknown name becomes a number the C ABI does not know: the core refuses it.
        policy = _POLICIES.get(str.__str__(flow_token_signature), _UINT32_MAX)
        if app_secret is None:
            secrets_array, count, secrets = _ffi.NULL, 0, None
        else:
            secrets = _Secrets(app_secret)
            if secrets.count == 0:
                # (NULL, 0) means "no signature check" in C; an empty list is not None.
                raise _error(
                    _lib.WFC_STATUS_INVALID_CONFIGURATION,
                    "invalid configuration: app_secret is an empty list; give at least one app "
                    "secret, or None to not check request signatures",
                )
            secrets_array, count = secrets.array, secrets.count
        self._ptr = _new_handle(
            "wfc_flow_endpoint",
            lambda out: _lib.wfc_flow_endpoint_new(ring_ptr, secrets_array, count, policy, out),
            _lib.wfc_flow_endpoint_free,
        )
        del secrets

    def open(self, body: Union[Bytes, str, Mapping[str, Any]], header: Union[str, Bytes, None] = None,
             now: Union[int, float, None] = None) -> "OpenedRequest":
        """Opens one POST: ``body`` as received (bytes or str; the signature covers these exact
        bytes), ``header`` the ``X-Hub-Signature-256`` value (None when absent), ``now`` the
        clock in Unix seconds (default ``time.time()``). Raises :class:`FlowCryptoError` whose
        ``http_status`` is the answer: 432 ``invalid_signature``; 421 ``malformed``,
        ``key_unwrap``, ``payload_auth``; 427 ``invalid_flow_token_signature``."""
        data = _json_input(body, "body")
        if header is None:
            head_ptr, head_len = _ffi.NULL, 0
        else:
            head = _input(header, "header", wire=True)
            head_ptr, head_len = head.ptr, head.len
        seconds = _now(now)
        return OpenedRequest(_new_handle(
            "wfc_opened_request",
            lambda out: _lib.wfc_flow_endpoint_open(self._ptr, data.ptr, data.len, head_ptr, head_len, seconds, out),
            _lib.wfc_opened_request_free,
        ))

    def __repr__(self) -> str:
        return "FlowEndpoint()"


class OpenedRequest:
    """A request that passed every check of :meth:`FlowEndpoint.open`."""

    __slots__ = ("_ptr", "_plaintext", "_flow")

    def __init__(self, _ptr: Any) -> None:
        if not isinstance(_ptr, _ffi.CData):
            raise TypeError("use FlowEndpoint.open")
        self._ptr = _ptr
        self._plaintext: Optional[str] = None
        self._flow: Optional[FlowRequest] = None

    @property
    def plaintext(self) -> str:
        """The decrypted JSON text, exactly as WhatsApp sent it."""
        if self._plaintext is None:
            self._plaintext = _copy_out(
                lambda o, c, n: _lib.wfc_opened_request_plaintext(self._ptr, o, c, n), 0
            ).decode("utf-8")
        return self._plaintext

    @property
    def flow(self) -> FlowRequest:
        """The request as a Flows endpoint sees it (see :class:`FlowRequest`)."""
        if self._flow is None:
            view = _copy_out(lambda o, c, n: _lib.wfc_opened_request_flow(self._ptr, o, c, n), 0)
            self._flow = FlowRequest(_PRIVATE, view, self.plaintext)
        return self._flow

    @property
    def key_index(self) -> int:
        """Which key of the ring opened the request (0 is the newest)."""
        return int(_lib.wfc_opened_request_key_index(self._ptr))

    @property
    def flow_token_signature(self) -> Optional[str]:
        """``"verified"``, ``"absent"``, or None when it was not checked (policy ``"off"``, or
        no app secret)."""
        return _FLOW_TOKEN_SIGNATURE.get(_lib.wfc_opened_request_flow_token_signature(self._ptr))

    @property
    def automatic_response(self) -> Optional[str]:
        """The answer the protocol fixes for this request: :data:`PING_RESPONSE` for a ping,
        :data:`ERROR_ACKNOWLEDGEMENT` for an error notification; None when the flow must
        answer itself. Send it with :meth:`respond`."""
        text = _copy_out(lambda o, c, n: _lib.wfc_opened_request_automatic_response(self._ptr, o, c, n), 64)
        return text.decode("utf-8") if text else None

    def respond(self, answer: Union[Mapping[str, Any], str, Bytes]) -> str:
        """Encrypts the answer (a dict is serialized as ``json.dumps`` does; str or bytes are
        sent as they are) and returns the base64 body to send with status 200 and
        ``Content-Type: text/plain``."""
        data = _json_input(answer, "answer", strict=True)
        return _copy_out(
            lambda o, c, n: _lib.wfc_opened_request_respond(self._ptr, data.ptr, data.len, o, c, n),
            _lib.wfc_encrypt_response_len(data.len),
        ).decode("ascii")

    def flow_token_error(self, message: Union[str, Bytes]) -> "tuple[int, str]":
        """For a flow token the application finds expired or invalid: ``(427, body)``, the body
        being the encrypted ``{"error_msg": message}`` that WhatsApp shows the user."""
        text = _input(message, "message")
        body = _copy_out(
            lambda o, c, n: _lib.wfc_opened_request_flow_token_error(self._ptr, text.ptr, text.len, o, c, n), 0
        ).decode("ascii")
        return FLOW_TOKEN_ERROR_STATUS, body

    def __repr__(self) -> str:
        return f"OpenedRequest(key_index={self.key_index}, flow_token_signature={self.flow_token_signature!r})"
