//! Replays `fuzz/regressions/c_abi/` (inputs that once broke the C ABI fuzz target) and a set
//! of seeds through the same checks the fuzz target runs.

// Test code: a failed fixture or assertion should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use wa_flows_crypto_fuzz_harness::c_abi;

use std::path::Path;

#[test]
fn regression_inputs_and_seeds_pass_the_c_abi_checks() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/c_abi");
    if let Ok(entries) = std::fs::read_dir(folder) {
        for entry in entries {
            let path = entry.unwrap().path();
            c_abi::c_abi(&std::fs::read(&path).unwrap());
        }
    }
    // Every operation with every NULL combination and a spread of output capacities.
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/keys/rsa2048_pkcs1.pem"
    ))
    .unwrap();
    for operation in 0u8..6 {
        for flags in 0u8..16 {
            for cap in [0u8, 1, 20, 40, 200] {
                let mut input = vec![flags | 0x30, cap, operation];
                // Each byte string is a big-endian u16 length, then the bytes.
                let body: &[u8] = if operation == 0 { &pem } else { br#"{"a":1}"# };
                input.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
                input.extend_from_slice(body);
                input.extend_from_slice(&[0, 16]);
                input.extend_from_slice(&[7; 16]);
                input.extend_from_slice(&[0, 16]);
                input.extend_from_slice(&[9; 16]);
                c_abi::c_abi(&input);
            }
        }
    }
}
