//! decrypt-media on the shared vectors: exact codes, exact bytes, nothing left on failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{listing, run, s, vector_list, vectors};

#[test]
fn every_media_vector_through_decrypt_media() {
    let list = vector_list("media.json");
    assert!(list.len() >= 20, "the vectors file lost vectors");
    for vector in &list {
        let name = vector["name"].as_str().unwrap();
        let work = tempfile::tempdir().unwrap();
        let metadata = work.path().join("metadata.json");
        std::fs::write(
            &metadata,
            serde_json::to_string(&vector["metadata"]).unwrap(),
        )
        .unwrap();
        let out_dir = work.path().join("out");
        std::fs::create_dir(&out_dir).unwrap();
        let out = out_dir.join("plain.bin");
        let input = vectors().join(vector["file"].as_str().unwrap());
        let result = run(
            &[
                "decrypt-media",
                "--metadata",
                s(&metadata),
                "--in",
                s(&input),
                "--out",
                s(&out),
            ],
            None,
            &[],
        );
        let expect = &vector["expect"];
        if expect["ok"].as_bool().unwrap() {
            result.ok(name);
            let want =
                std::fs::read(vectors().join(expect["plaintext_file"].as_str().unwrap())).unwrap();
            assert_eq!(std::fs::read(&out).unwrap(), want, "{name}");
            assert_eq!(listing(&out_dir), ["plain.bin"], "{name}: leftovers");
        } else {
            match expect["error"].as_str().unwrap() {
                "padding_or_plaintext_hash" => {
                    result.fails_with_any(&["padding", "plaintext_hash_mismatch"], name);
                }
                code => result.fails_with(code, name),
            }
            assert!(!out.exists(), "{name}: an output file was left behind");
            assert!(
                listing(&out_dir).is_empty(),
                "{name}: left {:?}",
                listing(&out_dir)
            );
        }
    }
}

#[test]
fn a_failed_check_keeps_an_existing_file_and_leaves_no_temporary_file() {
    let vector = vector_list("media.json")
        .into_iter()
        .find(|v| v["name"] == "wrong_plaintext_hash")
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("photo.jpg");
    std::fs::write(&out, b"previous contents").unwrap();
    let metadata = serde_json::to_string(&vector["metadata"]).unwrap();
    let input = vectors().join(vector["file"].as_str().unwrap());
    // --force allows replacing, but only with verified plaintext.
    run(
        &[
            "decrypt-media",
            "--metadata",
            "-",
            "--in",
            s(&input),
            "--out",
            s(&out),
            "--force",
        ],
        Some(metadata.as_bytes()),
        &[],
    )
    .fails_with("plaintext_hash_mismatch", "wrong plaintext hash");
    assert_eq!(std::fs::read(&out).unwrap(), b"previous contents");
    assert_eq!(listing(work.path()), ["photo.jpg"]);
}

#[test]
fn output_rules_metadata_forms_and_missing_input() {
    let vector = vector_list("media.json")
        .into_iter()
        .find(|v| v["name"] == "size_65536")
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let input = vectors().join(vector["file"].as_str().unwrap());
    let want = std::fs::read(vectors().join(vector["expect"]["plaintext_file"].as_str().unwrap()))
        .unwrap();
    // A whole PhotoPicker entry holding `encryption_metadata`, as JSON text.
    let entry = serde_json::json!({
        "file_name": "cat.jpg",
        "media_id": "1",
        "cdn_url": "https://example.invalid/cat",
        "encryption_metadata": vector["metadata"],
    })
    .to_string();
    let out = work.path().join("cat.jpg");
    run(
        &[
            "decrypt-media",
            "--metadata",
            &entry,
            "--in",
            s(&input),
            "--out",
            s(&out),
        ],
        None,
        &[],
    )
    .ok("entry as JSON text");
    assert_eq!(std::fs::read(&out).unwrap(), want);

    // An existing output is not replaced without --force.
    std::fs::write(&out, b"keep me").unwrap();
    run(
        &[
            "decrypt-media",
            "--metadata",
            &entry,
            "--in",
            s(&input),
            "--out",
            s(&out),
        ],
        None,
        &[],
    )
    .fails_with("exists", "existing output");
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    run(
        &[
            "decrypt-media",
            "--metadata",
            &entry,
            "--in",
            s(&input),
            "--out",
            s(&out),
            "--force",
        ],
        None,
        &[],
    )
    .ok("--force");
    assert_eq!(std::fs::read(&out).unwrap(), want);

    // Missing input file; metadata that is not JSON.
    let missing = work.path().join("absent.bin");
    run(
        &[
            "decrypt-media",
            "--metadata",
            &entry,
            "--in",
            s(&work.path().join("none.enc")),
            "--out",
            s(&missing),
        ],
        None,
        &[],
    )
    .fails_with("io", "missing input");
    run(
        &[
            "decrypt-media",
            "--metadata",
            "{not json",
            "--in",
            s(&input),
            "--out",
            s(&missing),
        ],
        None,
        &[],
    )
    .fails_with("malformed", "bad metadata");
    assert!(!missing.exists());
    assert_eq!(listing(work.path()), ["cat.jpg"]);
}
