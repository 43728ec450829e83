//! demo runs the whole exchange with nothing but the binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

#[test]
fn demo_runs_every_step_and_prints_timings() {
    let result = common::run(&["demo", "--media-size", "200000"], None, &[]);
    let out = result.ok("demo");
    for step in 1..=9 {
        assert!(
            out.contains(&format!("{step:>2}. ")),
            "step {step} missing:\n{out}"
        );
    }
    assert_eq!(out.matches(" ms\n").count(), 9, "{out}");
    assert!(out.contains("0.2 MiB photo"), "{out}");
    assert!(
        out.contains("refused: error[encrypted_hash_mismatch]"),
        "{out}"
    );
    assert!(out.contains(r#""action":"data_exchange""#), "{out}");
}
