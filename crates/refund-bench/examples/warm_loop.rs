//! The SDK's own work per query in a plain loop, for figures that hold on a loaded machine:
//! the fastest of 40 trials (`warm_loop cpos both`), and, run under valgrind, instructions per
//! query (`scripts/bench-instructions.sh`), which do not move with load at all.
//!
//! `cargo run --release -p refund-bench --example warm_loop -- <cpos|openapi|edgeros> <build|parse|both> [iterations]`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../benches/cases/mod.rs"]
mod cases;

use std::hint::black_box;
use std::time::Instant;

use refund_core::client::Client;
use refund_core::protocol::Protocol;

const TRIALS: u64 = 40;

/// Runs `step` (build, parse or both) `iterations` times in 40 trials and prints the fastest,
/// the first quartile and the median time per iteration.
fn run<P: Protocol>(step: &str, iterations: u64, case: &cases::Case<Client<P>>) {
    let per_trial = (iterations / TRIALS).max(1);
    let mut trials: Vec<f64> = (0..TRIALS)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..per_trial {
                if step != "parse" {
                    black_box(case.client.prepare_now(black_box(&case.lookup)).unwrap());
                }
                if step != "build" {
                    let body = black_box(case.body.as_slice());
                    black_box(
                        case.client
                            .parse_response(black_box(&case.lookup), body)
                            .unwrap(),
                    );
                }
            }
            started.elapsed().as_nanos() as f64 / per_trial as f64
        })
        .collect();
    trials.sort_by(f64::total_cmp);
    let at = |q: usize| trials.get(q).copied().unwrap_or_default();
    eprintln!(
        "{step}: fastest {:.0} ns, first quartile {:.0} ns, median {:.0} ns per query",
        at(0),
        at(trials.len() / 4),
        at(trials.len() / 2)
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let provider = args.get(1).map_or("cpos", String::as_str);
    let step = args.get(2).map_or("both", String::as_str);
    let iterations: u64 = args
        .get(3)
        .map_or(1_000_000, |n| n.parse().expect("iterations"));
    match provider {
        "openapi" => run(step, iterations, &cases::openapi()),
        "edgeros" => run(step, iterations, &cases::edgeros()),
        _ => run(step, iterations, &cases::cpos()),
    }
}
