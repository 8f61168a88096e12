//! Times the director side of a one-change reload on a configuration file pair, natively and
//! without a kernel: `reload_profile OLD NEW [ROUNDS]` parses both files, builds the director
//! on OLD, then per round reloads it with NEW and plans against the table OLD gave (the work
//! hagroupd's runner does after the parse). Prints each phase's time. Used to profile the
//! reload under callgrind (`benches/scripts/director-phases` measures it in the VM).

use std::time::{Duration, Instant};

use ipvs_netlink::plan;
use lvs_director::{Director, DirectorConfig};

fn load(path: &str) -> Result<DirectorConfig, String> {
    let t0 = Instant::now();
    let p = kconf_parser::parse_file(
        std::path::Path::new(path),
        &kconf_parser::Options::default(),
    )
    .map_err(|e| format!("{path}: {e}"))?;
    let t1 = Instant::now();
    let dc = DirectorConfig::from_kconf(&p.config).map_err(|e| format!("{path}: {e}"))?;
    let t2 = Instant::now();
    drop(p);
    println!(
        "{path}: parse {:?} convert {:?} drop {:?}",
        t1 - t0,
        t2 - t1,
        t2.elapsed()
    );
    Ok(dc)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let (old, new) = match (args.get(1), args.get(2)) {
        (Some(a), Some(b)) => (a.clone(), b.clone()),
        _ => return Err("usage: reload_profile OLD NEW [ROUNDS]".into()),
    };
    let rounds: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3);
    let old_cfg = load(&old)?;
    let new_cfg = load(&new)?;
    // Only the changed virtual_server blocks parsed (what hagroupd's reload does when the file
    // allows it).
    let opts = kconf_parser::Options::default();
    let p =
        kconf_parser::parse_file(std::path::Path::new(&old), &opts).map_err(|e| e.to_string())?;
    let base = kconf_parser::Baseline::new(&p).ok_or("no baseline")?;
    let text = std::fs::read_to_string(&new).map_err(|e| e.to_string())?;
    for _ in 0..rounds {
        let t0 = Instant::now();
        let r = kconf_parser::reparse_change(
            &base,
            &p.config,
            &text,
            std::path::Path::new(&new),
            &opts,
        );
        let t1 = Instant::now();
        let c = p.config.clone();
        println!(
            "reparse {:?} fast path {} (a config clone: {:?})",
            t1 - t0,
            r.is_some(),
            t1.elapsed()
        );
        drop(c);
    }
    let now = Duration::ZERO;
    for _ in 0..rounds {
        let c = old_cfg.clone();
        let t = Instant::now();
        let mut d = Director::new(c, 1, now, Default::default());
        while d.poll_event().is_some() {}
        let t1 = Instant::now();
        let before = d.desired();
        let t2 = Instant::now();
        let start_ops = plan(&before, &ipvs_netlink::Desired::default());
        println!(
            "start: director {:?} desired {:?} plan {:?} ops {}",
            t1 - t,
            t2 - t1,
            t2.elapsed(),
            start_ops.len()
        );
        let cfg = new_cfg.clone();
        let t0 = Instant::now();
        d = d.reload(cfg, 2, now);
        let t1 = Instant::now();
        let desired = d.desired();
        let t2 = Instant::now();
        let ops = plan(&desired, &before);
        let t3 = Instant::now();
        println!(
            "reload {:?} desired {:?} plan {:?} ops {}",
            t1 - t0,
            t2 - t1,
            t3 - t2,
            ops.len()
        );
    }
    Ok(())
}
