//! Real-server health checking: a pure scheduling core with keepalived's semantics (injected
//! time, seeded randomness, no tokio) and the probes that run on tokio.
