//! FILE_CHECK: the integer at the start of a tracked file (bounded read).

use super::ProbeError;
use crate::config::FileCheck;
use crate::sched::Outcome;
use tokio::io::AsyncReadExt;

/// Bytes read from the tracked file.
const MAX_FILE_BYTES: u64 = 4096;

/// Parses keepalived's track-file content: optional whitespace, an optional sign, digits.
pub(crate) fn parse_value(text: &str) -> Option<i64> {
    let t = text.trim_start();
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(t.len(), |(i, _)| i);
    t.get(..end)?.parse().ok()
}

/// One FILE_CHECK read. An unreadable file or one without a number is down.
pub(crate) async fn check(f: &FileCheck) -> Result<Outcome, ProbeError> {
    let file = tokio::fs::File::open(&f.path).await?;
    let mut buf = String::new();
    file.take(MAX_FILE_BYTES)
        .read_to_string(&mut buf)
        .await
        .map_err(ProbeError::Io)?;
    let value = parse_value(&buf)
        .ok_or_else(|| ProbeError::BadResponse(format!("{}: no integer", f.path.display())))?;
    Ok(Outcome::FileValue(value))
}
