//! A reader for `keepalived.conf`: keepalived's line preprocessor (includes, conditionals,
//! definitions, sequences), a typed model, and file:line:column diagnostics.
