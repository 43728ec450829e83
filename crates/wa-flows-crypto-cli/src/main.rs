//! The wa-flows-crypto command-line tool (being written).
fn main() {}
