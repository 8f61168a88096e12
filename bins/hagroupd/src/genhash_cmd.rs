//! `hagroupd genhash` and the `genhash` alias binary: print the MD5 digest of a URL's body the
//! way keepalived's `genhash` does, for the `digest` keyword of HTTP_GET / SSL_GET.
//!
//! Flags follow keepalived's genhash: `-s SERVER -p PORT -u URL [-S] [-I] [-V VHOST]
//! [-P 1.0|1.0c|1.1] [-t SECONDS] [-m FWMARK] [-v]`. The digest (lower-case hex) is the only line
//! on standard output.

use clap::{Args, Parser};
use healthcheck::config::{ConnectOptions, HttpProtocol, TlsOptions};
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

/// keepalived genhash's options.
#[derive(Debug, Clone, Args)]
#[command(disable_version_flag = true)]
pub(crate) struct GenhashArgs {
    /// Server address.
    #[arg(short = 's', long = "server")]
    server: IpAddr,
    /// Server port.
    #[arg(short = 'p', long = "port")]
    port: u16,
    /// URL path to fetch.
    #[arg(short = 'u', long = "url")]
    url: String,
    /// Use TLS (SSL_GET); the certificate is not verified, as in keepalived.
    #[arg(short = 'S', long = "use-ssl")]
    ssl: bool,
    /// Send SNI (the virtualhost) during the TLS handshake.
    #[arg(short = 'I', long = "use-sni")]
    sni: bool,
    /// Host header (default `ip:port`).
    #[arg(short = 'V', long = "use-virtualhost")]
    virtualhost: Option<String>,
    /// HTTP protocol: 1.0, 1.0c (1.0 with `Connection: close`) or 1.1.
    #[arg(short = 'P', long = "protocol", default_value = "1.0", value_parser = parse_protocol)]
    protocol: HttpProtocol,
    /// Timeout in seconds.
    #[arg(short = 't', long = "timeout", default_value_t = 5)]
    timeout: u64,
    /// Firewall mark (SO_MARK) of the connection (needs CAP_NET_ADMIN).
    #[arg(short = 'm', long = "fwmark")]
    fwmark: Option<u32>,
    /// Also print the response header and the body length on standard error.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
}

fn parse_protocol(s: &str) -> Result<HttpProtocol, String> {
    match s.to_ascii_lowercase().as_str() {
        "1.0" => Ok(HttpProtocol::Http10),
        "1.0c" => Ok(HttpProtocol::Http10Close),
        "1.1" => Ok(HttpProtocol::Http11),
        other => Err(format!("unknown protocol {other:?} (1.0, 1.0c or 1.1)")),
    }
}

/// Runs genhash: fetches the URL once and prints its digest.
pub(crate) fn run(args: &GenhashArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("genhash: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let target = SocketAddr::new(args.server, args.port);
    let tls = args.ssl.then(|| TlsOptions {
        enable_sni: args.sni,
        ..Default::default()
    });
    let opts = ConnectOptions {
        fwmark: args.fwmark,
        ..Default::default()
    };
    let result = runtime.block_on(healthcheck::probes::fetch_digest_from(
        &opts,
        target,
        &args.url,
        args.virtualhost.as_deref(),
        args.protocol,
        tls.as_ref(),
        Duration::from_secs(args.timeout.max(1)),
    ));
    match result {
        Ok(resp) => {
            if args.verbose {
                eprintln!("{}", String::from_utf8_lossy(&resp.header).trim_end());
                eprintln!("status {}, {} body bytes", resp.status, resp.body_len);
            }
            println!("{}", resp.digest);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("genhash: {target}{}: {e}", args.url);
            ExitCode::FAILURE
        }
    }
}

/// The `genhash` alias binary's command line.
#[derive(Debug, Parser)]
#[command(
    name = "genhash",
    about = "Print the MD5 digest of a URL's body, as keepalived's genhash"
)]
struct GenhashCli {
    #[command(flatten)]
    args: GenhashArgs,
}

/// Entry point of the `genhash` alias binary (this file is also its crate root).
#[allow(dead_code)]
pub(crate) fn main() -> ExitCode {
    run(&GenhashCli::parse().args)
}
