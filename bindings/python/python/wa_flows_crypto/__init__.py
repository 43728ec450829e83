"""The cryptography of a WhatsApp Flows endpoint, on the Rust core through its C ABI.

Load the key once, then per request::

    from wa_flows_crypto import FlowPrivateKey, decrypt_request

    key = FlowPrivateKey.from_pem(open("private.pem").read(), passphrase=None)
    request = decrypt_request(raw_body, key)       # bytes, str or dict
    data = request.json()
    return request.encrypt_response({"data": {"status": "active"}})  # text/plain body

Every failure raises :class:`FlowCryptoError` with a stable ``.code`` (``"malformed"``,
``"key_unwrap"``, ``"payload_auth"``, ``"invalid_key"``, ``"invalid_signature"``,
``"invalid_configuration"``, or a media code) and the recommended ``.http_status`` (421, 432,
500; ``None`` for media errors). An argument of the wrong Python type raises ``TypeError``, and
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
import threading
from typing import Any, Dict, Mapping, Optional, Union

from ._native import ffi as _ffi
from ._native import lib as _lib

__all__ = [
    "FlowCryptoError",
    "FlowPrivateKey",
    "DecryptedRequest",
    "EncryptedRequest",
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
    "__version__",
]

__version__: str = _ffi.string(_lib.wfc_version()).decode()

_OK = _lib.WFC_STATUS_OK
_BUFFER_TOO_SMALL = _lib.WFC_STATUS_BUFFER_TOO_SMALL
_INVALID_SIGNATURE = _lib.WFC_STATUS_INVALID_SIGNATURE
_SIZE_MAX = 2 ** (8 * _ffi.sizeof("size_t")) - 1
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


def _json_text(value: Any, name: str, strict: bool) -> str:
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
    if not isinstance(key, FlowPrivateKey):
        raise TypeError(f"key must be a FlowPrivateKey, not {type(key).__name__}")
    return key._ptr


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


class DecryptedRequest:
    """A decrypted request: the plaintext and the key to answer it with."""

    __slots__ = ("_ptr", "_plaintext")

    def __init__(self, _ptr: Any) -> None:
        if not isinstance(_ptr, _ffi.CData):
            raise TypeError("use decrypt_request or decrypt_payload")
        self._ptr = _ptr
        self._plaintext: Optional[str] = None

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


def decrypt_request(body: Union[Bytes, str, Mapping[str, Any]], key: FlowPrivateKey) -> DecryptedRequest:
    """Decrypts a Flows request. ``body`` is the raw POST body (bytes or str) or the JSON object
    a framework already parsed. Raises :class:`FlowCryptoError` (``malformed``, ``key_unwrap``,
    ``payload_auth``; all answered with HTTP 421)."""
    key_ptr = _key_ptr(key)
    data = _json_input(body, "body")
    return DecryptedRequest(_new_handle(
        "wfc_decrypted_request",
        lambda out: _lib.wfc_decrypt_request(key_ptr, data.ptr, data.len, out),
        _lib.wfc_decrypted_request_free,
    ))


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
        lambda o, c, n: _lib.wfc_unwrap_aes_key(key_ptr, wrapped.ptr, wrapped.len, o, c, n),
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
        lambda o, c, n: _lib.wfc_encrypt_response(rk, data.ptr, data.len, o, c, n),
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
    return _copy_out(
        lambda o, c, n: _lib.wfc_decrypt_media_content(md, data.ptr, data.len, o, c, n),
        _lib.wfc_decrypt_media_content_max_len(data.len),
    )


class MediaDecryptor:
    """Decrypts a media file chunk by chunk in constant memory.

    **What update() returns is NOT VERIFIED** until finish() returns: do not parse, serve or act
    on it before; if finish() raises, discard all of it. Prefer :func:`decrypt_media_content`
    when the file fits in memory.

    Calls on one decryptor from several threads are serialized (feed the chunks in order
    yourself). If update() raises anything but :class:`FlowCryptoError` (a KeyboardInterrupt,
    MemoryError) after the library consumed the chunk, the plaintext it released is lost, so
    the decryptor is finished: later calls raise ``malformed``; start again.
    """

    __slots__ = ("_ptr", "_lock", "_total")

    def __init__(self, encryption_metadata: Union[Mapping[str, Any], str, Bytes]) -> None:
        md = _metadata(encryption_metadata)
        self._lock = threading.RLock()
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
        self._lock = threading.RLock()
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


def verify_signature(body: Union[Bytes, str], header: Optional[str], app_secret: Union[str, Bytes]) -> bool:
    """Whether the ``X-Hub-Signature-256`` header authenticates the raw body (before any JSON
    parsing). Constant-time. Answer HTTP 432 when it is False."""
    data = _input(body, "body", wire=True)
    head = _input("" if header is None else header, "header", wire=True)
    secret = _input(app_secret, "app_secret")
    status = _lib.wfc_verify_signature(data.ptr, data.len, head.ptr, head.len, secret.ptr, secret.len)
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
