//! keepalived-compatible configuration flags: `-f/--use-file`, `-t/--config-test`,
//! `-i/--config-id`, `--strict`, `--dump-config [--format json|keepalived]`, and the plan that
//! `hagroupd demo` prints.

use kconf_parser::model::{CheckerKind, Config, VsTarget};
use kconf_parser::{Options, Parsed, Severity};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// keepalived's default configuration file.
pub(crate) const DEFAULT_CONFIG: &str = "/etc/keepalived/keepalived.conf";

/// Output format of `--dump-config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub(crate) enum DumpFormat {
    /// The resolved model as JSON (durations in microseconds).
    #[default]
    Json,
    /// The resolved model printed back as keepalived.conf syntax, every default explicit.
    Keepalived,
}

/// Configuration flags (shared by the daemon and the config test).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ConfigArgs {
    /// Configuration file to read.
    #[arg(short = 'f', long = "use-file", value_name = "FILE", default_value = DEFAULT_CONFIG)]
    pub(crate) use_file: PathBuf,
    /// Check the configuration and exit: 0 when usable, 1 on errors (diagnostics on stderr).
    #[arg(short = 't', long = "config-test")]
    pub(crate) config_test: bool,
    /// Config id for `@id` conditional lines and `${_INSTANCE}` (default: the host name up to
    /// the first `.`).
    #[arg(short = 'i', long = "config-id", value_name = "ID")]
    pub(crate) config_id: Option<String>,
    /// Treat every configuration warning as an error.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Print the resolved configuration and exit.
    #[arg(long = "dump-config")]
    pub(crate) dump_config: bool,
    /// Format of `--dump-config`.
    #[arg(long, value_enum, default_value_t = DumpFormat::Json, requires = "dump_config")]
    pub(crate) format: DumpFormat,
}

impl ConfigArgs {
    /// Parser options from the flags.
    pub(crate) fn options(&self) -> Options {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Options {
            config_id: self.config_id.clone(),
            strict: self.strict,
            random_seed: Some(seed),
            ..Options::default()
        }
    }

    /// Parses the configuration file, printing diagnostics on stderr. `Err` carries the exit
    /// code when the file could not be read at all.
    pub(crate) fn load(&self) -> Result<Parsed, ExitCode> {
        match kconf_parser::parse_file(&self.use_file, &self.options()) {
            Ok(p) => {
                eprint!("{}", p.render_diagnostics());
                Ok(p)
            }
            Err(e) => {
                eprintln!("hagroupd: {e}");
                Err(ExitCode::from(1))
            }
        }
    }

    /// Like [`ConfigArgs::load`], for the configuration file's text already read (includes
    /// are read from the real file system, relative to the file).
    pub(crate) fn load_text(&self, text: &str) -> Parsed {
        let p = kconf_parser::parse_str_with(
            &kconf_parser::RealFs,
            &self.use_file,
            text,
            &self.options(),
        );
        eprint!("{}", p.render_diagnostics());
        p
    }
}

