//! `hagroupd ipvs`: the kernel's IPVS table over generic netlink.
//!
//! - `hagroupd ipvs list [--stats|--rate]`: the table in `ipvsadm -Ln` format;
//! - `hagroupd ipvs save`: the table in `ipvsadm -Sn` format (input for `ipvsadm -R`);
//! - `hagroupd ipvs apply -f keepalived.conf [--dry-run]`: makes the kernel's table match the
//!   configuration's virtual servers, with every real server at its configured weight (no
//!   health checks), sets its `lvs_timeouts`, and prints the plan (as `ipvsadm` commands: `--set`
//!   for the timeouts) while applying it.

use std::path::PathBuf;
use std::process::ExitCode;

use ipvs_netlink::{Client, Desired, ListFormat, Timeouts, apply, plan};
use kconf_parser::model::Config;
use lvs_director::DirectorConfig;

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
            let (desired, timeouts) = config_target(&parsed.config)?;
            let mut c = client()?;
            let set = match timeouts {
                Some(_) => timeouts_change(timeouts, c.timeouts().map_err(|e| e.to_string())?),
                None => None,
            };
            let actual = Desired::from_table(&c.table().map_err(|e| e.to_string())?);
            let ops = plan(&desired, &actual);
            if ops.is_empty() && set.is_none() {
                println!(
                    "# nothing to do: the kernel's table matches {}",
                    file.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            if *dry_run {
                if let Some(t) = set {
                    println!("{}", set_line(t));
                }
                for op in &ops {
                    println!("{op}");
                }
                return Ok(ExitCode::SUCCESS);
            }
            let mut failed = 0;
            if let Some(t) = set {
                match c.set_timeouts(t) {
                    Ok(()) => println!("{}", set_line(t)),
                    Err(e) => {
                        failed += 1;
                        println!("{}  # FAILED: {e}", set_line(t));
                    }
                }
            }
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

/// What a configuration asks `hagroupd ipvs apply` for: the IPVS table with every real
/// server at its configured weight ([`DirectorConfig::static_desired`]) and `lvs_timeouts`.
pub(crate) fn config_target(config: &Config) -> Result<(Desired, Option<Timeouts>), String> {
    let dc = DirectorConfig::from_kconf(config).map_err(|e| e.to_string())?;
    Ok((dc.static_desired(), dc.timeouts))
}

/// The timeouts to set so that the kernel's `actual` ones become `want` (a 0 field: leave it),
/// or `None` when they already match.
fn timeouts_change(want: Option<Timeouts>, actual: Timeouts) -> Option<Timeouts> {
    let w = want?;
    let differs = |want: u32, have: u32| want != 0 && want != have;
    (differs(w.tcp, actual.tcp) || differs(w.tcp_fin, actual.tcp_fin) || differs(w.udp, actual.udp))
        .then_some(w)
}

/// `ipvsadm --set TCP TCPFIN UDP`, as the plan prints it.
fn set_line(t: Timeouts) -> String {
    format!("--set {} {} {}", t.tcp, t.tcp_fin, t.udp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "
global_defs {
    lvs_timeouts tcp 7200 udp 300
}
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
        let (d, timeouts) = config_target(&parsed.config).unwrap_or_default();
        assert_eq!(
            timeouts,
            Some(Timeouts {
                tcp: 7200,
                tcp_fin: 0,
                udp: 300
            })
        );
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
    fn timeouts_are_set_only_when_they_differ() {
        let kernel = Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        };
        let want = Timeouts {
            tcp: 7200,
            tcp_fin: 0,
            udp: 300,
        };
        assert_eq!(timeouts_change(None, kernel), None);
        assert_eq!(timeouts_change(Some(want), kernel), Some(want));
        let same = Timeouts { tcp: 900, ..want };
        assert_eq!(
            timeouts_change(Some(same), kernel),
            None,
            "0 leaves tcpfin alone"
        );
        assert_eq!(set_line(want), "--set 7200 0 300");
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
        let t = c.timeouts().unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(t.tcp, 7200, "--dry-run set the timeouts");
        assert_eq!(run_inner(&apply(false)), Ok(ExitCode::SUCCESS));
        let parsed = kconf_parser::parse_str(CONF, &kconf_parser::Options::default());
        let (want, timeouts) = config_target(&parsed.config).unwrap_or_default();
        let t = c.timeouts().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((t.tcp, t.udp), (7200, 300), "lvs_timeouts were not set");
        assert_eq!(timeouts_change(timeouts, t), None);
        let got = Desired::from_table(&c.table().unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(got, want.sorted());
        assert!(
            plan(&want, &got).is_empty(),
            "a second apply would do something"
        );
        let _ = std::fs::remove_file(&path);
    }
}
