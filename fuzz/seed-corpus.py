#!/usr/bin/env python3
"""Writes seed corpora for every fuzz target into fuzz/corpus/<target>/ from tests/vectors/.

The layouts match crates/wa-flows-crypto-fuzz-harness/src/harness.rs: `private_key` inputs start with a mode byte (bit 0:
give the passphrase, bit 1: DER instead of PEM); `media` inputs start with a mode byte and 8
chunk-size bytes.
"""
import hashlib
import json
import os
import pathlib

here = pathlib.Path(__file__).resolve().parent
vectors = here.parent / "tests" / "vectors"
corpus = here / "corpus"


def put(target: str, data: bytes) -> None:
    folder = corpus / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


for key in sorted((vectors / "keys").iterdir()):
    raw = key.read_bytes()
    for mode in range(4):
        put("private_key", bytes([mode]) + raw)
    text = raw.decode("latin-1")
    put("private_key", b"\x01" + text.replace("\n", "\\n").encode("latin-1"))
    put("private_key", b"\x01" + text.replace("\n", " ").encode("latin-1"))

requests = json.loads((vectors / "requests.json").read_text())
for vector in requests["vectors"]:
    body = json.dumps(vector["request"]).encode()
    if not vector["expect"]["ok"] and vector["key"] == "keys/rsa2048_pkcs8.pem":
        put("request_body", body)
    put("request_mutated", bytes([len(body) % 2, 1, 0, 0, 5, 1, 0]) + body[:40])

# encrypted_key_kdf: selector, salt length, salt, key-length flag, KDF parameters, IV, data.
salt = bytes(range(16))
for n_log, r, p in [(14, 8, 1), (1, 1, 1), (10, 8, 2)]:
    put("encrypted_key_kdf", bytes([1 | 16, 16]) + salt + b"\0" + bytes([n_log])
        + r.to_bytes(2, "big") + p.to_bytes(2, "big") + bytes(16) + bytes(64))
for iterations in [1, 2048]:
    put("encrypted_key_kdf", bytes([4 | 16, 16]) + salt + b"\0" + iterations.to_bytes(4, "big")
        + bytes(16) + bytes(64))
for regression in sorted((here / "regressions" / "encrypted_key_kdf").glob("*")):
    put("encrypted_key_kdf", regression.read_bytes())

for vector in json.loads((vectors / "responses.json").read_text())["vectors"]:
    put(
        "response_round_trip",
        bytes.fromhex(vector["aes_key_hex"]) + bytes.fromhex(vector["request_iv_hex"])
        + vector["plaintext"].encode(),
    )

for vector in json.loads((vectors / "media.json").read_text())["vectors"]:
    put("media_metadata", json.dumps(vector["metadata"]).encode())
    cdn = (vectors / vector["file"]).read_bytes()[:4096]
    put("media", bytes([3]) + bytes(range(1, 9)) + cdn)
for mode in range(3):
    put("media", bytes([mode, 1, 2, 3, 5, 8, 13, 21, 34, 2, 0, 0, 7, 9, 1, 0, 12, 3]))

for vector in json.loads((vectors / "signatures.json").read_text())["vectors"]:
    secret = vector["app_secret"].encode()
    header = vector["header"].encode()
    import base64

    body = base64.b64decode(vector["body_b64"])
    put("signature", bytes([len(secret)]) + secret + bytes([len(header)]) + header + body)

