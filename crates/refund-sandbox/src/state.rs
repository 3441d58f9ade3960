//! What the sandbox knows and remembers: refunds (indexed by every id), timelines, faults, counts.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use refund_core::{LookupKind, Money, Provider, RefundStatus};
use tokio::time::Instant;

use crate::credentials::Credentials;
use crate::scenario::{Fault, FaultRule, SandboxRefund, Scenario, ScenarioError};

/// A refund as one query sees it: the stored record, and the status in force right now.
#[derive(Debug, Clone)]
pub(crate) struct View {
    pub(crate) refund: SandboxRefund,
    pub(crate) amount: Money,
    pub(crate) fee: Option<Money>,
    /// `false` while the timeline still says processing.
    pub(crate) settled: bool,
}

impl View {
    pub(crate) fn status(&self) -> RefundStatus {
        if self.settled {
            self.refund.status.clone()
        } else {
            RefundStatus::Processing
        }
    }
}

struct Entry {
    refund: SandboxRefund,
    amount: Money,
    fee: Option<Money>,
    queries: AtomicU32,
}

#[derive(Default)]
struct Store {
    entries: Vec<Entry>,
    index: HashMap<(Provider, LookupKind, String), Vec<usize>>,
}

impl Store {
    fn insert(&mut self, refund: SandboxRefund) -> Result<(), ScenarioError> {
        let amount = refund.money()?;
        let fee = refund.fee_money()?;
        let provider = refund.provider;
        let keys: Vec<(LookupKind, String)> = [
            (LookupKind::RefundId, Some(refund.refund_id.clone())),
            (
                LookupKind::MerchantRefundId,
                refund.merchant_refund_id.clone(),
            ),
            (
                LookupKind::OriginalTransactionId,
                refund.original_transaction_id.clone(),
            ),
            (LookupKind::ChannelTradeNo, refund.channel_trade_no.clone()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        // Replace an existing refund with the same provider refund id.
        if let Some(&i) = self
            .index
            .get(&(provider, LookupKind::RefundId, refund.refund_id.clone()))
            .and_then(|v| v.first())
        {
            for list in self.index.values_mut() {
                list.retain(|&j| j != i);
            }
            if let Some(slot) = self.entries.get_mut(i) {
                *slot = Entry {
                    refund,
                    amount,
                    fee,
                    queries: AtomicU32::new(0),
                };
            }
            for (kind, id) in keys {
                self.index.entry((provider, kind, id)).or_default().push(i);
            }
            return Ok(());
        }
        let i = self.entries.len();
        self.entries.push(Entry {
            refund,
            amount,
            fee,
            queries: AtomicU32::new(0),
        });
        for (kind, id) in keys {
            self.index.entry((provider, kind, id)).or_default().push(i);
        }
        Ok(())
    }
}

struct ActiveFault {
    rule: FaultRule,
    remaining: Option<u32>,
}

/// Shared by every request handler.
pub(crate) struct Shared {
    pub(crate) credentials: Credentials,
    /// The key EdgerOS answers are signed with (the platform key, or a rotated one).
    pub(crate) edgeros_signing_key: refund_core::rsa_keys::RsaPrivateKey,
    pub(crate) started: Instant,
    pub(crate) timestamp_window: Duration,
    synthetic_prefix: Option<String>,
    store: RwLock<Store>,
    faults: Mutex<Vec<ActiveFault>>,
    counts: [AtomicU64; 3],
    /// Requests answered 429 by the rate limit, per provider.
    throttled: [AtomicU64; 3],
    pace: crate::pace::Paces,
    nonces: Mutex<NonceLog>,
}

/// The most recent EdgerOS request nonces, oldest first: a reused one is refused as a replay.
#[derive(Default)]
struct NonceLog {
    seen: HashSet<String>,
    order: VecDeque<String>,
}

/// How many recent nonces the sandbox remembers (a real platform remembers them for the
/// signature's validity window; this bounds memory under load tests).
const NONCES_REMEMBERED: usize = 65_536;

fn slot(provider: Provider) -> usize {
    match provider {
        Provider::OpenApi => 0,
        Provider::Edgeros => 1,
        _ => 2,
    }
}

impl Shared {
    pub(crate) fn new(
        credentials: Credentials,
        edgeros_signing_key: refund_core::rsa_keys::RsaPrivateKey,
        scenario: Scenario,
    ) -> Result<Self, ScenarioError> {
        // A scenario built in code is checked like one read from a file (its pace's ranges).
        scenario.validate()?;
        let mut store = Store::default();
        for refund in scenario.refunds {
            store.insert(refund)?;
        }
        Ok(Shared {
            credentials,
            edgeros_signing_key,
            started: Instant::now(),
            timestamp_window: Duration::from_secs(
                scenario.openapi_timestamp_window_secs.unwrap_or(300),
            ),
            synthetic_prefix: scenario.synthetic_prefix,
            store: RwLock::new(store),
            faults: Mutex::new(
                scenario
                    .faults
                    .into_iter()
                    .map(|rule| ActiveFault {
                        remaining: rule.times,
                        rule,
                    })
                    .collect(),
            ),
            counts: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
            throttled: [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)],
            pace: crate::pace::Paces::new(scenario.pace, Instant::now()),
            nonces: Mutex::new(NonceLog::default()),
        })
    }

    pub(crate) fn upsert(&self, refund: SandboxRefund) -> Result<(), ScenarioError> {
        self.store
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(refund)
    }

    pub(crate) fn add_fault(&self, rule: FaultRule) {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(ActiveFault {
                remaining: rule.times,
                rule,
            });
    }

    pub(crate) fn clear_faults(&self) {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    pub(crate) fn count(&self, provider: Provider) {
        if let Some(c) = self.counts.get(slot(provider)) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `Err(retry after)` when `provider` is over its rate limit now (counted as throttled).
    pub(crate) fn admit(&self, provider: Provider) -> Result<(), Duration> {
        self.pace.admit(provider, Instant::now()).inspect_err(|_| {
            if let Some(c) = self.throttled.get(slot(provider)) {
                c.fetch_add(1, Ordering::Relaxed);
            }
        })
    }

    /// How long `provider`'s next answer waits.
    pub(crate) fn delay(&self, provider: Provider) -> Duration {
        self.pace.delay(provider)
    }

    /// Requests answered 429 by `provider`'s rate limit.
    pub(crate) fn throttled(&self, provider: Provider) -> u64 {
        self.throttled
            .get(slot(provider))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    pub(crate) fn requests(&self, provider: Provider) -> u64 {
        self.counts
            .get(slot(provider))
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Records an EdgerOS request nonce; `false` when it was already used (a replayed request).
    pub(crate) fn fresh_nonce(&self, nonce: &str) -> bool {
        let mut log = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        if !log.seen.insert(nonce.to_owned()) {
            return false;
        }
        log.order.push_back(nonce.to_owned());
        if log.order.len() > NONCES_REMEMBERED {
            if let Some(old) = log.order.pop_front() {
                log.seen.remove(&old);
            }
        }
        true
    }

    /// The EdgerOS request nonces seen, oldest first (at most the last 65,536).
    pub(crate) fn recent_nonces(&self) -> Vec<String> {
        let log = self.nonces.lock().unwrap_or_else(|p| p.into_inner());
        log.order.iter().cloned().collect()
    }

    /// The first fault rule that matches, consuming one of its `times`.
    pub(crate) fn take_fault(&self, provider: Provider, ids: &[&str]) -> Option<Fault> {
        let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        let active = faults.iter_mut().find(|f| {
            f.remaining != Some(0)
                && f.rule.provider.is_none_or(|p| p == provider)
                && f.rule
                    .refund_id
                    .as_deref()
                    .is_none_or(|id| ids.contains(&id))
        })?;
        if let Some(n) = active.remaining.as_mut() {
            *n -= 1;
        }
        Some(active.rule.fault.clone())
    }

    /// Every refund of `provider` matching the lookup, as of now (advancing timelines).
    pub(crate) fn resolve(&self, provider: Provider, kind: LookupKind, id: &str) -> Vec<View> {
        let store = self.store.read().unwrap_or_else(|p| p.into_inner());
        let found: Vec<View> = store
            .index
            .get(&(provider, kind, id.to_owned()))
            .into_iter()
            .flatten()
            .filter_map(|&i| store.entries.get(i))
            .map(|e| {
                let n = e.queries.fetch_add(1, Ordering::Relaxed) + 1;
                let waiting_queries = e
                    .refund
                    .timeline
                    .and_then(|t| t.processing_queries)
                    .is_some_and(|q| n <= q);
                let waiting_time = e
                    .refund
                    .timeline
                    .and_then(|t| t.processing_ms)
                    .is_some_and(|ms| self.started.elapsed() < Duration::from_millis(ms));
                View {
                    refund: e.refund.clone(),
                    amount: e.amount,
                    fee: e.fee,
                    settled: !(waiting_queries || waiting_time),
                }
            })
            .collect();
        if !found.is_empty() {
            return found;
        }
        match &self.synthetic_prefix {
            Some(prefix) if id.starts_with(prefix.as_str()) => vec![synthetic(provider, kind, id)],
            _ => Vec::new(),
        }
    }
}

/// A deterministic succeeded refund for any id with the synthetic prefix.
fn synthetic(provider: Provider, kind: LookupKind, id: &str) -> View {
    let minor = 1 + id
        .bytes()
        .fold(0_i64, |acc, b| (acc * 31 + i64::from(b)) % 99_999);
    let amount = Money::from_minor(minor, refund_core::Currency::Cny);
    let mut refund = SandboxRefund::new(
        provider,
        id,
        amount.to_major_string(),
        RefundStatus::Succeeded,
    );
    match kind {
        LookupKind::MerchantRefundId => refund.merchant_refund_id = Some(id.to_owned()),
        LookupKind::OriginalTransactionId => refund.original_transaction_id = Some(id.to_owned()),
        LookupKind::ChannelTradeNo => refund.channel_trade_no = Some(id.to_owned()),
        _ => {}
    }
    View {
        refund,
        amount,
        fee: None,
        settled: true,
    }
}
