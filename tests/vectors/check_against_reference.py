#!/usr/bin/env python3
"""Checks test-vector folders by running the decrypting (endpoint) side with Python `cryptography`.

    /tmp/vecvenv/bin/python tests/vectors/check_against_reference.py [REFERENCE_DIR ...]

Always checks this folder (tests/vectors/, made by generate.py); every REFERENCE_DIR given is
checked the same way (for instance the reference set these vectors were modelled on, which is not
part of the repository). For each folder: every
case's `expect` holds when an independent endpoint-side implementation reads it, the keys are the
same 2048-bit key in each encoding, and every case name of the reference exists here too with the
same expectation. Not run by CI: it only needs `cryptography` (see requirements.txt).
"""
import base64
import binascii
import hashlib
import hmac
import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

HERE = Path(__file__).resolve().parent
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
FILES = ("requests.json", "responses.json", "media.json", "signatures.json", "flow_token.json")
KEYS = ("rsa2048_pkcs8.pem", "rsa2048_pkcs1.pem", "rsa2048_pkcs8.der", "rsa2048_pkcs8_des3.pem",
        "rsa2048_pkcs8_aes256.pem", "rsa2048_legacy_des3.pem", "rsa2048_legacy_aes256.pem",
        "rsa2048_public.pem", "rsa2048_other.pem", "rsa3072_pkcs8.pem", "rsa4096_pkcs8.pem")


