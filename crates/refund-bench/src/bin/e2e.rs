//! End-to-end throughput and memory, against the sandbox running in a separate process.
//!
//! `cargo run --release -p refund-bench --bin e2e -- [--queries N] [--in-flight N] [--runs N] [--only PROVIDER[,PROVIDER]] [--rss REFUND_BINARY]`
//! `cargo run --release -p refund-bench --bin e2e -- --pace REFUND_BINARY [--pace-seconds S] [--runs N]`
//!
//! For each provider: the SDK (sign, send, verify, parse, map) with N queries, 64 in flight,
//! beside a baseline that sends the same pre-signed requests (URLs parsed in advance) through a
//! bare reqwest client and does no parsing: the upper bound. Each run also reports CPU per
//! query of the client and the sandbox, and the realistic bound (the bare run's CPU plus the
//! client's RSA work). The modes take turns on slices of each run (interleaved), so load
//! drifting on a shared machine does not favour one of them. With `--rss`, `refund batch
//! cpos`'s throughput over 100,000 lookups beside an SDK run over the same lookups (the two
//! taking turns going first), and the peak RSS of `refund batch` and `refund reconcile` over
//! 10,000 and 1,000,000 lookups. `E2E_PROFILE=sdk` (`transport`, `bare`) runs that one mode
//! alone, for a profiler. `e2e serve` is the sandbox process it starts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use refund_core::rsa_keys::RsaPrivateKey;
use refund_core::{PreparedRequest, Provider, RefundLookup, RefundProvider};
use refund_sandbox::{Credentials, ProviderPace, Sandbox, Scenario};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() {
    if std::env::args().nth(1).as_deref() == Some("serve") {
        return serve().await;
    }
    if let Some(refund) = arg("--pace") {
        return pace(Path::new(&refund)).await;
    }
    let queries: usize = arg("--queries").map_or(20_000, |q| q.parse().unwrap());
    let in_flight: usize = arg("--in-flight").map_or(64, |q| q.parse().unwrap());
    let dir = std::env::temp_dir().join(format!("refund-e2e-{}", std::process::id()));
    let (mut server, base) = sandbox_process(&[&dir.display().to_string()]).await;
    println!(
        "refund-bench e2e: {queries} queries per run, {in_flight} in flight, sandbox in a separate process at {base}"
    );
    println!(
        "machine: {} cores; RSA back-end: {}; date: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        refund_bench::BACKEND,
        chrono::Utc::now().format("%Y-%m-%d")
    );
    let creds = Credentials::test_keys().unwrap();
    let only = arg("--only");
    let wanted = |provider: Provider| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|p| p == provider.as_str()))
    };
    // RSA costs only for a run with an RSA provider (a CPOS run under a profiler skips them).
    let (crypto, loaded) = if wanted(Provider::OpenApi) || wanted(Provider::Edgeros) {
        (crypto_costs(&creds), crypto_costs_loaded(&creds))
    } else {
        Default::default()
    };
    let sandbox_pid = server.id().unwrap();
    let runs: usize = arg("--runs").map_or(1, |r| r.parse().unwrap());
    println!(
        "\nCPU is per query, in µs: the client process (getrusage, user + system) and the sandbox \
         process (/proc/<pid>/stat) around each slice. Each run cuts its queries into 4 slices and \
         the four modes (bare one task, bare spawned, our transport, the SDK) take turns on each, \
         each slice starting with the next mode, so load drifting on a shared machine falls on \
         all modes alike. The crypto-only bound is 2 cores / (RSA work \
         per query on both sides, single-thread medians). The realistic bound is 2 cores / (the \
         bare run's CPU per query, client + sandbox, which includes the sandbox's RSA work, + \
         the client's own RSA work per query measured with every core at it): what the machine \
         allows if the SDK added nothing but its signatures."
    );
    println!(
        "\n| provider | run | SDK q/s | SDK CPU client / sandbox | bare reqwest q/s (one task) | bare reqwest q/s (spawned workers) | bare CPU client / sandbox | SDK / bare q/s | SDK / bare client CPU | our transport q/s (client CPU) | crypto-only bound | realistic bound | SDK / realistic bound |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut cpos_sdk = Vec::new();
    for provider in [Provider::Cpos, Provider::OpenApi, Provider::Edgeros] {
        if !wanted(provider) {
            continue;
        }
        let ids: Vec<RefundLookup> = (0..queries)
            .map(|i| RefundLookup::refund_id(format!("auto-{i}")))
            .collect();
        let (client, requests) = client_and_requests(provider, &base, &creds, &ids);
        // Shared once, so no run copies its inputs inside the measured time.
        // The bare client gets its URLs parsed in advance, as the SDK's transport keeps its
        // endpoint parsed: a URL costs more to parse (~1.3 µs) than the SDK's work on a query,
        // and a baseline that parsed it per request would flatter the SDK.
        let bare_requests: Arc<[BareRequest]> = requests
            .iter()
            .map(|r| BareRequest {
                url: reqwest::Url::parse(&r.url).unwrap(),
                request: r.clone(),
            })
            .collect();
        let (ids, requests): (Arc<[RefundLookup]>, Arc<[PreparedRequest]>) =
            (ids.into(), requests.into());
        // Warm up connections and caches.
        run_sdk(&client, &ids, 0..1000.min(queries), in_flight).await;
        let bare = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .unwrap();
        let transport_config = refund_core::http::HttpConfig::default();
        let transport = Arc::new(refund_core::http::HttpTransport::new(&transport_config).unwrap());
        if let Ok(mode) = std::env::var("E2E_PROFILE") {
            // For profiling one mode alone (`perf record`, `valgrind --tool=callgrind`): `sdk`,
            // `transport` or `bare`, every query of each run; no table.
            for _ in 0..runs {
                let run = async {
                    match mode.as_str() {
                        "transport" => {
                            run_transport(&transport, provider, &requests, 0..queries, in_flight)
                                .await
                        }
                        "bare" => {
                            run_bare_spawned(&bare, &bare_requests, 0..queries, in_flight).await
                        }
                        _ => run_sdk(&client, &ids, 0..queries, in_flight).await,
                    }
                };
                let m = measured(sandbox_pid, queries, run).await;
                eprintln!(
                    "{provider}: {mode} {:.0} q/s, {:.1} µs client CPU per query",
                    m.qps,
                    m.client_cpu * 1e6
                );
            }
            continue;
        }
        for run in 1..=runs {
            // The four modes take turns over the run's queries in ROUNDS slices, each round
            // starting with the next mode: on a shared machine the load drifts within seconds,
            // and back-to-back whole runs would hand that drift to whichever mode ran later.
            let mut tallies: [Tally; 4] = Default::default();
            for round in 0..ROUNDS {
                let slice = round * queries / ROUNDS..(round + 1) * queries / ROUNDS;
                let n = slice.len();
                for turn in 0..4 {
                    let mode = (round + turn) % 4;
                    let m = match mode {
                        0 => {
                            let requests = &bare_requests[slice.clone()];
                            measured(sandbox_pid, n, run_bare(&bare, requests, in_flight)).await
                        }
                        1 => {
                            let run =
                                run_bare_spawned(&bare, &bare_requests, slice.clone(), in_flight);
                            measured(sandbox_pid, n, run).await
                        }
                        2 => {
                            let run = run_transport(
                                &transport,
                                provider,
                                &requests,
                                slice.clone(),
                                in_flight,
                            );
                            measured(sandbox_pid, n, run).await
                        }
                        _ => {
                            let run = run_sdk(&client, &ids, slice.clone(), in_flight);
                            measured(sandbox_pid, n, run).await
                        }
                    };
                    tallies[mode].add(&m, n);
                }
            }
            let [baseline, spawned, transport, sdk] = tallies.map(|t| t.total());
            // RSA work per query: Open API answers are unsigned (the client signs, the sandbox
            // verifies); EdgerOS signs and verifies both ways.
            let (sign, verify) = (crypto.0.as_secs_f64(), crypto.1.as_secs_f64());
            let (loaded_sign, loaded_verify) = (loaded.0.as_secs_f64(), loaded.1.as_secs_f64());
            let (crypto_bound, client_rsa) = match provider {
                Provider::OpenApi => (Some(2.0 / (sign + verify)), loaded_sign),
                Provider::Edgeros => (
                    Some(2.0 / (2.0 * (sign + verify))),
                    loaded_sign + loaded_verify,
                ),
                _ => (None, 0.0),
            };
            let realistic =
                crypto_bound.map(|_| 2.0 / (spawned.client_cpu + spawned.sandbox_cpu + client_rsa));
            if provider == Provider::Cpos {
                cpos_sdk.push(sdk.qps);
            }
            let fmt = |b: Option<f64>| b.map_or("-".into(), |b| format!("{b:.0}"));
            println!(
                "| {provider} | {run} | {:.0} | {:.1} / {:.1} | {:.0} | {:.0} | {:.1} / {:.1} | {:.2} | {:.2} | {:.0} ({:.1}) | {} | {} | {} |",
                sdk.qps,
                sdk.client_cpu * 1e6,
                sdk.sandbox_cpu * 1e6,
                baseline.qps,
                spawned.qps,
                spawned.client_cpu * 1e6,
                spawned.sandbox_cpu * 1e6,
                sdk.qps / spawned.qps,
                sdk.client_cpu / spawned.client_cpu,
                transport.qps,
                transport.client_cpu * 1e6,
                fmt(crypto_bound),
                fmt(realistic),
                realistic.map_or("-".into(), |b| format!("{:.2}", sdk.qps / b)),
            );
        }
    }
    if let Some(refund) = arg("--rss") {
        if wanted(Provider::Cpos) {
            // Each batch run beside an SDK run over the same 100,000 lookups (the SDK through
            // `dyn RefundProvider` and spawned workers, as the CLI), the two taking turns going
            // first: on a shared machine the load drifts within seconds, and a batch compared
            // with SDK figures taken earlier gets that drift for its own.
            const BATCH: usize = 100_000;
            let ids: Arc<[RefundLookup]> = (0..BATCH)
                .map(|i| RefundLookup::refund_id(format!("auto-{i}")))
                .collect();
            let (client, _) = client_and_requests(Provider::Cpos, &base, &creds, &[]);
            run_sdk(&client, &ids, 0..1000, in_flight).await;
            // The cpos table's SDK runs, when this invocation ran them (not with `E2E_PROFILE`).
            let table_sdk = (!cpos_sdk.is_empty()).then(|| {
                let mean = cpos_sdk.iter().sum::<f64>() / cpos_sdk.len() as f64;
                format!("{mean:.0}")
            });
            println!(
                "\n| `refund batch cpos`, 100,000 lookups, 64 in flight | batch q/s | SDK q/s, the same lookups, beside it | batch / SDK | SDK q/s in the table above (mean) |"
            );
            println!("|---|---|---|---|---|");
            for run in 1..=runs {
                let sdk_run = || run_sdk(&client, &ids, 0..BATCH, in_flight);
                let batch_run = || {
                    let (_, took) = streaming_rss(Path::new(&refund), "batch", &dir, BATCH);
                    BATCH as f64 / took.as_secs_f64()
                };
                let (batch, sdk) = if run % 2 == 1 {
                    let sdk = sdk_run().await;
                    (batch_run(), sdk)
                } else {
                    let batch = batch_run();
                    (batch, sdk_run().await)
                };
                println!(
                    "| run {run} | {batch:.0} | {sdk:.0} | {:.2} | {} |",
                    batch / sdk,
                    table_sdk.as_deref().unwrap_or("-")
                );
            }
        }
        for command in ["batch", "reconcile"] {
            println!("\n| `refund {command} cpos` lines | peak RSS (KiB) | wall time |");
            println!("|---|---|---|");
            for n in [10_000_usize, 1_000_000] {
                let (rss, took) = streaming_rss(Path::new(&refund), command, &dir, n);
                println!("| {n} | {rss} | {:.1}s |", took.as_secs_f64());
            }
        }
        // `reconcile --previous`: the earlier output's index, at 1M entries against 10.
        println!("\n| `reconcile --previous` entries | peak RSS (KiB) | bytes per entry over 10 |");
        println!("|---|---|---|");
        let small = previous_rss(Path::new(&refund), &dir, 10);
        println!("| 10 | {small} | - |");
        let large = previous_rss(Path::new(&refund), &dir, 1_000_000);
        println!(
            "| 1000000 | {large} | {:.1} |",
            large.saturating_sub(small) as f64 * 1024.0 / 999_990.0
        );
    }
    let _ = server.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// `e2e serve ARGS…` in a process of its own: the process, and the sandbox's base URL (its
/// first line).
async fn sandbox_process(args: &[&str]) -> (tokio::process::Child, String) {
    let mut server = tokio::process::Command::new(std::env::current_exe().unwrap())
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(server.stdout.take().unwrap());
    let mut first = String::new();
    tokio::io::AsyncBufReadExt::read_line(&mut lines, &mut first)
        .await
        .unwrap();
    (server, first.trim().to_owned())
}

/// A run's throughput and CPU per query (seconds).
struct Measured {
    qps: f64,
    client_cpu: f64,
    sandbox_cpu: f64,
}

/// How many slices a run's queries are cut into, the modes taking turns on each.
const ROUNDS: usize = 4;

/// One mode's slices of a run, added up.
#[derive(Default)]
struct Tally {
    queries: f64,
    seconds: f64,
    client_cpu: f64,
    sandbox_cpu: f64,
}

impl Tally {
    fn add(&mut self, m: &Measured, n: usize) {
        let n = n as f64;
        self.queries += n;
        self.seconds += n / m.qps;
        self.client_cpu += m.client_cpu * n;
        self.sandbox_cpu += m.sandbox_cpu * n;
    }

    /// The mode over the whole run: all its queries over all its time, CPU per query.
    fn total(&self) -> Measured {
        Measured {
            qps: self.queries / self.seconds,
            client_cpu: self.client_cpu / self.queries,
            sandbox_cpu: self.sandbox_cpu / self.queries,
        }
    }
}

/// CPU time so far (user + system), from getrusage: this process's or this thread's.
fn cpu_seconds(who: nix::sys::resource::UsageWho) -> f64 {
    let usage = nix::sys::resource::getrusage(who).unwrap();
    let seconds = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6;
    seconds(usage.user_time()) + seconds(usage.system_time())
}

/// This process's CPU time so far.
fn own_cpu() -> f64 {
    cpu_seconds(nix::sys::resource::UsageWho::RUSAGE_SELF)
}

/// What the RSA figures sign: an Open API `param`.
const RSA_MESSAGE: &[u8] =
    b"{\"originalTransactionId\":\"CU518563189147832320\",\"timestamp\":1722416882000}";

/// Another process's CPU time so far (user + system), from `/proc/<pid>/stat` (clock ticks of
/// 1/100 s: runs last about a second or more, so this is within a percent or two).
fn process_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// Runs `run` (which returns queries per second) and measures both processes' CPU around it.
async fn measured(
    sandbox: u32,
    queries: usize,
    run: impl std::future::Future<Output = f64>,
) -> Measured {
    let (client_before, sandbox_before) = (own_cpu(), process_cpu(sandbox));
    let qps = run.await;
    let n = queries as f64;
    Measured {
        qps,
        client_cpu: (own_cpu() - client_before) / n,
        sandbox_cpu: (process_cpu(sandbox) - sandbox_before) / n,
    }
}

/// CPU time of one sign and one verify when every core does RSA at once (as in a saturated
/// run: the client signs on both cores while the sandbox verifies), from getrusage per thread.
/// On a machine whose cores share execution units this is above the single-thread median.
fn crypto_costs_loaded(creds: &Credentials) -> (Duration, Duration) {
    let thread_cpu = || cpu_seconds(nix::sys::resource::UsageWho::RUSAGE_THREAD);
    let key: &RsaPrivateKey = &creds.openapi_merchant_key;
    let msg = RSA_MESSAGE;
    let sig = key.sign(msg).unwrap();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let per_op = |op: &(dyn Fn() + Sync), n: usize| {
        let total: f64 = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..cores)
                .map(|_| {
                    scope.spawn(|| {
                        let before = thread_cpu();
                        for _ in 0..n {
                            op();
                        }
                        thread_cpu() - before
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        Duration::from_secs_f64(total / (n * cores) as f64)
    };
    let sign = per_op(&|| drop(key.sign(msg).unwrap()), 200);
    let verify = per_op(&|| key.public_key().verify(msg, &sig).unwrap(), 2000);
    println!(
        "RSA-2048 ({}) with all {cores} cores at it: sign {:.1} µs, verify {:.1} µs of CPU each",
        refund_bench::BACKEND,
        sign.as_secs_f64() * 1e6,
        verify.as_secs_f64() * 1e6
    );
    (sign, verify)
}

/// Median time of one sign and one verify with the back-end in this build.
fn crypto_costs(creds: &Credentials) -> (Duration, Duration) {
    let key: &RsaPrivateKey = &creds.openapi_merchant_key;
    let msg = RSA_MESSAGE;
    let sig = key.sign(msg).unwrap();
    let time = |f: &dyn Fn()| {
        let mut samples: Vec<Duration> = (0..200)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect();
        samples.sort();
        samples[samples.len() / 2]
    };
    let sign = time(&|| {
        key.sign(msg).unwrap();
    });
    let verify = time(&|| key.public_key().verify(msg, &sig).unwrap());
    println!(
        "RSA-2048 ({}): sign {:.1} µs, verify {:.1} µs (medians of 200)",
        refund_bench::BACKEND,
        sign.as_secs_f64() * 1e6,
        verify.as_secs_f64() * 1e6
    );
    (sign, verify)
}

/// The client for the SDK run, and the same signed requests it sends, built once outside the
/// timed runs for the baselines.
fn client_and_requests(
    provider: Provider,
    base: &str,
    creds: &Credentials,
    ids: &[RefundLookup],
) -> (Arc<dyn RefundProvider>, Vec<PreparedRequest>) {
    match provider {
        Provider::OpenApi => {
            let c = creds.openapi_client(base).build().unwrap();
            let requests = ids.iter().map(|l| c.prepare_now(l).unwrap()).collect();
            (Arc::new(c), requests)
        }
        Provider::Edgeros => {
            let c = creds.edgeros_client(base).build().unwrap();
            let requests = ids.iter().map(|l| c.prepare_now(l).unwrap()).collect();
            (Arc::new(c), requests)
        }
        _ => {
            let c = creds.cpos_client(base).build().unwrap();
            let requests = ids.iter().map(|l| c.prepare_now(l).unwrap()).collect();
            (Arc::new(c), requests)
        }
    }
}

/// Runs `job(0..n)` on `in_flight` spawned workers (as `refund batch` does, so work spreads over
/// every core), asserts every job succeeded, and returns jobs per second.
async fn run_workers<F, Fut>(n: usize, in_flight: usize, job: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..in_flight {
        let (job, next) = (Arc::clone(&job), Arc::clone(&next));
        workers.push(tokio::spawn(async move {
            let mut ok = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break ok;
                }
                if job(i).await {
                    ok += 1;
                }
            }
        }));
    }
    let mut ok = 0;
    for w in workers {
        ok += w.await.unwrap();
    }
    assert_eq!(ok, n, "every job must succeed");
    n as f64 / started.elapsed().as_secs_f64()
}

async fn run_sdk(
    client: &Arc<dyn RefundProvider>,
    ids: &Arc<[RefundLookup]>,
    slice: std::ops::Range<usize>,
    in_flight: usize,
) -> f64 {
    let (client, ids) = (Arc::clone(client), Arc::clone(ids));
    let first = slice.start;
    run_workers(slice.len(), in_flight, move |i| {
        let (client, ids) = (Arc::clone(&client), Arc::clone(&ids));
        async move {
            client
                .query_refunds(&ids[first + i])
                .await
                .is_ok_and(|v| v.len() == 1)
        }
    })
    .await
}

/// A pre-signed request with its URL parsed once, for the bare client.
struct BareRequest {
    url: reqwest::Url,
    request: PreparedRequest,
}

async fn run_bare(client: &reqwest::Client, requests: &[BareRequest], in_flight: usize) -> f64 {
    let started = Instant::now();
    let ok = futures_util::stream::iter(requests)
        .map(|r| send_bare(client, r))
        .buffer_unordered(in_flight)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    assert_eq!(ok, requests.len());
    requests.len() as f64 / started.elapsed().as_secs_f64()
}

/// Sends one pre-signed request with a bare reqwest client and reads the body (no parsing).
async fn send_bare(client: &reqwest::Client, bare: &BareRequest) -> bool {
    let r = &bare.request;
    let mut b = match r.method {
        refund_core::Method::Get => client.get(bare.url.clone()),
        _ => client.post(bare.url.clone()),
    };
    for (k, v) in &r.headers {
        b = b.header(k.as_ref(), v.as_ref());
    }
    if let Some(body) = &r.body {
        b = b.body(body.clone());
    }
    match b.send().await {
        Ok(response) => response.bytes().await.is_ok(),
        Err(_) => false,
    }
}

/// The baseline with the same structure as `run_sdk`: spawned workers.
async fn run_bare_spawned(
    client: &reqwest::Client,
    requests: &Arc<[BareRequest]>,
    slice: std::ops::Range<usize>,
    in_flight: usize,
) -> f64 {
    let (client, requests) = (client.clone(), Arc::clone(requests));
    let first = slice.start;
    run_workers(slice.len(), in_flight, move |i| {
        let (client, requests) = (client.clone(), Arc::clone(&requests));
        async move { send_bare(&client, &requests[first + i]).await }
    })
    .await
}

/// Our transport alone (pre-signed requests, no parsing), with the same worker structure.
async fn run_transport(
    transport: &Arc<refund_core::http::HttpTransport>,
    provider: Provider,
    requests: &Arc<[PreparedRequest]>,
    slice: std::ops::Range<usize>,
    in_flight: usize,
) -> f64 {
    use refund_core::http::Transport as _;
    let (transport, requests) = (Arc::clone(transport), Arc::clone(requests));
    let first = slice.start;
    // Read once: a default `HttpConfig` allocates its user agent.
    let budget = refund_core::http::HttpConfig::default().attempt_timeout;
    run_workers(slice.len(), in_flight, move |i| {
        let (transport, requests) = (Arc::clone(&transport), Arc::clone(&requests));
        async move {
            transport
                .send(provider, &requests[first + i], budget)
                .await
                .is_ok()
        }
    })
    .await
}

/// Peak RSS of `refund batch cpos` (or `reconcile`, with its HTML report) over `n` synthetic
/// lines (polling /proc VmHWM).
fn streaming_rss(refund: &Path, command: &str, dir: &Path, n: usize) -> (u64, Duration) {
    let input = dir.join(format!("ids-{n}.csv"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    if command == "batch" {
        writeln!(f, "lookup,id").unwrap();
        for i in 0..n {
            writeln!(f, "refund_id,auto-{i}").unwrap();
        }
    } else {
        // A ledger with a carried-through column; most lines disagree with the synthetic
        // refunds, so the report's capped table is exercised too.
        writeln!(f, "lookup,id,amount,currency,status,order_no").unwrap();
        for i in 0..n {
            writeln!(
                f,
                "refund_id,auto-{i},{}.{:02},CNY,succeeded,O-{i}",
                i % 500,
                i % 100
            )
            .unwrap();
        }
    }
    drop(f);
    let output = dir.join(format!("out-{n}.ndjson"));
    let report = dir.join(format!("report-{n}.html"));
    let _ = std::fs::remove_file(&report);
    let started = Instant::now();
    let mut child = std::process::Command::new(refund)
        .args([
            "--config",
            &dir.join("refund.toml").display().to_string(),
            command,
            "cpos",
            if command == "batch" {
                "--input"
            } else {
                "--ledger"
            },
            &input.display().to_string(),
            "--output",
            &output.display().to_string(),
            "--concurrency",
            "64",
        ])
        .args(if command == "batch" {
            Vec::new()
        } else {
            vec!["--report".to_owned(), report.display().to_string()]
        })
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let peak = peak_rss(&mut child);
    let took = started.elapsed();
    let lines = std::io::BufReader::new(std::fs::File::open(&output).unwrap())
        .lines()
        .count();
    assert_eq!(lines, n, "every lookup answered");
    let _ = std::fs::remove_file(&input);
    let _ = std::fs::remove_file(&output);
    let _ = std::fs::remove_file(&report);
    (peak, took)
}

/// The peak RSS (KiB) of a child, polled from /proc until it exits.
fn peak_rss(child: &mut std::process::Child) -> u64 {
    let status_path = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut peak = 0_u64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("VmHWM:") {
                    peak = peak.max(v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0));
                }
            }
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    peak
}

/// Peak RSS of `refund reconcile cpos` over a 10-line ledger with a `--previous` output of
/// `entries` entries (NDJSON rows as reconcile writes them, two rows for every tenth entry).
fn previous_rss(refund: &Path, dir: &Path, entries: usize) -> u64 {
    let previous = dir.join(format!("previous-{entries}.ndjson"));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&previous).unwrap());
    for i in 0..entries {
        for _ in 0..if i % 10 == 0 { 2 } else { 1 } {
            writeln!(
                f,
                "{{\"line\":{},\"lookup\":\"refund_id\",\"id\":\"auto-{i}\",\"provider\":\"cpos\",\"status\":\"succeeded\",\"amount\":\"1.00\",\"verdict\":\"match\",\"expected_amount\":\"1.00\"}}",
                i + 1
            )
            .unwrap();
        }
    }
    drop(f);
    let ledger = dir.join("previous-ledger.csv");
    let mut f = std::fs::File::create(&ledger).unwrap();
    writeln!(f, "lookup,id,amount,currency").unwrap();
    for i in 0..10 {
        writeln!(f, "refund_id,auto-{i},1.00,CNY").unwrap();
    }
    drop(f);
    let output = dir.join("previous-out.ndjson");
    let _ = std::fs::remove_file(&output);
    let mut child = std::process::Command::new(refund)
        .args(["--config", &dir.join("refund.toml").display().to_string()])
        .args([
            "reconcile",
            "cpos",
            "--ledger",
            &ledger.display().to_string(),
        ])
        .args(["--output", &output.display().to_string()])
        .args(["--previous", &previous.display().to_string()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let peak = peak_rss(&mut child);
    let lines = std::io::BufReader::new(std::fs::File::open(&output).unwrap())
        .lines()
        .count();
    assert_eq!(lines, 10, "every ledger line answered");
    let _ = std::fs::remove_file(&previous);
    let _ = std::fs::remove_file(&output);
    peak
}

async fn serve() {
    let dir = PathBuf::from(std::env::args().nth(2).unwrap());
    let mut scenario = Scenario::default();
    scenario.synthetic_prefix = Some("auto-".into());
    // `serve DIR RPS LATENCY_MS`: CPOS throttles above RPS (burst a tenth of a second's worth,
    // at least 1) and answers after LATENCY_MS plus up to a tenth of it.
    if let (Some(rps), Some(latency)) = (std::env::args().nth(3), std::env::args().nth(4)) {
        let latency: u64 = latency.parse().unwrap();
        scenario.pace = vec![
            ProviderPace::new(Provider::Cpos)
                .limit(rps.parse().unwrap(), None)
                .latency(latency, latency / 10),
        ];
    }
    let sandbox = Sandbox::builder().scenario(scenario).start().await.unwrap();
    sandbox.write_credentials(&dir).unwrap();
    println!("{}", sandbox.base_url());
    let _ = std::io::stdout().flush();
    // Run until the parent kills us.
    std::future::pending::<()>().await;
}

/// `e2e --pace REFUND [--pace-seconds S] [--runs N]`: `refund batch cpos` with no pace flags
/// against a sandbox that throttles above 20 or 500 queries/s (token bucket, burst a tenth of a
/// second's worth) and answers in 10 or 200 ms (plus up to a tenth), over enough lines for S
/// seconds (default 60) at the limit, beside a fixed `--concurrency 8` baseline (over at most S
/// seconds of its own pace). Time is the whole run, ramp-up included. Per case: queries/s
/// reached / the limit, the share of answers throttled, error rows.
async fn pace(refund: &Path) {
    let seconds: f64 = arg("--pace-seconds").map_or(60.0, |s| s.parse().unwrap());
    let runs: usize = arg("--runs").map_or(1, |r| r.parse().unwrap());
    println!(
        "refund-bench e2e --pace: {seconds} s per case at the limit; machine: {} cores; date: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        chrono::Utc::now().format("%Y-%m-%d")
    );
    println!(
        "\n| run | limit q/s | latency ms | lines | adaptive q/s | / limit | throttled | error rows | `--concurrency 8` lines | q/s | / limit | throttled | error rows |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for run in 1..=runs {
        for limit in [20.0_f64, 500.0] {
            for latency in [10_u64, 200] {
                let lines = (limit * seconds) as usize;
                let adaptive = pace_case(refund, limit, latency, lines, &[]).await;
                // The baseline at its own pace: at most `seconds` of it.
                let own = (8.0 / (latency as f64 / 1000.0)).min(limit);
                let base_lines = lines.min((own * seconds) as usize);
                let fixed =
                    pace_case(refund, limit, latency, base_lines, &["--concurrency", "8"]).await;
                println!(
                    "| {run} | {limit} | {latency} | {lines} | {:.1} | {:.2} | {:.1} % | {} | {base_lines} | {:.1} | {:.2} | {:.1} % | {} |",
                    adaptive.qps,
                    adaptive.qps / limit,
                    adaptive.throttled * 100.0,
                    adaptive.errors,
                    fixed.qps,
                    fixed.qps / limit,
                    fixed.throttled * 100.0,
                    fixed.errors,
                );
            }
        }
    }
}

/// One pace case's outcome.
struct PaceCase {
    qps: f64,
    /// Throttled answers / all answers.
    throttled: f64,
    errors: usize,
}

/// `refund batch cpos` over `lines` lookups against a sandbox process throttling above `limit`
/// with `latency` ms answers, with `extra` flags.
async fn pace_case(
    refund: &Path,
    limit: f64,
    latency: u64,
    lines: usize,
    extra: &[&str],
) -> PaceCase {
    let dir = std::env::temp_dir().join(format!(
        "refund-pace-{}-{limit}-{latency}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (mut server, _) = sandbox_process(&[
        &dir.display().to_string(),
        &limit.to_string(),
        &latency.to_string(),
    ])
    .await;
    let input = dir.join("ids.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    writeln!(f, "lookup,id").unwrap();
    for i in 0..lines {
        writeln!(f, "refund_id,auto-{i}").unwrap();
    }
    drop(f);
    let output = dir.join("out.ndjson");
    let started = Instant::now();
    let done = tokio::process::Command::new(refund)
        .args([
            "--config",
            &dir.join("refund.toml").display().to_string(),
            "--timeout",
            "5m",
            "batch",
            "cpos",
            "--input",
            &input.display().to_string(),
            "--output",
            &output.display().to_string(),
        ])
        .args(extra)
        .output()
        .await
        .unwrap();
    let took = started.elapsed();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let rows = std::fs::read_to_string(&output).unwrap();
    let errors = rows
        .lines()
        .filter(|l| !l.contains("\"error\":null"))
        .count();
    assert_eq!(rows.lines().count(), lines, "every lookup answered");
    let stderr = String::from_utf8_lossy(&done.stderr);
    let throttled: f64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("  pace cpos: "))
        .and_then(|l| l.rsplit(", ").next())
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(f64::NAN);
    let _ = server.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    PaceCase {
        qps: lines as f64 / took.as_secs_f64(),
        throttled: throttled / (lines as f64 + throttled),
        errors,
    }
}
