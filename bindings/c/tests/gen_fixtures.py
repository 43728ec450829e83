#!/usr/bin/env python3
"""Turns the shared JSON vectors into length-prefixed fixture files the C tests read.

Each field is written as `<decimal length>\\n<bytes>\\n`, so the C side needs no JSON parser
and binary fields (keys, IVs, bodies) pass through unchanged. Usage:
    gen_fixtures.py VECTORS_DIR OUT_DIR
"""
import base64
import json
import os
import sys

vectors_dir, out_dir = sys.argv[1], sys.argv[2]
os.makedirs(out_dir, exist_ok=True)


def field(out, value):
    if value is None:
        value = b""
    if isinstance(value, bool):
        value = b"1" if value else b"0"
    if isinstance(value, str):
        value = value.encode("utf-8")
    out.write(str(len(value)).encode() + b"\n" + value + b"\n")


def load(name):
    with open(os.path.join(vectors_dir, name), encoding="utf-8") as f:
        return json.load(f)


def path(rel):
    return os.path.abspath(os.path.join(vectors_dir, rel))


count = {}
with open(os.path.join(out_dir, "requests.fix"), "wb") as out:
    data = load("requests.json")
    for v in data["vectors"]:
        e = v["expect"]
        field(out, v["name"])
        field(out, path(v["key"]))
        field(out, v["passphrase"] is not None)
        field(out, v["passphrase"])
        field(out, json.dumps(v["request"]))
        field(out, e["ok"])
        field(out, e.get("plaintext"))
        field(out, bytes.fromhex(e["aes_key_hex"]) if e["ok"] else b"")
        field(out, bytes.fromhex(e["iv_hex"]) if e["ok"] else b"")
        field(out, e.get("error"))
    count["requests"] = len(data["vectors"])

with open(os.path.join(out_dir, "responses.fix"), "wb") as out:
    data = load("responses.json")
    for v in data["vectors"]:
        field(out, v["name"])
        field(out, bytes.fromhex(v["aes_key_hex"]))
        field(out, bytes.fromhex(v["request_iv_hex"]))
        field(out, v["plaintext"])
        field(out, v["expected_body"])
    count["responses"] = len(data["vectors"])

with open(os.path.join(out_dir, "signatures.fix"), "wb") as out:
    data = load("signatures.json")
    for v in data["vectors"]:
        field(out, v["name"])
        field(out, v["app_secret"])
        field(out, base64.b64decode(v["body_b64"]))
        field(out, v["header"])
        field(out, v["valid"])
    count["signatures"] = len(data["vectors"])

with open(os.path.join(out_dir, "media.fix"), "wb") as out:
    data = load("media.json")
    for v in data["vectors"]:
        e = v["expect"]
        field(out, v["name"])
        field(out, path(v["file"]))
        field(out, json.dumps(v["metadata"]))
        field(out, e["ok"])
        field(out, path(e["plaintext_file"]) if e["ok"] else b"")
        field(out, e.get("error"))
    count["media"] = len(data["vectors"])

with open(os.path.join(out_dir, "flow_token.fix"), "wb") as out:
    data = load("flow_token.json")
    for v in data["vectors"]:
        e = v["expect"]
        secrets = v["app_secret"] if isinstance(v["app_secret"], list) else [v["app_secret"]]
        field(out, v["name"])
        field(out, v["request"])
        field(out, "\n".join(secrets))
        field(out, str(v["now"]))
        field(out, e["ok"])
        field(out, e.get("signature"))
        field(out, e.get("error"))
    count["flow_token"] = len(data["vectors"])

with open(os.path.join(out_dir, "counts.txt"), "w") as out:
    for kind, n in count.items():
        out.write(f"{kind} {n}\n")
print(" ".join(f"{k}={n}" for k, n in count.items()))
