//! `hagroupctl`: a thin client of hagroupd's control socket (`hagroup-control`).
//!
//! ```text
//! hagroupctl status [--json]
//! hagroupctl ipvs [--stats | --rate]
//! hagroupctl drain  -t 192.0.2.1:80 -r 198.51.100.1:80
//! hagroupctl weight -t 192.0.2.1:80 -r 198.51.100.1:80 5
//! hagroupctl weight -f 7 -r 198.51.100.1 --reset
//! hagroupctl reload
//! ```
//!
//! Exit status: 0 when the daemon did what was asked, 1 when it refused or failed (the reason
//! goes to stderr) or cannot be reached, 2 for a bad command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use hagroup_control::{Client, DEFAULT_SOCKET, RealServerRef, Request, Response, ServiceRef};

/// Command line.
#[derive(Debug, Parser)]
#[command(name = "hagroupctl", version, about)]
struct Cli {
    /// The daemon's control socket.
    #[arg(short = 'S', long = "socket", value_name = "PATH", default_value = DEFAULT_SOCKET)]
    socket: PathBuf,
    /// How long to wait for an answer, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    timeout: u64,
    /// What to ask.
    #[command(subcommand)]
    command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
enum Command {
    /// VRRP instances, virtual servers, real servers and quorum.
    Status {
        /// Print the daemon's JSON answer instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// The kernel's IPVS table, as `ipvsadm -Ln` prints it.
    Ipvs {
        /// With the counters (`ipvsadm -Ln --stats`).
        #[arg(long, conflicts_with = "rate")]
        stats: bool,
        /// With the rates (`ipvsadm -Ln --rate`).
        #[arg(long)]
        rate: bool,
    },
    /// Drain a real server: weight 0 (no new connections) until `weight --reset`.
    Drain(Target),
    /// Set a real server's weight at run time, or give it back to the health checks.
    Weight {
        /// The real server.
        #[command(flatten)]
        target: Target,
        /// The weight.
        #[arg(required_unless_present = "reset")]
        weight: Option<u32>,
        /// Remove the administrative weight (the health checks decide again).
        #[arg(long, conflicts_with = "weight")]
        reset: bool,
    },
    /// Reload the configuration (as SIGHUP; a broken configuration is refused).
    Reload,
}

/// A real server of a virtual service, as `ipvsadm` names them.
#[derive(Debug, Args)]
#[group(id = "service", required = true, multiple = false)]
struct ServiceArg {
    /// A TCP service ADDR:PORT.
    #[arg(
        short = 't',
        long = "tcp-service",
        value_name = "ADDR:PORT",
        group = "service"
    )]
    tcp: Option<SocketAddr>,
    /// A UDP service ADDR:PORT.
    #[arg(
        short = 'u',
        long = "udp-service",
        value_name = "ADDR:PORT",
        group = "service"
    )]
    udp: Option<SocketAddr>,
    /// An SCTP service ADDR:PORT.
    #[arg(long = "sctp-service", value_name = "ADDR:PORT", group = "service")]
    sctp: Option<SocketAddr>,
    /// A firewall-mark service.
    #[arg(
        short = 'f',
        long = "fwmark-service",
        value_name = "MARK",
        group = "service"
    )]
    fwmark: Option<u32>,
}

/// A virtual service and one of its real servers.
#[derive(Debug, Args)]
struct Target {
    /// The virtual service.
    #[command(flatten)]
    service: ServiceArg,
    /// The real server: ADDR:PORT, or ADDR when it names one real server.
    #[arg(short = 'r', long = "real-server", value_name = "ADDR[:PORT]")]
    real_server: RealServerRef,
}

impl ServiceArg {
    fn service(&self) -> Option<ServiceRef> {
        self.tcp
            .map(ServiceRef::Tcp)
            .or(self.udp.map(ServiceRef::Udp))
            .or(self.sctp.map(ServiceRef::Sctp))
            .or(self.fwmark.map(ServiceRef::Fwmark))
    }
}

fn weight_request(target: &Target, weight: Option<u32>) -> Option<Request> {
    Some(Request::Weight {
        service: target.service.service()?,
        real_server: target.real_server,
        weight,
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (request, json) = match &cli.command {
        Command::Status { json } => (Some(Request::Status), *json),
        Command::Ipvs { stats, rate } => (
            Some(Request::Ipvs {
                stats: *stats,
                rate: *rate,
            }),
            false,
        ),
        Command::Drain(t) => (weight_request(t, Some(0)), false),
        Command::Weight {
            target,
            weight,
            reset,
        } => (
            weight_request(target, if *reset { None } else { *weight }),
            false,
        ),
        Command::Reload => (Some(Request::Reload), false),
    };
    let Some(request) = request else {
        eprintln!("hagroupctl: name a virtual service (-t, -u, --sctp-service or -f)");
        return ExitCode::from(2);
    };
    let answer = Client::connect(&cli.socket, Duration::from_secs(cli.timeout))
        .and_then(|mut c| c.request(&request));
    match answer {
        Ok(Response::Status(s)) if json => match serde_json::to_string_pretty(&s) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("hagroupctl: {e}");
                ExitCode::from(1)
            }
        },
        Ok(Response::Status(s)) => {
            print!("{}", s.render_table());
            ExitCode::SUCCESS
        }
        Ok(Response::Ipvs { table }) => {
            print!("{table}");
            ExitCode::SUCCESS
        }
        Ok(Response::Done { message }) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Ok(Response::Refused { reason }) => {
            eprintln!("hagroupctl: refused: {reason}");
            ExitCode::from(1)
        }
        Ok(Response::Error { message }) => {
            eprintln!("hagroupctl: {message}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("hagroupctl: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("hagroupctl").chain(args.iter().copied()))
    }

    #[test]
    fn drain_and_weight_take_ipvsadm_style_addresses() {
        let cli = parse(&["drain", "-t", "192.0.2.1:80", "-r", "198.51.100.1:80"]).unwrap();
        let Command::Drain(t) = &cli.command else {
            panic!("{cli:?}")
        };
        assert_eq!(
            weight_request(t, Some(0)),
            Some(Request::Weight {
                service: ServiceRef::Tcp("192.0.2.1:80".parse().unwrap()),
                real_server: "198.51.100.1:80".parse().unwrap(),
                weight: Some(0)
            })
        );
        let cli = parse(&["weight", "-f", "7", "-r", "2001:db8::1", "--reset"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Weight {
                reset: true,
                weight: None,
                ..
            }
        ));
        assert!(parse(&["weight", "-f", "7", "-r", "198.51.100.1", "3"]).is_ok());
    }

    #[test]
    fn bad_command_lines_are_refused() {
        // No service, two services, no weight, weight and --reset.
        assert!(parse(&["drain", "-r", "198.51.100.1:80"]).is_err());
        assert!(
            parse(&[
                "drain",
                "-t",
                "192.0.2.1:80",
                "-f",
                "7",
                "-r",
                "198.51.100.1"
            ])
            .is_err()
        );
        assert!(parse(&["weight", "-t", "192.0.2.1:80", "-r", "198.51.100.1"]).is_err());
        assert!(
            parse(&[
                "weight",
                "-t",
                "192.0.2.1:80",
                "-r",
                "198.51.100.1",
                "2",
                "--reset"
            ])
            .is_err()
        );
        assert!(parse(&["drain", "-t", "192.0.2.1", "-r", "198.51.100.1"]).is_err());
    }
}
