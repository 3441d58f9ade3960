//! `refund query`: one lookup, every refund it finds, in the chosen format.

use refund_core::{RefundLookup, RefundProvider};

use crate::error::{CliError, exit};
use crate::output::{Format, write_refunds};

pub(crate) async fn run(
    client: &dyn RefundProvider,
    lookup: &RefundLookup,
    format: Format,
    explain: bool,
) -> Result<u8, CliError> {
    let refunds = match explain {
        // The explained query signs and checks through the same code; its result is the
        // query's.
        true => match client.query_explained(lookup).await {
            Some(explained) => {
                crate::explain::print_query(&explained);
                crate::open::found(client.provider(), lookup, explained.into_result())?
            }
            None => crate::open::query_found(client, lookup).await?,
        },
        false => crate::open::query_found(client, lookup).await?,
    };
    crate::open::warn_if_unverified(&refunds, lookup);
    let mut stdout = std::io::stdout().lock();
    write_refunds(&mut stdout, format, &refunds).map_err(|e| CliError::io(e.to_string()))?;
    Ok(exit::OK)
}
