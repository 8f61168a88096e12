//! kconf-parser throughput: parse + validate (a) a generated LVS config of 2,000 virtual
//! servers x 20 real servers with TCP_CHECK (~252k lines) and (b) the man page's `~SEQ`
//! example generating 65,024 vrrp_instances from one multiline definition. Figures in
//! docs/benchmarks.md (lines per second = elements per second).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kconf_parser::{Options, parse_str};
use std::fmt::Write as _;
use std::hint::black_box;

/// `vs` virtual servers with `rs` real servers each, 6 lines per real server.
fn lvs_config(vs: u32, rs: u32) -> String {
    let mut s = String::with_capacity((vs * rs * 110) as usize);
    s.push_str("global_defs {\n    router_id bench\n}\n");
    for v in 0..vs {
        let _ = writeln!(
            s,
            "virtual_server 10.{}.{}.1 80 {{\n    delay_loop 6\n    lb_algo wrr\n    lb_kind DR\n    protocol TCP",
            v / 256,
            v % 256
        );
        for r in 0..rs {
            let _ = writeln!(
                s,
                "    real_server 172.16.{}.{} 80 {{\n        weight 1\n        TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}",
                v % 256,
                r + 1
            );
        }
        s.push_str("}\n");
    }
    s
}

/// The keepalived.conf(5) `~SEQ` example: 8 x 32 x 254 = 65,024 instances.
const SEQ_EXAMPLE: &str = r"$INSTANCE= \
vrrp_instance VI_${IF}_${NUM}_${ID} { \
    interface eth${IF} \
    virtual_router_id ${ID} \
    priority 100 \
    advert_int 1 \
    virtual_ipaddress { \
        10.${IF}.${NUM}.${ID}/32 \
    } \
}
~SEQ(IF,0,7) ~SEQ(NUM,0,31) ~SEQ(ID,1,254) $INSTANCE
";

fn bench(c: &mut Criterion) {
    let opts = Options {
        config_id: Some("bench".into()),
        random_seed: Some(0),
        ..Options::default()
    };
    let mut g = c.benchmark_group("kconf");
    g.sample_size(10);
    for (vs, rs) in [(500u32, 20u32), (2000, 20)] {
        let text = lvs_config(vs, rs);
        let lines = text.lines().count() as u64;
        let p = parse_str(&text, &opts);
        assert_eq!(p.config.virtual_servers.len(), vs as usize);
        assert!(!p.has_errors());
        g.throughput(Throughput::Elements(lines));
        g.bench_function(format!("parse_lvs_{vs}vs_x{rs}rs_{lines}lines"), |b| {
            b.iter(|| black_box(parse_str(black_box(&text), &opts)))
        });
    }
    let p = parse_str(SEQ_EXAMPLE, &opts);
    assert_eq!(p.config.vrrp_instances.len(), 65_024);
    g.throughput(Throughput::Elements(p.logical_lines));
    g.bench_function(
        format!("parse_seq_65024_instances_{}logical_lines", p.logical_lines),
        |b| b.iter(|| black_box(parse_str(black_box(SEQ_EXAMPLE), &opts))),
    );
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
