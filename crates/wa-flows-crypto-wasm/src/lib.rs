//! WebAssembly bindings for wa-flows-crypto (being written).
