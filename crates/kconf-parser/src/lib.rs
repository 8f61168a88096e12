//! A reader for `keepalived.conf`: keepalived's line preprocessor (includes, conditionals,
//! definitions, sequences), a typed model, and file:line:column diagnostics.

pub mod model;

pub use model::Config;