/// Handles `-t` and `--dump-config`; `None` when neither was given.
pub(crate) fn run(args: &ConfigArgs) -> Option<ExitCode> {
    if !args.config_test && !args.dump_config {
        return None;
    }
    let parsed = match args.load() {
        Ok(p) => p,
        Err(code) => return Some(code),
    };
    if args.dump_config {
        match args.format {
            DumpFormat::Json => match serde_json::to_string_pretty(&parsed.config) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("hagroupd: cannot serialize the configuration: {e}");
                    return Some(ExitCode::from(1));
                }
            },
            DumpFormat::Keepalived => {
                print!("{}", kconf_parser::print::print_config(&parsed.config))
            }
        }
    }
    let (errors, warnings) = (
        parsed.count(Severity::Error),
        parsed.count(Severity::Warning),
    );
    if args.config_test {
        eprintln!(
            "hagroupd: configuration {}: {errors} error(s), {warnings} warning(s)",
            args.use_file.display()
        );
    }
    Some(if parsed.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A short, human-readable plan of what a configuration would run: VRRP instances and their
/// VIPs, virtual servers, real servers and checkers.
pub(crate) fn plan(config: &Config) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "VRRP instances: {}", config.vrrp_instances.len());
    for i in &config.vrrp_instances {
        let _ = writeln!(
            out,
            "  {} on {}: VRID {}, priority {}, start {:?}, advert every {:?}, VRRPv{}",
            i.name,
            i.interface.as_deref().unwrap_or("(no interface)"),
            i.virtual_router_id,
            i.priority,
            i.state,
            i.advert_int,
            i.version
        );
        for v in &i.virtual_ipaddress {
            let _ = writeln!(
                out,
                "    VIP {}/{}{}",
                v.address,
                v.prefix_len,
                v.dev
                    .as_deref()
                    .map(|d| format!(" dev {d}"))
                    .unwrap_or_default()
            );
        }
        for t in &i.track_scripts {
            let _ = writeln!(out, "    tracks script {}", t.name);
        }
    }
    for g in &config.vrrp_sync_groups {
        let _ = writeln!(out, "  sync group {}: {}", g.name, g.group.join(", "));
    }
    let _ = writeln!(out, "Virtual servers: {}", config.virtual_servers.len());
    for v in &config.virtual_servers {
        let target = match &v.target {
            VsTarget::Address { address, port } => match port {
                Some(p) => format!("{address}:{p}"),
                None => address.to_string(),
            },
            VsTarget::Fwmark { mark } => format!("fwmark {mark}"),
            VsTarget::Group { name } => format!("group {name}"),
        };
        let _ = writeln!(
            out,
            "  {} {target}: scheduler {}, method {}, check every {:?}",
            v.protocol.as_str(),
            v.lvs_sched.as_str(),
            v.lvs_method.as_str(),
            v.delay_loop
        );
        for rs in &v.real_servers {
            let addr = match rs.port {
                Some(p) => format!("{}:{p}", rs.address),
                None => rs.address.to_string(),
            };
            let checks: Vec<String> = rs
                .checkers
                .iter()
                .map(|c| {
                    let what = match &c.kind {
                        CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
                            let paths: Vec<&str> = h.urls.iter().map(|u| u.path.as_str()).collect();
                            format!("{} {}", c.kind.keyword(), paths.join(","))
                        }
                        other => other.keyword().to_owned(),
                    };
                    format!(
                        "{what} (timeout {:?}, retry {})",
                        c.connect_timeout, c.retry
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "    real server {addr} weight {} via {}: {}",
                rs.weight,
                rs.lvs_method.as_str(),
                if checks.is_empty() {
                    "no checker".to_owned()
                } else {
                    checks.join("; ")
                }
            );
        }
    }
    out
}

/// `hagroupd demo`: parse the embedded configuration and print what would run.
pub(crate) fn demo(conf: &str) -> ExitCode {
    let opts = Options {
        config_id: Some("demo".into()),
        random_seed: Some(0),
        ..Options::default()
    };
    let parsed = kconf_parser::parse_str(conf, &opts);
    println!("hagroupd demo: built-in example configuration (an LVS-DR director, MASTER side)");
    eprint!("{}", parsed.render_diagnostics());
    print!("{}", plan(&parsed.config));
    if parsed.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_parses_cleanly_and_plans_everything() {
        let parsed = kconf_parser::parse_str(crate::DEMO_CONF, &Options::default());
        assert!(
            parsed.diagnostics.is_empty(),
            "{}",
            parsed.render_diagnostics()
        );
        let p = plan(&parsed.config);
        assert!(p.contains("VIP 192.0.2.100/24"), "{p}");
        assert!(
            p.contains("TCP 192.0.2.100:80: scheduler wrr, method DR"),
            "{p}"
        );
        assert!(p.contains("real server 198.51.100.12:80 weight 2"), "{p}");
        assert!(p.contains("TCP_CHECK (timeout 3s, retry 1)"), "{p}");
    }
}
