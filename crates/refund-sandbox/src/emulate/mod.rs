//! Each provider's behaviour: check the request as the provider would, find the refunds, and
//! answer in the provider's own format, signed as the provider signs. One module per provider,
//! mirroring the provider crates. Pure apart from the shared state; faults are applied
//! afterwards by the server.

mod cpos;
mod edgeros;
mod openapi;

use chrono::{DateTime, Utc};
use refund_core::{LookupKind, Provider, time};
use serde_json::{Map, Value};

use crate::state::Shared;

pub(crate) use cpos::handle as cpos;
pub(crate) use edgeros::handle as edgeros;
pub(crate) use openapi::handle as openapi;

/// The provider's answer before any fault: which ids it was about, and the JSON body.
pub(crate) struct Answer {
    pub(crate) ids: Vec<String>,
    pub(crate) body: Vec<u8>,
}

fn answer(ids: Vec<String>, value: &Value) -> Answer {
    Answer {
        ids,
        body: serde_json::to_vec(value).unwrap_or_default(),
    }
}

fn china_local(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(time::format_china_local(&t)))
}

fn opt(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

fn without_nulls(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter().filter(|(_, v)| !v.is_null()).collect()
}

/// The provider's genuine, correctly signed answer about refund `refund_id`, whatever was asked:
/// what an attacker replays or substitutes (the `answer_for` fault).
pub(crate) fn answer_for(shared: &Shared, provider: Provider, refund_id: &str) -> Answer {
    let lookup = (LookupKind::RefundId, refund_id.to_owned());
    match provider {
        Provider::OpenApi => openapi::lookup_answer(shared, lookup),
        Provider::Edgeros => {
            edgeros::lookup_answer(shared, lookup, &shared.credentials.edgeros_mch_no)
        }
        Provider::Cpos => cpos::lookup_answer(shared, lookup),
        _ => answer(Vec::new(), &Value::Null),
    }
}

/// The EdgerOS answer re-signed as naming another merchant (the `foreign_merchant` fault);
/// other providers echo no merchant, so their answers pass unchanged.
pub(crate) fn as_foreign_merchant(
    shared: &Shared,
    provider: Provider,
    body: Vec<u8>,
    mch_no: &str,
) -> Vec<u8> {
    match provider {
        Provider::Edgeros => edgeros::with_merchant(shared, &body, mch_no).unwrap_or(body),
        _ => body,
    }
}
