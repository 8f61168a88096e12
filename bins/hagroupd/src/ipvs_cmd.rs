//! `hagroupd ipvs`: the kernel's IPVS table over generic netlink.
//!
//! - `hagroupd ipvs list [--stats|--rate]`: the table in `ipvsadm -Ln` format;
//! - `hagroupd ipvs save`: the table in `ipvsadm -Sn` format (input for `ipvsadm -R`);
//! - `hagroupd ipvs apply -f keepalived.conf [--dry-run]`: makes the kernel's table match the
//!   configuration's virtual servers, with every real server at its configured weight (no
//!   health checks), and prints the plan (as `ipvsadm` commands) before applying it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use ipvs_netlink::{
    Client, Desired, Destination, Family, Forward, ListFormat, Protocol, Service, ServiceFlags,
    ServiceKey, TunnelFlags, TunnelType, apply, plan,
};
use kconf_parser::model::{
    Config, IpFamily, LvsMethod, Protocol as KProtocol, TunnelOptions, VirtualServer, VsTarget,
    VsgEntry,
};

/// `hagroupd ipvs` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct IpvsArgs {
    /// What to do.
    #[command(subcommand)]
    command: IpvsCommand,
}

/// `hagroupd ipvs` subcommands.
#[derive(Debug, clap::Subcommand)]
enum IpvsCommand {
    /// Print the kernel's table like `ipvsadm -Ln`.
    List {
        /// Counters (like `ipvsadm -Ln --stats`).
        #[arg(long, conflicts_with = "rate")]
        stats: bool,
        /// Rates (like `ipvsadm -Ln --rate`).
        #[arg(long)]
        rate: bool,
    },
    /// Print the kernel's table like `ipvsadm -Sn`.
    Save,
    /// Make the kernel's table match a keepalived.conf's virtual servers.
    Apply {
        /// The configuration file.
        #[arg(short = 'f', long = "use-file", value_name = "FILE", default_value = crate::config_cmd::DEFAULT_CONFIG)]
        file: PathBuf,
        /// Print the plan only.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs `hagroupd ipvs ...`.
pub(crate) fn run(args: &IpvsArgs) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hagroupd ipvs: {e}");
            ExitCode::from(1)
        }
    }
}