# c_abi: flags, capacity/3, operation, then u16-length-prefixed byte strings.
def lp(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


pem = (vectors / "keys" / "rsa2048_pkcs1.pem").read_bytes()
first_request = json.dumps(requests["vectors"][0]["request"]).encode()
first_media = json.loads((vectors / "media.json").read_text())["vectors"][5]
for flags in (0, 1, 2, 4, 8, 0x30):
    for cap in (0, 10, 200):
        put("c_abi", bytes([flags, cap, 0]) + lp(pem) + lp(b"flows-public-passphrase"))
        put("c_abi", bytes([flags, cap, 1]) + lp(first_request))
        put("c_abi", bytes([flags, cap, 2]) + lp(bytes(16)) + lp(bytes(range(16))) + lp(b'{"data":{}}'))
        put("c_abi", bytes([flags, cap, 3]) + lp(b"body") + lp(b"sha256=" + b"0" * 64) + lp(b"secret"))
        put(
            "c_abi",
            bytes([flags, cap, 4]) + lp(json.dumps(first_media["metadata"]).encode())
            + lp((vectors / first_media["file"]).read_bytes()[:2000]),
        )

# The differential targets (diff_*): see their headers in fuzz_targets/.
for key in sorted((vectors / "keys").iterdir()):
    raw = key.read_bytes()
    for mode in range(4):
        put("diff_private_key", bytes([mode]) + raw)
    text = raw.decode("latin-1")
    for damaged in (text.replace("\n", "\\n"), text.replace("\n", " "), text.replace("\n", "\r\n"),
                    '"' + text.replace("\n", "\\n") + '"', text.replace("Proc-Type", "proc-type")):
        put("diff_private_key", b"\x01" + damaged.encode("latin-1"))
public = (vectors / "keys" / "rsa2048_public.pem").read_bytes()
put("diff_private_key", b"\x00" + public + (vectors / "keys" / "rsa2048_pkcs1.pem").read_bytes())
# Keys the vectors lack (too small, three primes, not RSA), if the openssl command is here.
import shutil
import subprocess

if shutil.which("openssl"):
    for args in (["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
                 ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2047"],
                 ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-pkeyopt", "rsa_keygen_primes:3"],
                 ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
                 ["-algorithm", "ED25519"]):
        run = subprocess.run(["openssl", "genpkey", *args], capture_output=True)
        if run.returncode == 0:
            put("diff_private_key", b"\x00" + run.stdout)
            der = subprocess.run(["openssl", "pkey", "-outform", "DER"], input=run.stdout, capture_output=True)
            if der.returncode == 0:
                put("diff_private_key", b"\x02" + der.stdout)

# diff_oaep: mode, then per mode (1/2: change, position, value, message; 3: damage, seed,
# position, value, message length, message; 0: ciphertext).
for message in (bytes(range(16)), b"", bytes(15), bytes(17), bytes(range(190))):
    put("diff_oaep", bytes([1, 0, 0, 0]) + message)
for change in range(4):
    put("diff_oaep", bytes([2, change, 0, 7, 0x20]) + bytes(range(16)))
for damage in range(8):
    put("diff_oaep", bytes([3, damage]) + bytes(range(32)) + bytes([0, 5, 0x11, 16]) + bytes(range(16)))
put("diff_oaep", bytes([0]) + bytes(range(256)))

# diff_gcm: mode, key, IV, then the plaintext (mode 0), changes and plaintext (1) or sealed
# bytes (2).
gcm_key, gcm_iv = bytes(range(16)), bytes(range(100, 116))
for plaintext in (b'{"version":"3.0","action":"ping"}', b'{"a":[1,2,{"b":null}],"c":"\\u00e9"}', b"{}",
                  b"[1]", b'"text"', b"\xff\xfe", b"", b'{"a":1} x', b'{"n":1e400}'):
    put("diff_gcm", bytes([0]) + gcm_key + gcm_iv + plaintext)
    put("diff_gcm", bytes([1]) + gcm_key + gcm_iv + bytes([1, 0, 0, 3, 9]) + plaintext)
put("diff_gcm", bytes([2]) + gcm_key + gcm_iv + bytes(40))

# diff_media: mode, encryption key, HMAC key, IV, change count and changes, plaintext.
media_keys = bytes(range(32)) + bytes(range(32, 64)) + bytes(range(64, 80))
for mode in (0, 3, 4, 8, 12):
    for plaintext in (b"", b"\x89PNG\r\n\x1a\n", bytes(range(48))):
        put("diff_media", bytes([mode]) + media_keys + bytes([0]) + plaintext)
for kind in range(9):
    put("diff_media", bytes([12]) + media_keys + bytes([1, kind, 0, 3, 0x10]) + bytes(range(40)))
first_file = (vectors / first_media["file"]).read_bytes()[:2048]
put("diff_media", bytes([3]) + media_keys + bytes([0]) + first_file)

# The flow targets (flow_*): see their headers in fuzz_targets/.
import hmac as hmac_module


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(header: str, payload: str, secret: bytes) -> str:
    signed = b64url(header.encode()) + "." + b64url(payload.encode())
    return signed + "." + b64url(hmac_module.new(secret, signed.encode(), hashlib.sha256).digest())


now = (1_767_286_945).to_bytes(8, "big")
secrets = bytes([2, 3]) + b"new" + bytes([3]) + b"old"
jwt = hs256('{"alg":"HS256","typ":"JWT"}', '{"flow_token":"flow-1"}', b"old")
put("flow_token", bytes([0]) + now + secrets + bytes([6]) + b"flow-1" + jwt.encode())
put("flow_token", bytes([1]) + now + secrets + json.dumps(
    {"version": "4.0", "action": "INIT", "flow_token": "flow-1", "flow_token_signature": jwt}).encode())
for header, payload in (('{"alg":"HS256","crit":["x"]}', '{"flow_token":"flow-1"}'),
                        ('{"alg":"HS256"}', '{"flow_token":"flow-1","exp":"soon","a":[true,null,1.5]}'),
                        ('{"alg":"HS256","alg":"HS256"}', '{"flow_token":"flow-1"}')):
    put("flow_token", bytes([2]) + now + secrets + bytes([64, 1, 6]) + b"flow-1" + bytes([0, 30, 0, 30, len(header)])
        + header.encode() + payload.encode())
for flags in (0, 1, 4, 12, 31, 32 | 4, 63):
    put("flow_token", bytes([2]) + now + secrets + bytes([flags, 1, 6]) + b"flow-1" + bytes([0, 30, 0, 30, 0, 40, ord("x")]))

for text in (b'{"version":"3.0","action":"ping"}', b'{"action":"INIT","flow_token":"t","screen":null}',
             b'{"version":"3.0","action":"data_exchange","screen":"A","flow_token":"t","data":{"error_key":"k"}}',
             b'{"action":"BACK","data":{"error":"X","error_message":"m"},"flow_token_signature":[1]}',
             b'{"action":1}', b'{"n":1e400,"action":"INIT"}', b"[]", b'{"action":"a","action":"ping"}'):
    put("flow_request", text)

# flow_endpoint: mode, secrets, clock, then per kind (mode bits 2-3).
endpoint_secrets = bytes([1, 6]) + b"secret"
for policy in range(3):
    put("flow_endpoint", bytes([policy]) + endpoint_secrets + now + bytes([0]) + b'{"encrypted_flow_data":"","encrypted_aes_key":"","initial_vector":""}')
    for kind in (1, 2):
        for header in range(4):
            for choice in (0, 1 | 8 | 32, 2 | 8 | 64, 3 | 96, 8 | 128):
                put("flow_endpoint", bytes([policy | kind << 2 | 16 | header << 5]) + endpoint_secrets + now
                    + bytes(range(32)) + bytes([kind - 1, 0, 4]) + b"sha2" + bytes([choice]) + b"flow-token" + bytes([0]))
        put("flow_endpoint", bytes([policy | kind << 2]) + endpoint_secrets + now + bytes(range(32))
            + bytes([1, 0, 0]) + b'{"version":"3.0","action":"ping"}')

# Inputs that once broke a flow target are seeds of its smoke run (the stable replay of
# regressions/ covers the harness targets only).
for target in ("flow_token", "flow_endpoint", "flow_request"):
    for regression in sorted((here / "regressions" / target).glob("*")):
        put(target, regression.read_bytes())

print(f"seed corpora written to {corpus.relative_to(os.getcwd()) if corpus.is_relative_to(os.getcwd()) else corpus}")
