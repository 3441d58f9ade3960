//! A refund-callback receiver: verify, then deduplicate, then act.
//!
//! `verify_notification` proves the gateway signed a callback, not that it is new: the same
//! signed body can arrive twice (a gateway retry, or an attacker replaying it), and an earlier
//! state can arrive after a later one. This receiver acts only on news.
//!
//! Run it: `cargo run -p refund-openapi --example callback_receiver` (it plays a sequence of
//! callbacks signed with the repository's public test key and prints each decision).

use refund_core::Currency;
use refund_core::rsa_keys::{PublicKeySet, RsaPrivateKey};
use refund_openapi::notify::{self, CallbackDecision, CallbackState};

/// The receiver: what an HTTP handler for the callback URL does with each body.
fn receive(
    state: &mut CallbackState,
    body: &[u8],
    gateway_keys: &PublicKeySet,
) -> Result<CallbackDecision, refund_core::Error> {
    // 1. Verify before reading anything (against every live gateway key: while the gateway
    //    rotates, the old and the new).
    let notification = notify::verify_notification(body, gateway_keys, Currency::Cny)?;
    // 2. Deduplicate: only news is applied.
    let decision = state.observe(&notification);
    if decision == CallbackDecision::Apply {
        // 3. Act (update the order, notify the customer...), in the same transaction that
        //    records the new state in a real receiver.
        println!(
            "  apply: refund {} is now {}",
            notification.refund.refund_id.as_deref().unwrap_or("?"),
            notification.refund.status
        );
    }
    // Whatever the decision, the gateway gets notify::SUCCESS_REPLY so it stops retrying.
    Ok(decision)
}

fn signed(gateway: &RsaPrivateKey, param: &str) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let sign = refund_openapi::sign::sign_canonical(gateway, param)?;
    Ok(serde_json::to_vec(
        &serde_json::json!({ "param": param, "sign": sign }),
    )?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The gateway's key (a public test key; a receiver holds only the public half).
    let gateway =
        RsaPrivateKey::from_text(include_str!("../testdata/keys/openapi_platform_2048.pem"))?;
    let processing = r#"{"eventName":"payment.refund.later","refundTransactionId":"R1","refundAmount":500,"refundStatus":"PROCESS","refundCreateTime":"2024-07-31 16:26:46"}"#;
    let succeeded = r#"{"eventName":"payment.refund.success","refundTransactionId":"R1","refundAmount":500,"refundStatus":"COMPLETED","refundCreateTime":"2024-07-31 16:26:46","refundReturnTime":"2024-07-31 16:30:00"}"#;
    let failed = r#"{"eventName":"payment.refund.failed","refundTransactionId":"R1","refundAmount":500,"refundStatus":"FAILED","refundCreateTime":"2024-07-31 16:26:46","refundReturnTime":"2024-07-31 16:31:00"}"#;
    let gateway_keys = PublicKeySet::from(gateway.public_key().clone());
    let mut state = CallbackState::new();
    let expected = [
        ("processing", processing, CallbackDecision::Apply),
        ("succeeded", succeeded, CallbackDecision::Apply),
        (
            "succeeded, replayed",
            succeeded,
            CallbackDecision::Duplicate,
        ),
        (
            "processing, delivered late",
            processing,
            CallbackDecision::Stale,
        ),
        ("failed after succeeded", failed, CallbackDecision::Conflict),
    ];
    for (what, param, want) in expected {
        println!("callback: {what}");
        let decision = receive(&mut state, &signed(&gateway, param)?, &gateway_keys)?;
        println!("  -> {decision:?}");
        if decision != want {
            return Err(format!("{what}: expected {want:?}, got {decision:?}").into());
        }
    }
    Ok(())
}
