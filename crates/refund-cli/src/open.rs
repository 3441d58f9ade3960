//! Opening a provider client from the configuration, and the rules every command shares: a
//! lookup the provider cannot answer is a usage error, an empty answer is "not found", and an
//! answer accepted without a valid signature is said out loud.

use std::path::Path;

use refund_core::http::HttpConfig;
use refund_core::{Error, Provider, Refund, RefundLookup, RefundProvider};

use crate::config::Config;
use crate::config::ProviderArg;
use crate::error::CliError;
use crate::stream::Lanes;
use crate::stream::input::Routing;

/// Loads the configuration and builds the provider's client.
pub(crate) fn open_client(
    config_path: Option<&Path>,
    provider: ProviderArg,
    http: HttpConfig,
) -> Result<Box<dyn RefundProvider>, CliError> {
    Config::load(config_path)?.client(provider, http)
}

/// The clients of a streaming run (`batch`, `reconcile`), and where its lines go: the
/// provider argument's client (its section must be complete), or without it every configured
/// provider's, each line going to the one it names.
pub(crate) fn open_lanes(
    config_path: Option<&Path>,
    provider: Option<ProviderArg>,
    http: HttpConfig,
) -> Result<(Lanes, Routing), CliError> {
    let config = Config::load(config_path)?;
    match provider {
        Some(arg) => {
            let client = config.client(arg, http)?;
            let routing = Routing::Fixed(client.provider());
            Ok((Lanes::one(client), routing))
        }
        None => {
            let (clients, missing) = config.clients_for_lines(&http)?;
            Ok((Lanes::several(clients, missing), Routing::PerLine))
        }
    }
}

/// The same, checking first that the provider answers this kind of lookup.
pub(crate) fn open_for_lookup(
    config_path: Option<&Path>,
    provider: ProviderArg,
    http: HttpConfig,
    lookup: &RefundLookup,
) -> Result<Box<dyn RefundProvider>, CliError> {
    let client = open_client(config_path, provider, http)?;
    check_lookup(client.as_ref(), lookup)?;
    Ok(client)
}

/// The flag spelling of a lookup kind (`--merchant-refund-id`).
fn flag(kind: refund_core::LookupKind) -> String {
    format!("--{}", kind.as_str().replace('_', "-"))
}

/// Core's `require_kind`, reworded in terms of the command line's flags.
pub(crate) fn check_lookup(
    client: &dyn RefundProvider,
    lookup: &RefundLookup,
) -> Result<(), CliError> {
    lookup
        .require_kind(client.supported_lookups())
        .map_err(|_| {
            let names: Vec<String> = client
                .supported_lookups()
                .iter()
                .map(|k| flag(*k))
                .collect();
            CliError::usage(format!(
                "{} does not support lookup by {}; use one of: {}",
                client.provider(),
                flag(lookup.kind()),
                names.join(", ")
            ))
        })
}

/// Queries, treating an empty answer (the Open API's `data: []`) as not found (code `"none"`):
/// the one rule `query`, `batch`, `watch` and `explain` share.
pub(crate) async fn query_found(
    client: &dyn RefundProvider,
    lookup: &RefundLookup,
) -> Result<Vec<Refund>, Error> {
    found(
        client.provider(),
        lookup,
        client.query_refunds(lookup).await,
    )
}

/// [`query_found`], keeping every answer received in `evidence` (when given): the result, and
/// the evidence file of the answer that produced it (`None`: no answer, or no `--evidence`),
/// or the error that kept a file from being written.
pub(crate) async fn query_found_kept(
    client: &dyn RefundProvider,
    lookup: &RefundLookup,
    evidence: Option<&crate::evidence::EvidenceDir>,
) -> (Result<Vec<Refund>, Error>, Result<Option<String>, CliError>) {
    let (result, kept) = query_found_within(client, lookup, evidence, None).await;
    // Without a deadline there is always a result.
    let result = result.unwrap_or_else(|| {
        Err(Error::InvalidRequest {
            field: "deadline".to_owned(),
            reason: "no result without a deadline".to_owned(),
        })
    });
    (result, kept)
}

/// [`query_found_kept`] within `deadline` (`None`: the query's own): `None` for a query still
/// under way then (`watch`'s `--max-wait`), whose answers so far are kept all the same.
pub(crate) async fn query_found_within(
    client: &dyn RefundProvider,
    lookup: &RefundLookup,
    evidence: Option<&crate::evidence::EvidenceDir>,
    deadline: Option<std::time::Duration>,
) -> (
    Option<Result<Vec<Refund>, Error>>,
    Result<Option<String>, CliError>,
) {
    let Some(dir) = evidence else {
        let result = match deadline {
            Some(left) => tokio::time::timeout(left, query_found(client, lookup))
                .await
                .ok(),
            None => Some(query_found(client, lookup).await),
        };
        return (result, Ok(None));
    };
    let mut recorder = crate::evidence::Recorder::new(dir, lookup);
    let queried = client.query_observed(lookup, &mut recorder);
    let result = match deadline {
        Some(left) => tokio::time::timeout(left, queried).await.ok(),
        None => Some(queried.await),
    };
    match result {
        Some(result) => {
            let kept = recorder.finish(&result);
            (Some(found(client.provider(), lookup, result)), kept)
        }
        // Given up mid-way: the answers received so far are kept, the last with its failure.
        None => (None, recorder.abandon()),
    }
}

/// The not-found rule on a result already in hand.
pub(crate) fn found(
    provider: Provider,
    lookup: &RefundLookup,
    result: Result<Vec<Refund>, Error>,
) -> Result<Vec<Refund>, Error> {
    let refunds = result?;
    if refunds.is_empty() {
        return Err(Error::NotFound {
            provider,
            code: "none".to_owned(),
            message: format!("no refunds for {} {}", lookup.kind(), lookup.id()),
        });
    }
    Ok(refunds)
}

/// One stderr line when an answer was accepted without a valid signature (CPOS
/// `response_signature = "optional"`), whatever the verbosity: such a result must never pass
/// silently. Returns whether it warned.
pub(crate) fn warn_if_unverified(refunds: &[Refund], lookup: &RefundLookup) -> bool {
    let n = crate::output::unverified(refunds);
    if n == 0 {
        return false;
    }
    let provider = refunds.first().map(|r| r.provider.as_str()).unwrap_or("");
    crate::logging::warn(&format!(
        "the {provider} answer for {} {} was NOT verified (its signature was missing or wrong; response_signature = \"optional\"); its fields are marked \"signature\": \"unverified\"",
        lookup.kind(),
        crate::output::one_line(lookup.id()),
    ));
    true
}
