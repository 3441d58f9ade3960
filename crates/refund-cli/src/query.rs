//! `refund query`: one lookup, every refund it finds, in the chosen format.

use std::path::Path;

use clap::Args;
use refund_core::{RefundLookup, RefundProvider};

use crate::args::LookupArgs;
use crate::config::ProviderArg;
use crate::error::{CliError, exit};
use crate::evidence::{EvidenceArgs, EvidenceDir};
use crate::options::Global;
use crate::output::{Format, write_refunds};

/// `refund query` arguments.
#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// openapi, edgeros or cpos.
    #[arg(value_enum)]
    provider: ProviderArg,
    #[command(flatten)]
    lookup: LookupArgs,
    /// Show on stderr how each attempt was signed and every check of the answer (also
    /// with -vv).
    #[arg(long, conflicts_with = "evidence")]
    explain: bool,
    #[command(flatten)]
    evidence: EvidenceArgs,
    #[command(flatten)]
    pub(crate) global: Global,
}

pub(crate) async fn run(
    config: Option<&Path>,
    global: &Global,
    args: QueryArgs,
) -> Result<u8, CliError> {
    let lookup = args.lookup.lookup();
    let client = crate::open::open_for_lookup(config, args.provider, global.http(), &lookup)?;
    let evidence = args.evidence.open()?;
    // `-vv` explains, unless the answers are kept: evidence needs the plain query's record.
    let explain = args.explain || (global.verbose() >= 2 && evidence.is_none());
    print(
        client.as_ref(),
        &lookup,
        global.format(),
        explain,
        evidence.as_ref(),
    )
    .await
}

/// Queries and prints the refunds found (explained on stderr when asked; every answer kept in
/// `evidence` when given).
pub(crate) async fn print(
    client: &dyn RefundProvider,
    lookup: &RefundLookup,
    format: Format,
    explain: bool,
    evidence: Option<&EvidenceDir>,
) -> Result<u8, CliError> {
    let (refunds, kept) = if explain {
        // The explained query signs and checks through the same code; its result is the
        // query's.
        let explained = client.query_explained(lookup).await?;
        crate::explain::print_query(&explained);
        let refunds = crate::open::found(client.provider(), lookup, explained.into_result())?;
        (refunds, None)
    } else {
        let (result, kept) = crate::open::query_found_kept(client, lookup, evidence).await;
        let kept = kept?;
        say_kept(evidence, kept.as_deref());
        (result?, kept)
    };
    crate::open::warn_if_unverified(&refunds, lookup);
    let mut stdout = std::io::stdout().lock();
    write_refunds(&mut stdout, format, &refunds, kept.as_deref())
        .map_err(|e| CliError::io(e.to_string()))?;
    Ok(exit::OK)
}

/// One stderr line naming the evidence file just written (whatever became of the query).
pub(crate) fn say_kept(evidence: Option<&EvidenceDir>, name: Option<&str>) {
    if let (Some(dir), Some(name)) = (evidence, name) {
        let path = crate::output::one_line(&dir.path().join(name).display().to_string());
        crate::logging::notice(
            &format!("refund: evidence kept in {path}"),
            &format!("evidence kept in {path}"),
        );
    }
}
