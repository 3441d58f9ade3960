//! The toy provider the documentation's examples share (not an API): [`Echo`], a protocol whose
//! request body is the lookup's id and whose answer is `{"id": ..., "cents": ...}`, and, with
//! the `http` feature, [`Canned`], a transport that answers every request for its id with
//! 5 cents, and [`echo_client`]. Its full source is the worked example of
//! [`crate::protocol::Protocol`]; the other examples use it through one hidden line.

use crate::error::Error;
use crate::json;
use crate::lookup::{LookupKind, RefundLookup};
use crate::money::{Currency, Money};
use crate::protocol::{Binding, Bound, Protocol};
use crate::provider::Provider;
use crate::refund::{Refund, SignatureCheck, Verification};
use crate::request::PreparedRequest;
use crate::signer::Draft;
use crate::status::RefundStatus;

/// A protocol that sends the lookup's id as the body and reads `{"id", "cents"}` back.
#[derive(Debug, Default)]
pub struct Echo;

/// [`Echo`]'s answer.
#[derive(Debug, serde::Deserialize)]
pub struct Answer {
    /// The id answered (bound to the lookup's).
    pub id: String,
    /// The amount, in fen.
    pub cents: i64,
}

impl Protocol for Echo {
    type Answer<'b> = Answer;
    type Builder = ();
    type Document<'b> = serde_json::Value;
    type Pending = ();
    const PROVIDER: Provider = Provider::OpenApi;
    const SUPPORTED_LOOKUPS: &'static [LookupKind] = &[LookupKind::RefundId];
    const MAX_ID_CHARS: usize = 32;

    fn draft(&self, lookup: &RefundLookup) -> Result<Draft<()>, Error> {
        Ok(Draft::Ready(PreparedRequest::json_post(
            "http://127.0.0.1:9/q".into(),
            lookup.id().as_bytes().to_vec(),
        )))
    }

    fn verify_response(&self, _: &[u8], _: &serde_json::Value) -> Result<SignatureCheck, Error> {
        Ok(Verification::NotSigned.into())
    }

    fn decode(&self, _body: &[u8], value: serde_json::Value) -> Result<Answer, Error> {
        json::decode_value(Provider::OpenApi, &value)
    }

    fn bindings<'a>(&'a self, answer: &'a Answer, lookup: &'a RefundLookup) -> Vec<Binding<'a>> {
        vec![Binding::new("id", lookup.id(), Some(&answer.id))]
    }

    fn map(&self, bound: &Bound<Answer>) -> Result<Vec<Refund>, Error> {
        Ok(vec![Refund::new(
            Provider::OpenApi,
            Money::from_minor(bound.answer.cents, Currency::Cny),
            RefundStatus::Succeeded,
        )])
    }
}

/// A transport that answers every request with `{"id": <the body>, "cents": 5}`.
#[cfg(feature = "http")]
#[derive(Debug)]
pub struct Canned;

#[cfg(feature = "http")]
impl crate::http::Transport for Canned {
    fn send<'a>(
        &'a self,
        _: Provider,
        request: &'a PreparedRequest,
        _: std::time::Duration,
    ) -> crate::http::SendFuture<'a> {
        let id = request.body_text().unwrap_or_default().to_owned();
        Box::pin(async move {
            Ok(crate::http::Reply::new(
                200,
                crate::http::Bytes::from(format!(r#"{{"id":"{id}","cents":5}}"#)),
            ))
        })
    }
}

/// A client of [`Echo`] over [`Canned`]: nothing leaves the process.
#[cfg(feature = "http")]
pub fn echo_client() -> Result<crate::client::Client<Echo>, Error> {
    let options =
        crate::client::ClientOptions::default().with_transport(std::sync::Arc::new(Canned));
    crate::client::Client::new(Echo, options)
}
