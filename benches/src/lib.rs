//! Benchmarks for the hagroup crates live in `benches/benches/`; system-level bench scripts
//! (network namespaces, the IPVS VM) live in `benches/scripts/`. This library is empty.
