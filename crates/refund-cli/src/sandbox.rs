//! `refund sandbox`: the built-in emulator of all three providers in the foreground, for testing
//! your own services; it writes its credentials and a ready `refund.toml`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use refund_core::Provider;
use refund_sandbox::{Credentials, ProviderPace, Sandbox, Scenario};

use crate::error::{CliError, exit};

/// The scenario `refund demo` and (by default) `refund sandbox` serve.
pub(crate) const BUILT_IN_SCENARIO: &str = include_str!("../testdata/sandbox/scenario.toml");

/// `refund sandbox` arguments.
#[derive(Debug, Args)]
pub(crate) struct SandboxArgs {
    /// Port on 127.0.0.1 (default: a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Where to write the credentials and a ready refund.toml.
    #[arg(long, default_value = "refund-sandbox")]
    dir: PathBuf,
    /// A scenario file (.toml or .json) instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Generate fresh keys instead of the repository's public test keys.
    #[arg(long)]
    generate_keys: bool,
    /// With --generate-keys: replace the keys an earlier sandbox wrote into --dir.
    #[arg(long, requires = "generate_keys")]
    force: bool,
    /// Sign EdgerOS answers with this PEM private key instead of the platform key (a rotated
    /// platform key: a client holding the old and the new public key verifies both).
    #[arg(long, value_name = "FILE")]
    edgeros_signing_key: Option<PathBuf>,
    /// Every provider allows at most R answers per second (a token bucket; over it: HTTP 429
    /// with Retry-After), replacing the scenario's [[pace]] (0.01 to 1000000).
    #[arg(long, value_name = "R", value_parser = crate::args::rps)]
    rps: Option<f64>,
    /// With --rps: how many may come at once (default a tenth of a second's worth, at least 1).
    #[arg(long, value_name = "N", requires = "rps", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    burst: Option<u32>,
    /// Every answer waits this many milliseconds first (0 to 60000).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=60_000))]
    latency_ms: Option<u64>,
    /// Plus up to this many milliseconds, at random (0 to 60000).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(0..=60_000))]
    jitter_ms: Option<u64>,
    #[command(flatten)]
    pub(crate) verbose: crate::options::VerboseOption,
}

pub(crate) fn scenario_error(e: impl std::error::Error + 'static) -> CliError {
    CliError::usage(format!("sandbox: {}", refund_core::error::chain_text(&e)))
}

pub(crate) async fn run(args: SandboxArgs) -> Result<u8, CliError> {
    let mut scenario = match &args.scenario {
        Some(path) => Scenario::from_file(path).map_err(scenario_error)?,
        None => Scenario::from_toml(BUILT_IN_SCENARIO).map_err(scenario_error)?,
    };
    if args.rps.is_some() || args.latency_ms.is_some() || args.jitter_ms.is_some() {
        scenario.pace = Provider::ALL
            .into_iter()
            .map(|p| {
                let mut pace = ProviderPace::new(p)
                    .latency(args.latency_ms.unwrap_or(0), args.jitter_ms.unwrap_or(0));
                if let Some(rps) = args.rps {
                    pace = pace.limit(rps, args.burst);
                }
                pace
            })
            .collect();
    }
    // A folder an earlier sandbox wrote keeps its credentials, so configs pointing at it keep
    // working; nothing else in it is ever overwritten.
    let earlier = Credentials::load_from(&args.dir).map_err(|e| {
        CliError::usage(format!(
            "--dir {}: cannot read the earlier sandbox credentials: {e}",
            args.dir.display()
        ))
    })?;
    let reused = earlier.is_some() && !args.generate_keys;
    let credentials = match earlier {
        Some(_) if args.generate_keys && !args.force => {
            return Err(CliError::usage(format!(
                "--dir {} already holds sandbox keys: use --force with --generate-keys to replace them",
                args.dir.display()
            )));
        }
        Some(earlier) if !args.generate_keys => earlier,
        _ if args.generate_keys => Credentials::generate().map_err(scenario_error)?,
        _ => Credentials::test_keys().map_err(scenario_error)?,
    };
    let mut builder = Sandbox::builder()
        .port(args.port)
        .scenario(scenario)
        .credentials(credentials);
    if let Some(path) = &args.edgeros_signing_key {
        let key = refund_core::rsa_keys::RsaPrivateKey::from_file(path).map_err(|e| {
            CliError::usage(format!(
                "--edgeros-signing-key {}: {}",
                path.display(),
                e.reason
            ))
        })?;
        builder = builder.edgeros_signing_key(key);
    }
    let handle = builder.start().await.map_err(scenario_error)?;
    let written = if args.force {
        handle.replace_credentials(&args.dir)
    } else {
        handle.write_credentials(&args.dir)
    };
    if let Err(e) = written {
        handle.shutdown().await;
        return Err(match e.kind() {
            std::io::ErrorKind::AlreadyExists => CliError::usage(format!(
                "--dir {}: {e}; choose another --dir",
                args.dir.display()
            )),
            _ => CliError::io(format!("cannot write {}: {e}", args.dir.display())),
        });
    }
    let base = handle.base_url();
    // Say exactly where the keys went (an absolute path: they are files a user may want gone).
    let dir = std::fs::canonicalize(&args.dir).unwrap_or_else(|_| args.dir.clone());
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "refund sandbox listening on {base}");
    if reused {
        let _ = writeln!(
            out,
            "  reusing the credentials an earlier sandbox wrote in {}",
            args.dir.display()
        );
    }
    let _ = writeln!(
        out,
        "  openapi: POST {base}{}",
        refund_openapi::sign::QUERY_PATH
    );
    let _ = writeln!(
        out,
        "  edgeros: GET  {base}{}",
        refund_edgeros::sign::QUERY_PATH
    );
    let _ = writeln!(
        out,
        "  cpos:    POST {base}{}",
        refund_cpos::sign::QUERY_PATH
    );
    let _ = writeln!(
        out,
        "credentials and config written to {} (refund.toml, keys/)",
        dir.display()
    );
    let _ = writeln!(
        out,
        "try: refund --config {} query cpos --refund-id WX200324161500830790814539",
        dir.join("refund.toml").display()
    );
    let _ = writeln!(out, "press Ctrl-C to stop");
    let _ = out.flush();
    drop(out);
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| CliError::io(e.to_string()))?;
    handle.shutdown().await;
    Ok(exit::OK)
}
