//! Tier `kernel`: tests against a real IPVS kernel (`scripts/test kernel` runs them inside a
//! qemu VM booting Debian's kernel). Each test runs in a fresh network namespace
//! (`common::in_fresh_netns`).

mod common;

use common::{client, in_fresh_netns};

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_ipvs_family_resolves() {
    in_fresh_netns("kernel_ipvs_family_resolves", || {
        let mut c = client();
        assert!(
            c.family_id() >= 0x10,
            "dynamic genl ids start above GENL_ID_CTRL"
        );
        let info = c.info().unwrap_or_else(|e| panic!("GET_INFO: {e}"));
        assert_eq!(info.version.0, 1, "IPVS major version: {info}");
        assert!(info.conn_tab_size > 0, "{info}");
        println!("{info}");
    });
}
