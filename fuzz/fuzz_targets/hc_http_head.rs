//! keepalived's HTTP response-head reading (status, Content-Length, the hashed body) on arbitrary
//! bytes: no panic, and the hashed body never exceeds what was received or Content-Length.
#![no_main]

use healthcheck::http_wire::{digest_body, find_header_end, parse_content_length, parse_status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match find_header_end(data) {
        Some(end) => {
            let (head, rest) = data.split_at(end);
            let _ = parse_status(head);
            let body = digest_body(data).expect("a complete head has a body");
            assert!(body.len() <= rest.len());
            if let Some(cl) = parse_content_length(head) {
                assert!(body.len() as u64 <= cl);
            }
        }
        None => assert!(digest_body(data).is_none()),
    }
});