class Fail(Exception):
    """The endpoint refuses the input with this error code."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def strict_b64(text):
    if not isinstance(text, str):
        raise Fail("malformed")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Fail("malformed") from None


def load_key(path, passphrase):
    data = path.read_bytes()
    password = passphrase.encode() if passphrase is not None else None
    try:
        if path.suffix == ".der":
            key = serialization.load_der_private_key(data, password)
        else:
            key = serialization.load_pem_private_key(data, password)
    except (ValueError, TypeError):
        raise Fail("invalid_key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise Fail("invalid_key")
    return key


def decrypt_request(body, key):
    if not isinstance(body, dict):
        raise Fail("malformed")
    fields = [body.get(name) for name in ("encrypted_flow_data", "encrypted_aes_key", "initial_vector")]
    data, wrapped, iv = (strict_b64(f) for f in fields)
    if len(iv) != 16:
        raise Fail("malformed")
    if len(wrapped) != key.key_size // 8:
        raise Fail("wrapped_key_wrong_length")
    try:
        aes_key = key.decrypt(wrapped, OAEP)
    except ValueError:
        raise Fail("key_unwrap") from None
    if len(aes_key) != 16 or len(data) < 16:
        raise Fail("malformed")
    try:
        plaintext = AESGCM(aes_key).decrypt(iv, data, None)
    except Exception:  # noqa: BLE001 - InvalidTag
        raise Fail("payload_auth") from None
    try:
        text = plaintext.decode("utf-8")
        if not isinstance(json.loads(text), dict):
            raise ValueError("not an object")
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise Fail("malformed") from None
    return text, aes_key, iv


def error_matches(name, got, expected):
    if got == expected:
        return True
    if got == "wrapped_key_wrong_length" or name == "wrapped_key_wrong_length":
        return expected in ("malformed", "key_unwrap") and got in ("malformed", "key_unwrap",
                                                                  "wrapped_key_wrong_length")
    if expected == "padding_or_plaintext_hash":
        return got in ("padding", "plaintext_hash_mismatch")
    return False


def check_requests(folder, doc):
    for v in doc["vectors"]:
        expect = v["expect"]
        try:
            key = load_key(folder / v["key"], v["passphrase"])
            plaintext, aes_key, iv = decrypt_request(v["request"], key)
        except Fail as f:
            yield v["name"], (not expect["ok"] and error_matches(v["name"], f.code, expect["error"])), f.code
            continue
        good = (expect["ok"] and plaintext == expect["plaintext"] and aes_key.hex() == expect["aes_key_hex"]
                and iv.hex() == expect["iv_hex"])
        json.loads(plaintext)
        yield v["name"], good, "decrypted"


def check_responses(folder, doc):
    for v in doc["vectors"]:
        key, iv = bytes.fromhex(v["aes_key_hex"]), bytes.fromhex(v["request_iv_hex"])
        flipped = bytes(b ^ 0xFF for b in iv)
        body = base64.b64decode(v["expected_body"], validate=True)
        opened = AESGCM(key).decrypt(flipped, body, None).decode("utf-8")
        sealed = base64.b64encode(AESGCM(key).encrypt(flipped, v["plaintext"].encode("utf-8"), None)).decode()
        yield v["name"], opened == v["plaintext"] and sealed == v["expected_body"], "opened"


def decrypt_media(cdn, metadata):
    key, hmac_key, iv = (strict_b64(metadata.get(k)) for k in ("encryption_key", "hmac_key", "iv"))
    plaintext_hash, encrypted_hash = (strict_b64(metadata.get(k)) for k in ("plaintext_hash", "encrypted_hash"))
    if len(key) != 32 or len(hmac_key) != 32 or len(iv) != 16 or len(plaintext_hash) != 32 \
            or len(encrypted_hash) != 32 or len(cdn) < 10:
        raise Fail("malformed")
    if not hmac.compare_digest(hashlib.sha256(cdn).digest(), encrypted_hash):
        raise Fail("encrypted_hash_mismatch")
    ciphertext, mac = cdn[:-10], cdn[-10:]
    if not ciphertext or len(ciphertext) % 16:
        raise Fail("malformed")
    if not hmac.compare_digest(hmac.new(hmac_key, iv + ciphertext, hashlib.sha256).digest()[:10], mac):
        raise Fail("hmac_mismatch")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    n = padded[-1]
    if not 1 <= n <= 16 or padded[-n:] != bytes([n]) * n:
        raise Fail("padding")
    plaintext = padded[:-n]
    if not hmac.compare_digest(hashlib.sha256(plaintext).digest(), plaintext_hash):
        raise Fail("plaintext_hash_mismatch")
    return plaintext


def check_media(folder, doc):
    for v in doc["vectors"]:
        expect = v["expect"]
        try:
            plaintext = decrypt_media((folder / v["file"]).read_bytes(), v["metadata"])
        except Fail as f:
            yield v["name"], (not expect["ok"] and error_matches(v["name"], f.code, expect["error"])), f.code
            continue
        good = expect["ok"] and plaintext == (folder / expect["plaintext_file"]).read_bytes()
        yield v["name"], good, f"{len(plaintext)} bytes"


def verify_signature(body, header, secret):
    if not isinstance(header, str) or not header.startswith("sha256="):
        return False
    digest = header[len("sha256="):]
    if len(digest) != 64:
        return False
    try:
        given = bytes.fromhex(digest)
    except ValueError:
        return False
    return hmac.compare_digest(given, hmac.new(secret.encode(), body, hashlib.sha256).digest())


def check_signatures(folder, doc):
    for v in doc["vectors"]:
        got = verify_signature(base64.b64decode(v["body_b64"], validate=True), v["header"], v["app_secret"])
        yield v["name"], got is v["valid"], f"valid={got}"


B64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url(segment):
    """Canonical unpadded base64url only."""
    if not segment or not set(segment) <= B64URL or len(segment) % 4 == 1:
        raise Fail("invalid_flow_token_signature")
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != segment:
        raise Fail("invalid_flow_token_signature")
    return data


def no_duplicates(pairs):
    names = [k for k, _ in pairs]
    if len(set(names)) != len(names):
        raise Fail("invalid_flow_token_signature")
    return dict(pairs)


def json_object(data):
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError):
        raise Fail("invalid_flow_token_signature") from None
    if not isinstance(value, dict):
        raise Fail("invalid_flow_token_signature")
    return value


def numeric(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def verify_flow_token(request_text, secret, now):
    """'verified' or 'absent', or raises Fail('invalid_flow_token_signature')."""
    bad = Fail("invalid_flow_token_signature")
    request = json.loads(request_text)
    if "flow_token_signature" not in request:
        return "absent"
    token = request["flow_token_signature"]
    if not isinstance(token, str) or not token or len(token.encode()) > 16 * 1024:
        raise bad
    parts = token.split(".")
    if len(parts) != 3:
        raise bad
    header, payload = json_object(b64url(parts[0])), json_object(b64url(parts[1]))
    signature = b64url(parts[2])
    if header.get("alg") != "HS256" or "crit" in header:
        raise bad
    expected = hmac.new(secret.encode(), (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise bad
    claim, own = payload.get("flow_token"), request.get("flow_token")
    if not isinstance(claim, str) or not isinstance(own, str) or claim != own:
        raise bad
    if "exp" in payload and (not numeric(payload["exp"]) or now > payload["exp"] + 60):
        raise bad
    if "nbf" in payload and (not numeric(payload["nbf"]) or now < payload["nbf"] - 60):
        raise bad
    return "verified"


def check_flow_tokens(folder, doc):
    for v in doc["vectors"]:
        expect = v["expect"]
        try:
            got = verify_flow_token(v["request"], v["app_secret"], v["now"])
        except Fail as f:
            yield v["name"], not expect["ok"] and expect["error"] == f.code, f.code
            continue
        yield v["name"], expect["ok"] and expect["signature"] == got, got


def check_keys(folder):
    keys = folder / "keys"
    passphrase = json.loads((folder / "requests.json").read_text(encoding="utf-8"))["passphrase"]
    main = load_key(keys / "rsa2048_pkcs8.pem", None)
    numbers = main.private_numbers()
    for name in KEYS:
        text = (keys / name).read_bytes()
        if name == "rsa2048_public.pem":
            public = serialization.load_pem_public_key(text)
            yield f"keys/{name}", public.public_numbers() == main.public_key().public_numbers(), "SPKI"
            continue
        encrypted = "des3" in name or "aes256" in name
        key = load_key(keys / name, passphrase if encrypted else None)
        if name.startswith("rsa2048_") and name != "rsa2048_other.pem":
            good = key.private_numbers() == numbers
        else:
            good = key.private_numbers() != numbers and key.key_size == int(name[3:7])
        marker = {"pkcs1": b"BEGIN RSA PRIVATE KEY", "legacy": b"Proc-Type: 4,ENCRYPTED",
                  "pkcs8_des3": b"BEGIN ENCRYPTED PRIVATE KEY", "pkcs8_aes256": b"BEGIN ENCRYPTED PRIVATE KEY"}
        for part, expected in marker.items():
            if part in name:
                good = good and expected in text
        if name.endswith("pkcs8.pem") or name == "rsa2048_other.pem":
            good = good and b"BEGIN PRIVATE KEY" in text
        yield f"keys/{name}", good, f"{key.key_size} bits"


CHECKS = {"requests.json": check_requests, "responses.json": check_responses, "media.json": check_media,
          "signatures.json": check_signatures, "flow_token.json": check_flow_tokens}


def check_folder(folder):
    """{file: {name: expect}} of the folder, and the number of failures."""
    print(f"== {folder}")
    failures = 0
    cases = {}
    for key, good, detail in check_keys(folder):
        failures += not good
        if not good:
            print(f"  FAIL {key}: {detail}")
    for name in FILES:
        path = folder / name
        if not path.exists():
            print(f"  FAIL {name}: missing")
            failures += 1
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        cases[name] = {v["name"]: v.get("expect", v.get("valid")) for v in doc["vectors"]}
        results = list(CHECKS[name](folder, doc))
        bad = [(n, detail) for n, good, detail in results if not good]
        failures += len(bad)
        print(f"  {name}: {len(results) - len(bad)}/{len(results)} cases hold")
        for n, detail in bad:
            print(f"    FAIL {n}: got {detail}")
    return cases, failures


def expectation_shape(expect):
    """What a case promises, without the values that differ between generators."""
    if isinstance(expect, dict) and expect.get("ok") and "plaintext" in expect:
        return {"ok": True}
    if isinstance(expect, dict) and "plaintext_file" in expect:
        return {"ok": True, "plaintext_file": expect["plaintext_file"]}
    return expect


def main(argv):
    ours, failures = check_folder(HERE)
    references = [Path(a).resolve() for a in argv]
    if not references:
        print("no reference folder given: checked only this folder "
              "(pass a reference vectors folder to compare against it)")
    for reference in references:
        theirs, more = check_folder(reference)
        failures += more
        for name, cases in theirs.items():
            for case, expect in cases.items():
                mine = ours.get(name, {})
                if case not in mine:
                    print(f"  FAIL {name}: reference case {case} missing here")
                    failures += 1
                elif expectation_shape(mine[case]) != expectation_shape(expect):
                    print(f"  FAIL {name}: {case} expects {mine[case]} here, {expect} in the reference")
                    failures += 1
            extra = sorted(set(ours.get(name, {})) - set(cases))
            if extra:
                print(f"  {name}: cases of our own: {', '.join(extra)}")
        for name in sorted((reference / "media").iterdir()):
            if not (HERE / "media" / name.name).exists():
                print(f"  FAIL media/{name.name}: in the reference, not here")
                failures += 1
    print("OK" if not failures else f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
