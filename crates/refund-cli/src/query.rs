//! `refund query`: one lookup, every refund it finds, in the chosen format.

use std::path::Path;

use clap::Args;
use refund_core::{RefundLookup, RefundProvider};

use crate::args::LookupArgs;
use crate::config::ProviderArg;
use crate::error::{CliError, exit};
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
    #[arg(long)]
    explain: bool,
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
    let explain = args.explain || global.verbose() >= 2;
    print(client.as_ref(), &lookup, global.format(), explain).await
}

/// Queries and prints the refunds found (explained on stderr when asked).
pub(crate) async fn print(
    client: &dyn RefundProvider,
    lookup: &RefundLookup,
    format: Format,
    explain: bool,
) -> Result<u8, CliError> {
    let refunds = if explain {
        // The explained query signs and checks through the same code; its result is the
        // query's.
        let explained = client.query_explained(lookup).await?;
        crate::explain::print_query(&explained);
        crate::open::found(client.provider(), lookup, explained.into_result())?
    } else {
        crate::open::query_found(client, lookup).await?
    };
    crate::open::warn_if_unverified(&refunds, lookup);
    let mut stdout = std::io::stdout().lock();
    write_refunds(&mut stdout, format, &refunds).map_err(|e| CliError::io(e.to_string()))?;
    Ok(exit::OK)
}
