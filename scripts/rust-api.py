#!/usr/bin/env python3
"""Prints the public API of a crate, one path per line, sorted, from rustdoc's JSON output.

    cargo +nightly rustdoc -p wa-flows-crypto --lib -- -Z unstable-options --output-format json
    scripts/rust-api.py target/doc/wa_flows_crypto.json > crates/wa-flows-crypto/api.txt

Listed: every public module, item and re-export reachable from the crate root, the variants of
public enums, and the public inherent functions and constants of public types (`Type::name`).
Trait implementations are left out: they follow from the types, and listing every `From` and
`Debug` would drown the names users call. Items of other crates that are re-exported are listed
under the name they are re-exported as.
"""
import json
import sys


def main(path):
    with open(path, encoding="utf-8") as file:
        doc = json.load(file)
    # The fields read below are those of rustdoc's JSON format versions 40 to 57 (2025-2026);
    # another version may have moved them, which must fail loudly, not list nothing.
    if not 40 <= doc["format_version"] <= 60:
        sys.exit(f"rustdoc JSON format version {doc['format_version']} is not one this script reads")
    index = doc["index"]
    names = set()

    def item(item_id):
        return index.get(str(item_id))

    def members(entry, prefix):
        inner = entry["inner"]
        if "enum" in inner:
            for variant in inner["enum"]["variants"]:
                names.add(f"{prefix}::{item(variant)['name']}")
        for kind in ("struct", "enum", "union"):
            if kind not in inner:
                continue
            for impl_id in inner[kind]["impls"]:
                impl = item(impl_id)
                if impl is None or impl["inner"]["impl"]["trait"] is not None:
                    continue
                for member_id in impl["inner"]["impl"]["items"]:
                    member = item(member_id)
                    if member is not None and member["visibility"] == "public":
                        names.add(f"{prefix}::{member['name']}")

    def walk(module, prefix, seen):
        for child_id in module["inner"]["module"]["items"]:
            child = item(child_id)
            if child is None or child["visibility"] != "public":
                continue
            inner = child["inner"]
            if "use" in inner:
                use = inner["use"]
                target = item(use["id"]) if use["id"] is not None else None
                if use["is_glob"]:
                    if target is not None and "module" in target["inner"]:
                        walk(target, prefix, seen)
                    continue
                path = f"{prefix}{use['name']}"
                names.add(path)
                if target is not None:
                    members(target, path)
                continue
            if "impl" in inner:
                continue
            path = f"{prefix}{child['name']}"
            names.add(path)
            if "module" in inner and child_id not in seen:
                walk(child, f"{path}::", seen | {child_id})
            else:
                members(child, path)

    walk(item(doc["root"]), "", {doc["root"]})
    if "FlowPrivateKey::decrypt_request" not in names:
        sys.exit("the listing lacks FlowPrivateKey::decrypt_request: the JSON was not read right")
    for name in sorted(names):
        print(name)


if __name__ == "__main__":
    main(sys.argv[1])
