#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| wa_flows_crypto_fuzz_harness::harness::media(data));
