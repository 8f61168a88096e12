//! keepalived's reading of an HTTP response head, as pure functions (no I/O, no tokio), shared by
//! the HTTP_GET probe and the fuzz target.

/// Why a response head is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeadError {
    /// The first line is not `HTTP/x.y NNN ...`.
    #[error("bad status line {0:?}")]
    BadStatusLine(String),
}

/// The offset just past the `\r\n\r\n` that ends the head, if present.
pub fn find_header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Parses the status code out of `HTTP/x.y NNN ...` (three digits).
pub fn parse_status(header: &[u8]) -> Result<u16, HeadError> {
    let line_end = header
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(header.len());
    let line = header.get(..line_end).unwrap_or_default();
    let bad = || HeadError::BadStatusLine(String::from_utf8_lossy(line).into_owned());
    if !line.starts_with(b"HTTP/") {
        return Err(bad());
    }
    let mut parts = line.split(|b| *b == b' ').filter(|p| !p.is_empty());
    let _version = parts.next();
    let code = parts.next().ok_or_else(bad)?;
    if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    std::str::from_utf8(code)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)
}

/// keepalived's Content-Length: the exact spelling `Content-Length:`, the value (spaces and tabs
/// trimmed) all digits; anything else is ignored, and the body then runs to the end of stream.
pub fn parse_content_length(header: &[u8]) -> Option<u64> {
    header.split(|b| *b == b'\n').skip(1).find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let value = line.strip_prefix(b"Content-Length:")?;
        let value = std::str::from_utf8(value).ok()?.trim_matches([' ', '\t']);
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        value.parse().ok()
    })
}

/// The bytes keepalived hashes for a complete response: everything after the head, cut at
/// Content-Length. `None` when the head is incomplete.
pub fn digest_body(response: &[u8]) -> Option<&[u8]> {
    let end = find_header_end(response)?;
    let (head, body) = response.split_at(end);
    let cut = parse_content_length(head)
        .and_then(|cl| usize::try_from(cl).ok())
        .map_or(body.len(), |cl| cl.min(body.len()));
    body.get(..cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_is_exact_spelling_and_digits_only() {
        let h =
            |s: &str| parse_content_length(format!("HTTP/1.0 200 OK\r\n{s}\r\n\r\n").as_bytes());
        assert_eq!(h("Content-Length:  3"), Some(3));
        assert_eq!(h("Content-Length: 0"), Some(0));
        assert_eq!(h("content-length: 3"), None);
        assert_eq!(h("CONTENT-LENGTH: 3"), None);
        assert_eq!(h("Content-Length: 3x"), None);
        assert_eq!(h("Content-Length: abc"), None);
        assert_eq!(h("X: 1\r\nContent-Length: 3"), Some(3));
    }

    #[test]
    fn status_line() {
        assert_eq!(parse_status(b"HTTP/1.1 404 Not Found\r\n").unwrap(), 404);
        assert_eq!(parse_status(b"HTTP/1.0 200\r\n").unwrap(), 200);
        assert!(parse_status(b"HTTP/1.0 20\r\n").is_err());
        assert!(parse_status(b"FOO 200 OK\r\n").is_err());
        assert!(parse_status(b"HTTP/1.0 2000 OK\r\n").is_err());
    }

    #[test]
    fn body_is_cut_at_content_length() {
        assert_eq!(
            digest_body(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nhello"),
            Some(&b"hel"[..])
        );
        assert_eq!(
            digest_body(b"HTTP/1.0 200 OK\r\n\r\nhello"),
            Some(&b"hello"[..])
        );
        assert_eq!(digest_body(b"HTTP/1.0 200 OK\nhello"), None);
    }
}