fn run_inner(args: &IpvsArgs) -> Result<ExitCode, String> {
    match &args.command {
        IpvsCommand::List { stats, rate } => {
            let format = match (stats, rate) {
                (true, _) => ListFormat::Stats,
                (_, true) => ListFormat::Rate,
                _ => ListFormat::Default,
            };
            let table = client()?.table().map_err(|e| e.to_string())?;
            print!("{}", table.list(format));
            Ok(ExitCode::SUCCESS)
        }
        IpvsCommand::Save => {
            let table = client()?.table().map_err(|e| e.to_string())?;
            print!("{}", table.save());
            Ok(ExitCode::SUCCESS)
        }
        IpvsCommand::Apply { file, dry_run } => {
            let parsed = kconf_parser::parse_file(file, &kconf_parser::Options::default())
                .map_err(|e| e.to_string())?;
            eprint!("{}", parsed.render_diagnostics());
            if parsed.has_errors() {
                return Err(format!("{}: configuration has errors", file.display()));
            }
            let desired = desired_from_config(&parsed.config)?;
            let mut c = client()?;
            let actual = Desired::from_table(&c.table().map_err(|e| e.to_string())?);
            let ops = plan(&desired, &actual);
            if ops.is_empty() {
                println!(
                    "# nothing to do: the kernel's table matches {}",
                    file.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            if *dry_run {
                for op in &ops {
                    println!("{op}");
                }
                return Ok(ExitCode::SUCCESS);
            }
            let mut failed = 0;
            for r in apply(&mut c, ops) {
                match r.result {
                    Ok(()) => println!("{}", r.op),
                    Err(e) => {
                        failed += 1;
                        println!("{}  # FAILED: {e}", r.op);
                    }
                }
            }
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn client() -> Result<Client, String> {
    Client::new().map_err(|e| e.to_string())
}

/// The IPVS table a configuration asks for: every virtual server (groups expanded) with all
/// its real servers at their configured weights.
pub(crate) fn desired_from_config(config: &Config) -> Result<Desired, String> {
    let mut services = Vec::new();
    for vs in &config.virtual_servers {
        for key in service_keys(config, vs)? {
            let service = service(vs, key)?;
            let vs_port = match key {
                ServiceKey::Addr { port, .. } => port,
                ServiceKey::FwMark { .. } => 0,
            };
            let dests = vs
                .real_servers
                .iter()
                .map(|rs| {
                    Ok(Destination {
                        addr: rs.address,
                        port: rs.port.unwrap_or(vs_port),
                        forward: forward(rs.lvs_method, vs.tunnel.as_ref())?,
                        weight: rs.weight,
                        upper_threshold: rs.uthreshold.unwrap_or(0),
                        lower_threshold: rs.lthreshold.unwrap_or(0),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            services.push((service, dests));
        }
    }
    Ok(Desired { services })
}

/// Addresses in a `virtual_server_group` range are expanded up to this many per entry.
const MAX_RANGE: u128 = 65_536;

fn protocol(p: KProtocol) -> Protocol {
    match p {
        KProtocol::Tcp => Protocol::Tcp,
        KProtocol::Udp => Protocol::Udp,
        KProtocol::Sctp => Protocol::Sctp,
    }
}

fn family(f: Option<IpFamily>) -> Family {
    match f {
        Some(IpFamily::Inet6) => Family::Inet6,
        _ => Family::Inet,
    }
}

fn service_keys(config: &Config, vs: &VirtualServer) -> Result<Vec<ServiceKey>, String> {
    let proto = protocol(vs.protocol);
    match &vs.target {
        VsTarget::Address { address, port } => Ok(vec![ServiceKey::Addr {
            addr: *address,
            port: port.unwrap_or(0),
            protocol: proto,
        }]),
        VsTarget::Fwmark { mark } => Ok(vec![ServiceKey::FwMark {
            family: family(vs.ip_family),
            mark: *mark,
        }]),
        VsTarget::Group { name } => {
            let group = config
                .virtual_server_groups
                .iter()
                .find(|g| &g.name == name)
                .ok_or_else(|| format!("virtual_server_group {name} is not defined"))?;
            let mut keys = Vec::new();
            for entry in &group.entries {
                match entry {
                    VsgEntry::Range { start, end, port } => {
                        for addr in expand(*start, *end)? {
                            keys.push(ServiceKey::Addr {
                                addr,
                                port: port.unwrap_or(0),
                                protocol: proto,
                            });
                        }
                    }
                    VsgEntry::Fwmark { mark, family: f } => {
                        keys.push(ServiceKey::FwMark {
                            family: family(*f),
                            mark: *mark,
                        });
                    }
                }
            }
            Ok(keys)
        }
    }
}

fn expand(start: IpAddr, end: IpAddr) -> Result<Vec<IpAddr>, String> {
    let (a, b, v6) = match (start, end) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            (u128::from(u32::from(a)), u128::from(u32::from(b)), false)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), true),
        _ => return Err(format!("address range {start}-{end} mixes families")),
    };
    if b < a || b - a >= MAX_RANGE {
        return Err(format!("address range {start}-{end} is empty or too large"));
    }
    Ok((a..=b)
        .map(|x| {
            if v6 {
                IpAddr::V6(x.into())
            } else {
                // a..=b fit in u32 because they came from IPv4 addresses.
                IpAddr::V4(u32::try_from(x).unwrap_or(0).into())
            }
        })
        .collect())
}

fn service(vs: &VirtualServer, key: ServiceKey) -> Result<Service, String> {
    let mut s = Service::new(key, vs.lvs_sched.as_str());
    if let Some(t) = vs.persistence_timeout {
        s = s.persistent(u32::try_from(t.as_secs()).unwrap_or(u32::MAX));
        if let Some(g) = &vs.persistence_granularity {
            s.netmask = granularity(key.family(), g)?;
        }
        s.pe_name.clone_from(&vs.persistence_engine);
    }
    let f = &vs.flags;
    if f.ops {
        s.flags.0 |= ServiceFlags::ONEPACKET;
    }
    if f.flag_1 || f.sh_fallback || f.mh_fallback {
        s.flags.0 |= ServiceFlags::SCHED1;
    }
    if f.flag_2 || f.sh_port || f.mh_port {
        s.flags.0 |= ServiceFlags::SCHED2;
    }
    if f.flag_3 {
        s.flags.0 |= ServiceFlags::SCHED3;
    }
    Ok(s)
}

/// `persistence_granularity`: an IPv4 netmask (or prefix length), or an IPv6 prefix length.
fn granularity(family: Family, g: &str) -> Result<u8, String> {
    if let Ok(p) = g.parse::<u8>()
        && p >= 1
        && p <= family.max_prefix()
    {
        return Ok(p);
    }
    if family == Family::Inet
        && let Ok(mask) = g.parse::<std::net::Ipv4Addr>()
    {
        return ipvs_netlink::types::mask_to_prefix(mask).map_err(|e| e.to_string());
    }
    Err(format!("persistence_granularity {g} is not valid here"))
}

fn forward(method: LvsMethod, tunnel: Option<&TunnelOptions>) -> Result<Forward, String> {
    Ok(match method {
        LvsMethod::Nat => Forward::Masq,
        LvsMethod::Dr => Forward::Route,
        LvsMethod::Tun => {
            let Some(t) = tunnel else {
                return Ok(Forward::ipip());
            };
            let kind = match t.tunnel_type.as_str() {
                "ipip" | "" => TunnelType::Ipip,
                "gue" => TunnelType::Gue,
                "gre" => TunnelType::Gre,
                other => return Err(format!("unknown tunnel type {other}")),
            };
            let flags = match t.checksum.as_deref() {
                None | Some("nocsum") => TunnelFlags::NOCSUM,
                Some("csum") => TunnelFlags::CSUM,
                Some("remcsum") => TunnelFlags::REMCSUM,
                Some(other) => return Err(format!("unknown tunnel checksum option {other}")),
            };
            Forward::Tunnel {
                kind,
                port: t.port.unwrap_or(0),
                flags: TunnelFlags(flags),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "
virtual_server_group web {
    192.0.2.10-12 80
    fwmark 7
}
virtual_server 192.0.2.1 443 {
    lvs_sched sh
    lvs_method DR
    protocol TCP
    persistence_timeout 300
    persistence_granularity 255.255.255.0
    sh-fallback
    real_server 198.51.100.1 8443 {
        lvs_method NAT
        weight 3
        uthreshold 100
        lthreshold 10
    }
    real_server 198.51.100.2 {
    }
}
virtual_server group web {
    lvs_sched rr
    lvs_method TUN type gue port 6080 csum
    protocol TCP
    real_server 198.51.100.3 80 {
        weight 2
    }
}
";

    #[test]
    fn config_becomes_the_desired_table() {
        let parsed = kconf_parser::parse_str(CONF, &kconf_parser::Options::default());
        assert!(!parsed.has_errors(), "{}", parsed.render_diagnostics());
        let d = desired_from_config(&parsed.config).unwrap_or_default();
        let text: Vec<String> = plan(&d, &Desired::default())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            text,
            vec![
                "-A -t 192.0.2.1:443 -s sh -p 300 -M 255.255.255.0 -b sh-fallback",
                "-a -t 192.0.2.1:443 -r 198.51.100.1:8443 -m -w 3",
                "-a -t 192.0.2.1:443 -r 198.51.100.2:443 -g -w 1",
                "-A -t 192.0.2.10:80 -s rr",
                "-a -t 192.0.2.10:80 -r 198.51.100.3:80 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum",
                "-A -t 192.0.2.11:80 -s rr",
                "-a -t 192.0.2.11:80 -r 198.51.100.3:80 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum",
                "-A -t 192.0.2.12:80 -s rr",
                "-a -t 192.0.2.12:80 -r 198.51.100.3:80 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum",
                "-A -f 7 -s rr",
                // keepalived keeps a real server's own port only with NAT.
                "-a -f 7 -r 198.51.100.3:0 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum",
            ]
        );
        let first = &d.services[0].1[0];
        assert_eq!((first.upper_threshold, first.lower_threshold), (100, 10));
    }

    #[test]
    fn granularity_accepts_masks_and_prefixes() {
        assert_eq!(granularity(Family::Inet, "255.255.255.0"), Ok(24));
        assert_eq!(granularity(Family::Inet, "24"), Ok(24));
        assert_eq!(granularity(Family::Inet6, "64"), Ok(64));
        assert!(granularity(Family::Inet6, "255.255.255.0").is_err());
        assert!(granularity(Family::Inet, "255.0.255.0").is_err());
    }

    /// Tier kernel: `hagroupd ipvs apply` programs a configuration's virtual servers, and a
    /// second apply has nothing to do. Runs in a fresh network namespace: the test re-executes
    /// itself under `unshare --net` (loopback up), as ipvs-netlink's kernel tests do.
    #[test]
    #[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
    fn kernel_ipvs_apply_programs_the_config() {
        const NAME: &str = "ipvs_cmd::tests::kernel_ipvs_apply_programs_the_config";
        if std::env::var_os("HAGROUPD_TEST_IN_NETNS").is_none() {
            let exe = std::env::current_exe().unwrap_or_default();
            let out = std::process::Command::new("unshare")
                .args([
                    "--net",
                    "sh",
                    "-c",
                    "ip link set lo up && exec \"$0\" \"$@\"",
                ])
                .arg(exe)
                .args([
                    NAME,
                    "--exact",
                    "--ignored",
                    "--test-threads=1",
                    "--nocapture",
                ])
                .env("HAGROUPD_TEST_IN_NETNS", "1")
                .output();
            let out = out.unwrap_or_else(|e| panic!("unshare: {e}"));
            let stdout = String::from_utf8_lossy(&out.stdout);
            print!("{stdout}");
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            assert!(out.status.success() && stdout.contains("test result: ok. 1 passed"));
            return;
        }
        let path = std::env::temp_dir().join(format!("hagroupd-ipvs-{}.conf", std::process::id()));
        std::fs::write(&path, CONF).unwrap_or_else(|e| panic!("{e}"));
        let apply = |dry_run| IpvsArgs {
            command: IpvsCommand::Apply {
                file: path.clone(),
                dry_run,
            },
        };
        assert_eq!(run_inner(&apply(true)), Ok(ExitCode::SUCCESS));
        let mut c = client().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            c.services().unwrap_or_default().is_empty(),
            "--dry-run changed the kernel"
        );
        assert_eq!(run_inner(&apply(false)), Ok(ExitCode::SUCCESS));
        let parsed = kconf_parser::parse_str(CONF, &kconf_parser::Options::default());
        let want = desired_from_config(&parsed.config).unwrap_or_default();
        let got = Desired::from_table(&c.table().unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(got, want.sorted());
        assert!(
            plan(&want, &got).is_empty(),
            "a second apply would do something"
        );
        let _ = std::fs::remove_file(&path);
    }
}
