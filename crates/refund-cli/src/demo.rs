//! `refund sandbox` and `refund demo`: the built-in emulator, for a first look and for testing
//! your own services.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use refund_core::{LookupKind, Provider, RefundLookup, RefundProvider};
use refund_sandbox::{Credentials, Sandbox, Scenario};

use crate::error::{CliError, exit};
use crate::output::{Format, write_refunds};

/// The scenario `refund demo` and (by default) `refund sandbox` serve.
const BUILT_IN_SCENARIO: &str = include_str!("../testdata/sandbox/scenario.toml");

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
    #[command(flatten)]
    pub(crate) verbose: crate::options::VerboseOption,
}

fn scenario_error(e: impl std::error::Error + 'static) -> CliError {
    CliError::usage(format!("sandbox: {}", refund_core::error::chain_text(&e)))
}

pub(crate) async fn sandbox(args: SandboxArgs) -> Result<u8, CliError> {
    let scenario = match &args.scenario {
        Some(path) => Scenario::from_file(path).map_err(scenario_error)?,
        None => Scenario::from_toml(BUILT_IN_SCENARIO).map_err(scenario_error)?,
    };
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
    let handle = Sandbox::builder()
        .port(args.port)
        .scenario(scenario)
        .credentials(credentials)
        .start()
        .await
        .map_err(scenario_error)?;
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

pub(crate) async fn demo(format: Format) -> Result<u8, CliError> {
    let scenario = Scenario::from_toml(BUILT_IN_SCENARIO).map_err(scenario_error)?;
    let handle = Sandbox::builder()
        .scenario(scenario)
        .start()
        .await
        .map_err(scenario_error)?;
    let clients: Vec<Box<dyn RefundProvider>> = vec![
        Box::new(handle.openapi_client().build()?),
        Box::new(handle.edgeros_client().build()?),
        Box::new(handle.cpos_client().build()?),
    ];
    let queries = [
        (
            Provider::OpenApi,
            RefundLookup::original_transaction_id("CU51856318914782320"),
        ),
        (
            Provider::Edgeros,
            RefundLookup::refund_id("AR202112151405438637829842922855012187"),
        ),
        (
            Provider::Cpos,
            RefundLookup::merchant_refund_id("200324847290000004766"),
        ),
    ];
    let table = format == Format::Table;
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| CliError::io(e.to_string());
    if table {
        writeln!(out, "refund demo: an embedded sandbox on {} speaks all three providers' real protocols\n(signed requests, verified responses; no account, no network).\n", handle.base_url()).map_err(io)?;
    }
    for (provider, lookup) in &queries {
        let client = clients
            .iter()
            .find(|c| c.provider() == *provider)
            .ok_or_else(|| CliError::io("missing client"))?;
        if table {
            writeln!(
                out,
                "$ refund query {provider} --{} {}",
                lookup.kind().as_str().replace('_', "-"),
                lookup.id()
            )
            .map_err(io)?;
        }
        let refunds = client.query_refunds(lookup).await?;
        write_refunds(&mut out, format, &refunds).map_err(io)?;
        if table {
            writeln!(out).map_err(io)?;
        }
    }
    // A small batch: several ids, statuses and one that does not exist.
    let batch = [
        "WX200324161500830790814539",
        "WX-FAILED-1",
        "WX-UNKNOWN-1",
        "WX-CLOSED-1",
        "WX-CHANGE-1",
        "WX-DOES-NOT-EXIST",
    ];
    if table {
        writeln!(
            out,
            "$ refund batch cpos --input ids.csv   ({} lookups)",
            batch.len()
        )
        .map_err(io)?;
    }
    let cpos = clients
        .iter()
        .find(|c| c.provider() == Provider::Cpos)
        .ok_or_else(|| CliError::io("missing client"))?;
    let mut records = Vec::new();
    let mut failures = Vec::new();
    for id in batch {
        match cpos
            .query_refunds(&RefundLookup::new(LookupKind::RefundId, id))
            .await
        {
            Ok(refunds) => records.extend(refunds),
            Err(e) => failures.push(format!("{id}: {e}")),
        }
    }
    write_refunds(&mut out, format, &records).map_err(io)?;
    for f in &failures {
        eprintln!("refund: {}", crate::output::one_line(f));
    }
    if table {
        writeln!(
            out,
            "\n{} found, {} failed.\n",
            records.len(),
            failures.len()
        )
        .map_err(io)?;
    }
    drop(out);
    reconcile_demo(&handle, table).await?;
    if table {
        println!("Next: `refund sandbox --dir ./sandbox` to point your own code at it.");
    }
    handle.shutdown().await;
    Ok(exit::OK)
}

/// The books of the demo's reconciliation: one line per kind of trouble a finance team meets.
const DEMO_LEDGER: &str = "lookup,id,amount,currency,status,requested_at,invoice\n\
refund_id,WX200324161500830790814539,0.50,CNY,succeeded,,INV-1001\n\
refund_id,WX-FAILED-1,2.00,CNY,succeeded,,INV-1002\n\
refund_id,WX-UNKNOWN-1,3.00,CNY,processing,2024-01-01 09:00:00,INV-1003\n\
refund_id,WX-CLOSED-1,4.50,CNY,cancelled,,INV-1004\n\
refund_id,WX-DOES-NOT-EXIST,1.00,CNY,,,INV-1005\n";

/// Reconciles the built-in ledger against the sandbox through the real `reconcile` command, into
/// a fresh folder of its own (nothing of the user's is touched), and says where the report is.
async fn reconcile_demo(
    handle: &refund_sandbox::SandboxHandle,
    table: bool,
) -> Result<(), CliError> {
    let dir = std::env::temp_dir().join(format!("refund-demo-{}", std::process::id()));
    let io = |e: std::io::Error| CliError::io(format!("demo folder {}: {e}", dir.display()));
    if dir.exists() {
        return Err(CliError::io(format!("{} already exists", dir.display())));
    }
    std::fs::create_dir_all(&dir).map_err(io)?;
    handle.write_credentials(&dir).map_err(io)?;
    let ledger = dir.join("ledger.csv");
    std::fs::write(&ledger, DEMO_LEDGER).map_err(io)?;
    let output = dir.join("reconcile.ndjson");
    let report = dir.join("report.html");
    if table {
        println!(
            "$ refund reconcile cpos --ledger ledger.csv --output reconcile.ndjson --report report.html"
        );
    }
    let args = crate::reconcile::ReconcileArgs::new(
        crate::config::ProviderArg::Cpos,
        ledger,
        output.clone(),
        report.clone(),
    );
    // Discrepancies are the point of the demo: its exit code is not the demo's.
    let _ = crate::reconcile::run(
        Some(&dir.join("refund.toml")),
        refund_core::http::HttpConfig::default(),
        Some(crate::output::Format::Ndjson),
        args,
    )
    .await?;
    if table {
        let text = std::fs::read_to_string(&output).map_err(io)?;
        for row in text
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        {
            let field = |k: &str| {
                row.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("-")
                    .to_owned()
            };
            let line = row
                .get("line")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            println!(
                "  line {line:<2} {:<18} {:<28} books {} {}, provider {}",
                field("verdict"),
                crate::output::one_line(&field("id")),
                field("expected_amount"),
                field("expected_status"),
                field("status"),
            );
        }
        println!(
            "\nThe report (open it in a browser): {}\n",
            report.display()
        );
    } else {
        eprintln!("refund demo: reconciliation report: {}", report.display());
    }
    Ok(())
}
