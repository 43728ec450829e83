//! C ABI for wa-flows-crypto (being written).
