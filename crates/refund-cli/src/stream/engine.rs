//! The streaming `batch`, `reconcile` and `refund demo` share: the input read on its own thread
//! and handed to long-lived workers, queries at a pace, and each answer handed to the caller's
//! state and written to the sink (by the workers themselves into a regular file, through a
//! writing task into a pipe or terminal).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use refund_core::{Provider, RefundLookup, RefundProvider};

use super::pace::Event;
use super::pacer::{Pacer, Reached};
use super::render::Outcome;
use super::{PaceArgs, SinkArgs};
use crate::error::CliError;
use crate::evidence::EvidenceDir;

/// What a streamed input offers the workers: the lookup to query (or why the line is unusable),
/// and the provider its line names.
pub(crate) trait Job: Send + Sync + 'static {
    fn lookup(&self) -> Result<&RefundLookup, &str>;

    /// The provider the line names; `None`: the run's only provider (a usable line), or none
    /// that is known (an unusable one).
    fn provider(&self) -> Option<Provider> {
        None
    }
}

impl Job for Result<RefundLookup, String> {
    fn lookup(&self) -> Result<&RefundLookup, &str> {
        self.as_ref().map_err(String::as_str)
    }
}

/// Where a run's queries go: a client per provider it may query, and why any other provider a
/// line may name gets no query (its section is missing from the configuration).
#[derive(Debug)]
pub(crate) struct Lanes {
    clients: Vec<Arc<dyn RefundProvider>>,
    missing: Vec<(Provider, String)>,
}

impl Lanes {
    /// One provider: every usable line goes to `client`.
    pub(crate) fn one(client: Box<dyn RefundProvider>) -> Self {
        Lanes {
            clients: vec![Arc::from(client)],
            missing: Vec::new(),
        }
    }

    /// Several providers (a mixed ledger): each line goes to the client of the provider it
    /// names; a line naming one in `missing` is answered with that configuration error.
    pub(crate) fn several(
        clients: Vec<Box<dyn RefundProvider>>,
        missing: Vec<(Provider, String)>,
    ) -> Self {
        Lanes {
            clients: clients.into_iter().map(Arc::from).collect(),
            missing,
        }
    }

    /// The lane of a job: its provider's client, else the offline lane (the last).
    fn route(&self, job: &impl Job) -> usize {
        let offline = self.clients.len();
        if job.lookup().is_err() {
            return offline;
        }
        match job.provider() {
            None if !self.clients.is_empty() => 0,
            None => offline,
            Some(p) => self
                .clients
                .iter()
                .position(|c| c.provider() == p)
                .unwrap_or(offline),
        }
    }
}

/// What one lane's workers do with a job.
enum Answerer {
    /// Query this client, at this pace; a line throttled for longer than `patience` (the
    /// query's `--timeout`) is given up.
    Query {
        client: Arc<dyn RefundProvider>,
        pacer: Box<Pacer>,
        patience: Duration,
    },
    /// Query nothing: the line is unusable, or its provider is not configured (said once on
    /// stderr per provider, the first time one of its lines comes).
    Offline {
        missing: Vec<(Provider, String)>,
        said: Mutex<Vec<Provider>>,
    },
}

/// What became of one job: its outcome, and the evidence file of the answer that produced it
/// (`Ok(None)`: no answer, or no `--evidence`; an error: the file could not be written, and the
/// run stops).
pub(crate) struct Answer {
    pub(crate) outcome: Outcome,
    pub(crate) evidence: Result<Option<String>, CliError>,
}

impl Answer {
    /// An outcome without an answer from the provider.
    fn unanswered(outcome: Outcome) -> Self {
        Answer {
            outcome,
            evidence: Ok(None),
        }
    }
}

impl Answerer {
    /// What becomes of one job (its answers kept in `evidence`, when given).
    async fn answer(&self, job: &impl Job, evidence: Option<&EvidenceDir>) -> Answer {
        match job.lookup() {
            Ok(lookup) => self.outcome(lookup, job.provider(), evidence).await,
            Err(reason) => Answer::unanswered(Err(CliError::usage(reason))),
        }
    }

    async fn outcome(
        &self,
        lookup: &RefundLookup,
        provider: Option<Provider>,
        evidence: Option<&EvidenceDir>,
    ) -> Answer {
        match self {
            Answerer::Query {
                client,
                pacer,
                patience,
            } => {
                let first = Instant::now();
                loop {
                    pacer.start().await;
                    let started = Instant::now();
                    let (result, evidence) =
                        crate::open::query_found_kept(client.as_ref(), lookup, evidence).await;
                    let throttled = match &result {
                        Err(e) if e.is_throttle() => Some(e.retry_after()),
                        _ => None,
                    };
                    let Some(retry_after) = throttled else {
                        pacer.finish(Some(Event::Answered(started.elapsed())));
                        return Answer {
                            outcome: result.map_err(CliError::from),
                            evidence,
                        };
                    };
                    // Throttled: the whole provider slows down (the law), and the line is
                    // queued again, not before its `Retry-After`, as long as it has been
                    // throttled for less than its `--timeout` (an evidence file failing stops
                    // the run, as always).
                    pacer.finish(Some(Event::Throttled));
                    let wait = retry_after.unwrap_or_default();
                    if evidence.is_err() || first.elapsed().saturating_add(wait) >= *patience {
                        return Answer {
                            outcome: result.map_err(CliError::from),
                            evidence,
                        };
                    }
                    tokio::time::sleep(wait).await;
                }
            }
            Answerer::Offline { missing, said } => {
                let why = missing
                    .iter()
                    .find(|(p, _)| Some(*p) == provider)
                    .map(|(_, why)| why.clone())
                    .unwrap_or_else(|| "no client for this line's provider".to_owned());
                if let Some(p) = provider {
                    let mut said = said.lock().unwrap_or_else(PoisonError::into_inner);
                    if !said.contains(&p) {
                        said.push(p);
                        crate::logging::warn(&format!("{why}: its lines are not queried"));
                    }
                }
                Answer::unanswered(Err(CliError::config(why)))
            }
        }
    }
}

/// How `stream` runs: its pace, and the lines already answered.
pub(crate) struct Streaming {
    pub(crate) pace: PaceArgs,
    /// `--timeout`: also how long a line may stay throttled.
    pub(crate) timeout: Duration,
    /// `--evidence`: where every answer is kept.
    pub(crate) evidence: Option<EvidenceDir>,
    pub(crate) done: HashSet<u64>,
    pub(crate) progress: indicatif::ProgressBar,
}

/// The jobs the workers share: the chunk in hand, and the reader's channel for the next one.
type JobQueue<J> = tokio::sync::Mutex<(
    std::vec::IntoIter<(u64, J)>,
    tokio::sync::mpsc::Receiver<Vec<(u64, J)>>,
)>;

/// The next job: from the chunk in hand, else from the reader's next chunk (meanwhile `hungry`
/// tells the reader to hand over what it has at once); `None` once the input is done.
async fn next_job<J>(queue: &JobQueue<J>, hungry: &AtomicBool) -> Option<(u64, J)> {
    let mut queue = queue.lock().await;
    let (chunk, from_reader) = &mut *queue;
    loop {
        if let Some(job) = chunk.next() {
            return Some(job);
        }
        hungry.store(true, Ordering::Release);
        let refill = from_reader.recv().await;
        hungry.store(false, Ordering::Release);
        *chunk = refill?.into_iter();
    }
}

/// Where answers are handed in: the caller's state, the text its lines go into, and the sink.
struct Output<S> {
    /// `None` while a worker writes outside the lock ([`Deliver::Direct`]).
    sink: Option<Box<dyn Write + Send>>,
    state: S,
    text: Vec<u8>,
    /// The writing worker's buffer between writes, kept for its capacity.
    spare: Vec<u8>,
    /// The first error handing in an answer (an output error): nothing more is queried.
    failed: Option<CliError>,
}

/// What the caller does with one answer: update its state, append its lines to the text.
type OnResult<J, S> =
    dyn Fn(&mut S, u64, J, Answer, &mut Vec<u8>) -> Result<(), CliError> + Send + Sync;

impl<S> Output<S> {
    /// Hands in answers: each through `on_result` into the text, then the text is written and
    /// flushed at once (a crash loses nothing already answered).
    fn hand_in<J>(
        &mut self,
        on_result: &OnResult<J, S>,
        answers: impl IntoIterator<Item = (u64, J, Answer)>,
    ) -> Result<(), CliError> {
        let handled = answers
            .into_iter()
            .try_for_each(|(line, job, outcome)| {
                on_result(&mut self.state, line, job, outcome, &mut self.text)
            })
            .and_then(|()| match self.sink.as_mut() {
                Some(sink) => write_flushed(sink.as_mut(), &self.text),
                None => Err(CliError::io("the output is already being written")),
            });
        self.text.clear();
        handled
    }
}

/// The output the workers share, and the signal that its pending text was taken.
struct Shared<S> {
    output: Mutex<Output<S>>,
    /// Notified when the writing worker takes the pending text or gives the sink back.
    drained: Condvar,
    /// Set with `failed`, read without the lock: a worker checks it before each query.
    stopped: AtomicBool,
}

/// Pending text past which a worker waits for the writer instead of going back to its queries:
/// however slow the file, memory stays flat.
const MOST_PENDING: usize = 256 * 1024;

impl<S> Shared<S> {
    fn new(output: Output<S>) -> Self {
        Shared {
            output: Mutex::new(output),
            drained: Condvar::new(),
            stopped: AtomicBool::new(false),
        }
    }

    /// True once the output failed: query nothing more.
    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Records the first output error; the workers stop querying.
    fn fail(&self, out: &mut Output<S>, error: CliError) {
        out.failed.get_or_insert(error);
        self.stopped.store(true, Ordering::Release);
    }

    fn lock(&self) -> MutexGuard<'_, Output<S>> {
        self.output.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands in one answer, the worker itself writing (group commit): its lines are rendered
    /// under the lock; the worker that finds no write under way takes the sink and writes
    /// whatever is pending, outside the lock, until nothing is; the others leave their lines
    /// for it and go back to querying, unless [`MOST_PENDING`] bytes already wait. A line
    /// waits at most for the write before it (no timer, no gathering), and the lock is never
    /// held across a system call. False once the output failed.
    fn hand_in_direct<J>(
        &self,
        on_result: &OnResult<J, S>,
        line: u64,
        job: J,
        outcome: Answer,
    ) -> bool {
        let mut out = self.lock();
        if out.failed.is_some() {
            return false;
        }
        let Output { state, text, .. } = &mut *out;
        if let Err(e) = on_result(state, line, job, outcome, text) {
            self.fail(&mut out, e);
            return false;
        }
        loop {
            // Nothing more goes to an output that failed (not even by a worker that waited).
            if out.failed.is_some() {
                break;
            }
            if let Some(sink) = out.sink.take() {
                out = self.write_pending(out, sink);
                break;
            }
            if out.text.len() < MOST_PENDING {
                break;
            }
            out = self
                .drained
                .wait(out)
                .unwrap_or_else(PoisonError::into_inner);
        }
        out.failed.is_none()
    }

    /// Writes the pending text outside the lock until none is left (or the output fails),
    /// then gives the sink back.
    fn write_pending<'a>(
        &'a self,
        mut out: MutexGuard<'a, Output<S>>,
        mut sink: Box<dyn Write + Send>,
    ) -> MutexGuard<'a, Output<S>> {
        let mut pending = std::mem::take(&mut out.spare);
        loop {
            std::mem::swap(&mut pending, &mut out.text);
            if pending.is_empty() {
                break;
            }
            self.drained.notify_all();
            drop(out);
            let written = write_flushed(sink.as_mut(), &pending);
            pending.clear();
            out = self.lock();
            if let Err(e) = written {
                self.fail(&mut out, e);
                break;
            }
        }
        out.sink = Some(sink);
        out.spare = pending;
        self.drained.notify_all();
        out
    }
}

/// How a worker hands in its answers.
enum Deliver<J, S> {
    /// Itself, into the shared output: for a sink whose writes never wait on a reader (a
    /// regular file). No thread is woken per answer: an answer is rendered on the thread that
    /// got it, and written by it or, when a write is under way, by the worker writing.
    Direct {
        output: Arc<Shared<S>>,
        on_result: Arc<OnResult<J, S>>,
        /// The progress bar, when shown.
        progress: Option<indicatif::ProgressBar>,
    },
    /// Through a channel to the thread that writes: for a pipe or a terminal, whose reader may
    /// pause. A runtime thread blocked in a write would stall the queries in flight into
    /// timeouts; here the workers only wait, asynchronously, once `concurrency` answers queue.
    Channel(tokio::sync::mpsc::Sender<(u64, J, Answer)>),
}

impl<J, S> Deliver<J, S> {
    /// True once the output failed: query nothing more.
    fn stopped(&self) -> bool {
        match self {
            Deliver::Direct { output, .. } => output.stopped(),
            Deliver::Channel(results) => results.is_closed(),
        }
    }

    /// Hands in one answer; false if the output failed.
    async fn hand_in(&self, line: u64, job: J, outcome: Answer) -> bool {
        match self {
            Deliver::Direct {
                output,
                on_result,
                progress,
            } => {
                let handed_in = output.hand_in_direct(on_result.as_ref(), line, job, outcome);
                if let (true, Some(bar)) = (handed_in, progress) {
                    bar.inc(1);
                }
                handed_in
            }
            Deliver::Channel(results) => results.send((line, job, outcome)).await.is_ok(),
        }
    }
}

/// One of a lane's long-lived workers: answers job after job (at the lane's pace) until its
/// input ends or the output fails.
async fn work<J: Job, S>(
    queue: Arc<JobQueue<J>>,
    hungry: Arc<AtomicBool>,
    answerer: Arc<Answerer>,
    evidence: Option<Arc<EvidenceDir>>,
    deliver: Deliver<J, S>,
) {
    while let Some((line, job)) = next_job(&queue, &hungry).await {
        if deliver.stopped() {
            return;
        }
        let outcome = answerer.answer(&job, evidence.as_deref()).await;
        if !deliver.hand_in(line, job, outcome).await {
            return;
        }
    }
}

/// Jobs handed from the reading thread to the runtime at once: one wake-up per chunk, not per
/// line.
const CHUNK: usize = 256;

/// Chunks queued for each lane: the reader runs at most `READ_AHEAD * CHUNK` (4,096) lines
/// ahead of a lane's workers. That bounds memory, and how far a slow or failing provider of a
/// mixed ledger holds the others back: the reader waits for it only once that many of its
/// lines are queued, and hands every other lane what it has read before it waits.
const READ_AHEAD: usize = 16;

/// The reading thread's side of the lanes: each lane's channel, its chunk being filled, and its
/// workers' call for work.
struct Feed<J> {
    lanes: Vec<FeedLane<J>>,
}

struct FeedLane<J> {
    sender: tokio::sync::mpsc::Sender<Vec<(u64, J)>>,
    chunk: Vec<(u64, J)>,
    hungry: Arc<AtomicBool>,
}

impl<J> Feed<J> {
    /// Queues one job on lane `lane`, handing its chunk over when full or when the lane's
    /// workers wait for work; false once the workers are gone (the output failed).
    fn push(&mut self, lane: usize, job: (u64, J)) -> bool {
        let Some(l) = self.lanes.get_mut(lane) else {
            return false;
        };
        l.chunk.push(job);
        if l.chunk.len() < CHUNK && !l.hungry.load(Ordering::Acquire) {
            return true;
        }
        let chunk = std::mem::replace(&mut l.chunk, Vec::with_capacity(CHUNK));
        match l.sender.try_send(chunk) {
            Ok(()) => true,
            Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => false,
            Err(tokio::sync::mpsc::error::TrySendError::Full(chunk)) => {
                // This lane is `READ_AHEAD` chunks behind: before waiting for it, hand every
                // other lane what is read for it, so none waits for work meanwhile.
                self.hand_over_partial(lane);
                self.lanes
                    .get(lane)
                    .is_some_and(|l| l.sender.blocking_send(chunk).is_ok())
            }
        }
    }

    /// Hands every lane but `except` its partial chunk, where its queue has room.
    fn hand_over_partial(&mut self, except: usize) {
        for (i, l) in self.lanes.iter_mut().enumerate() {
            if i == except || l.chunk.is_empty() {
                continue;
            }
            let chunk = std::mem::take(&mut l.chunk);
            if let Err(tokio::sync::mpsc::error::TrySendError::Full(chunk)) =
                l.sender.try_send(chunk)
            {
                l.chunk = chunk;
            }
        }
    }

    /// The input ended: every lane gets what is left.
    fn finish(self) {
        for l in self.lanes {
            if !l.chunk.is_empty() {
                let _ = l.sender.blocking_send(l.chunk);
            }
        }
    }
}

/// Queries every job not in `done` and hands each outcome to `on_result` as it comes, in
/// completion order, with the caller's `state` and the text buffer its lines go into; the text
/// is written to the sink and flushed at once (a crash loses nothing already answered).
/// Returns how many jobs were skipped as already done, and the state.
///
/// Each lane (a provider of [`Lanes`]) has its own queue, its `concurrency` spawned workers (so
/// RSA signing runs on every core; long-lived, each taking the next job when done with one: no
/// task, permit or sender made per job) and its own `--rps` pace: one provider's slowness does
/// not pace another. Unusable lines, and lines of a provider without configuration, go to an
/// offline lane of one worker that queries nothing.
///
/// Into a regular file the workers hand their answers in themselves ([`Deliver::Direct`]): each
/// renders its lines under the output's lock, and the one that finds no write under way writes
/// all pending lines outside it (a writer thread woken per answer cost the batch about a tenth
/// of its throughput; a write per answer under the lock made the other thread wait on it).
/// Into a pipe or a terminal, whose reader may pause, they send them to this task, which
/// writes whatever is ready together ([`Deliver::Channel`]).
///
/// The input is read on a blocking thread and handed over in chunks of up to [`CHUNK`] jobs
/// (a partial chunk as soon as a lane's worker is waiting for work, so the first queries start
/// before a chunk fills). Memory stays flat: per lane at most [`READ_AHEAD`] chunks queued and
/// one being taken from, `concurrency` queries and results waiting. `batch`, `reconcile` and
/// `demo` share it.
pub(crate) async fn stream<J: Job, S: Send + 'static>(
    lanes: Lanes,
    jobs: impl Iterator<Item = (u64, J)> + Send + 'static,
    how: Streaming,
    sink: Sink,
    state: S,
    on_result: impl Fn(&mut S, u64, J, Answer, &mut Vec<u8>) -> Result<(), CliError>
    + Send
    + Sync
    + 'static,
) -> Result<Streamed<S>, CliError> {
    let Streaming {
        pace,
        timeout,
        evidence,
        done,
        progress,
    } = how;
    let evidence = evidence.map(Arc::new);
    // Each lane: what answers its jobs, and how many workers it has (one per query it may
    // have in flight: the pacer lets as many through as the law allows).
    let mut answerers: Vec<(Arc<Answerer>, usize)> = lanes
        .clients
        .iter()
        .map(|client| {
            let answerer = Answerer::Query {
                client: Arc::clone(client),
                pacer: Box::new(Pacer::new(pace.pins())),
                patience: timeout,
            };
            (Arc::new(answerer), pace.workers())
        })
        .collect();
    let paced: Vec<(Provider, Arc<Answerer>)> = lanes
        .clients
        .iter()
        .zip(&answerers)
        .map(|(client, (answerer, _))| (client.provider(), Arc::clone(answerer)))
        .collect();
    let offline = Answerer::Offline {
        missing: lanes.missing.clone(),
        said: Mutex::new(Vec::new()),
    };
    answerers.push((Arc::new(offline), 1));
    let workers: usize = answerers.iter().map(|(_, n)| n).sum();
    // A hidden bar (output not a terminal) still reads the clock and takes its lock on every
    // `inc`, ~750 instructions each: counted only when someone sees it.
    let shown = (!progress.is_hidden()).then(|| progress.clone());
    let skip_bar = shown.clone();
    let mut feed = Feed { lanes: Vec::new() };
    let mut lane_queues = Vec::new();
    for _ in &answerers {
        let (sender, receiver) = tokio::sync::mpsc::channel::<Vec<(u64, J)>>(READ_AHEAD);
        let hungry = Arc::new(AtomicBool::new(true));
        lane_queues.push((
            Arc::new(JobQueue::new((Vec::new().into_iter(), receiver))),
            Arc::clone(&hungry),
        ));
        feed.lanes.push(FeedLane {
            sender,
            chunk: Vec::with_capacity(CHUNK),
            hungry,
        });
    }
    let reader = tokio::task::spawn_blocking(move || {
        for (n, job) in jobs {
            if done.contains(&n) {
                if let Some(bar) = &skip_bar {
                    bar.inc(1);
                }
                continue;
            }
            let lane = lanes.route(&job);
            if !feed.push(lane, (n, job)) {
                return done.len();
            }
        }
        feed.finish();
        done.len()
    });
    let output = Arc::new(Shared::new(Output {
        sink: Some(sink.writer),
        state,
        text: Vec::new(),
        spare: Vec::new(),
        failed: None,
    }));
    let on_result: Arc<OnResult<J, S>> = Arc::new(on_result);
    // Every worker of every lane, each with how it hands its answers in.
    let spawn_all = |deliver: &dyn Fn() -> Deliver<J, S>| -> Vec<_> {
        answerers
            .iter()
            .zip(lane_queues)
            .flat_map(|((answerer, n), (queue, hungry))| {
                (0..*n)
                    .map(|_| {
                        tokio::spawn(work(
                            Arc::clone(&queue),
                            Arc::clone(&hungry),
                            Arc::clone(answerer),
                            evidence.clone(),
                            deliver(),
                        ))
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    // The pace of each provider on the bar, twice a second, and in the log (`-vv`) once a
    // second (only when someone sees them).
    let traced = tracing::enabled!(tracing::Level::DEBUG);
    let ticker = (shown.is_some() || traced).then(|| {
        let paced = paced.clone();
        let bar = shown.clone();
        tokio::spawn(async move {
            for tick in 0_u64.. {
                let line = pace_line(&paced);
                if traced && tick % 2 == 0 {
                    tracing::debug!(pace = %line, "pace");
                }
                if let Some(bar) = &bar {
                    bar.set_prefix(line);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    });
    // The queues live in their workers alone: once a lane's workers end (the output failed),
    // its receiving end goes with them, so a reader waiting to hand that lane a chunk stops,
    // and with it the senders every other lane's idle workers wait on.
    let tasks: Vec<_> = if sink.regular_file {
        spawn_all(&|| Deliver::Direct {
            output: Arc::clone(&output),
            on_result: Arc::clone(&on_result),
            progress: shown.clone(),
        })
    } else {
        let (result_tx, mut results) = tokio::sync::mpsc::channel(workers);
        let tasks = spawn_all(&|| Deliver::Channel(result_tx.clone()));
        drop(result_tx);
        let mut ready = Vec::with_capacity(workers);
        while results.recv_many(&mut ready, workers).await > 0 {
            let n = ready.len() as u64;
            let mut output = output.lock();
            output.hand_in(on_result.as_ref(), ready.drain(..))?;
            drop(output);
            if let Some(bar) = &shown {
                bar.inc(n);
            }
        }
        tasks
    };
    for task in tasks {
        task.await.map_err(|e| CliError::io(e.to_string()))?;
    }
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    progress.finish_and_clear();
    let skipped = reader.await.map_err(|e| CliError::io(e.to_string()))? as u64;
    // Every worker has ended: the output is this task's alone.
    let output = match Arc::try_unwrap(output) {
        Ok(shared) => shared
            .output
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner),
        Err(_) => {
            return Err(CliError::io(
                "the output is still shared after the workers ended",
            ));
        }
    };
    let Output {
        sink,
        state,
        text,
        failed,
        ..
    } = output;
    if let Some(e) = failed {
        return Err(e);
    }
    // The last writer leaves nothing pending; were anything left, it is written, not dropped
    // (and a test build says so: lines written only here were not written when known).
    debug_assert!(
        text.is_empty(),
        "lines left pending after the workers ended"
    );
    if let (Some(mut sink), false) = (sink, text.is_empty()) {
        write_flushed(sink.as_mut(), &text)?;
    }
    let paces = paced
        .iter()
        .filter_map(|(provider, answerer)| match answerer.as_ref() {
            Answerer::Query { pacer, .. } => Some((*provider, pacer.reached())),
            Answerer::Offline { .. } => None,
        })
        .collect();
    Ok(Streamed {
        skipped,
        state,
        paces,
    })
}

/// What a stream returns: how many jobs were skipped as already done, the caller's state, and
/// the pace each provider reached.
pub(crate) struct Streamed<S> {
    pub(crate) skipped: u64,
    pub(crate) state: S,
    pub(crate) paces: Vec<(Provider, Reached)>,
}

/// The pace of each querying lane, as the progress bar shows it: `cpos 480/s ≤96`.
fn pace_line(paced: &[(Provider, Arc<Answerer>)]) -> String {
    let parts: Vec<String> = paced
        .iter()
        .filter_map(|(provider, answerer)| match answerer.as_ref() {
            Answerer::Query { pacer, .. } => {
                let (rate, in_flight) = pacer.now();
                let rate = rate.map_or("n/a".to_owned(), |r| format!("{r:.0}/s"));
                Some(format!("{provider} {rate} ≤{in_flight}"))
            }
            Answerer::Offline { .. } => None,
        })
        .collect();
    parts.join(", ")
}

/// Where results go, and whether writing there can wait on a reader.
pub(crate) struct Sink {
    writer: Box<dyn Write + Send>,
    /// A regular file: writes never wait on a reader (see [`stream`]).
    regular_file: bool,
}

impl Sink {
    /// Discards everything (for `refund demo`, which keeps the rows it renders).
    pub(crate) fn discard() -> Self {
        Sink {
            writer: Box::new(std::io::sink()),
            regular_file: true,
        }
    }
}

/// True for a regular file (not a pipe, terminal, FIFO or device).
fn is_regular_file(file: &File) -> bool {
    file.metadata().is_ok_and(|m| m.is_file())
}

/// True when standard output is a regular file (`> out.ndjson`).
fn stdout_is_regular_file() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .is_ok_and(|fd| is_regular_file(&File::from(fd)))
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// Where results go: `--output` (created, or appended to with `--resume`) or stdout; the CSV
/// header is written once.
pub(crate) fn open_sink(args: &SinkArgs, csv_header: Option<&str>) -> Result<Sink, CliError> {
    let io = |e: std::io::Error| CliError::io(format!("cannot write results: {e}"));
    let Some(path) = &args.output else {
        let mut out: Box<dyn Write + Send> = Box::new(std::io::stdout());
        if let Some(header) = csv_header {
            out.write_all(header.as_bytes()).map_err(io)?;
        }
        return Ok(Sink {
            writer: out,
            regular_file: stdout_is_regular_file(),
        });
    };
    let existing = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > 0);
    let file = if args.resume {
        OpenOptions::new().create(true).append(true).open(path)
    } else {
        File::create(path)
    }
    .map_err(|e| CliError::usage(format!("cannot write output {}: {e}", path.display())))?;
    let regular_file = is_regular_file(&file);
    let mut file: Box<dyn Write + Send> = Box::new(file);
    if let Some(header) = csv_header.filter(|_| !(args.resume && existing)) {
        file.write_all(header.as_bytes()).map_err(io)?;
    }
    Ok(Sink {
        writer: file,
        regular_file,
    })
}

/// Writes lines and flushes them, so a crash loses nothing already answered.
fn write_flushed(sink: &mut (dyn Write + Send), text: &[u8]) -> Result<(), CliError> {
    sink.write_all(text)
        .and_then(|()| sink.flush())
        .map_err(|e| CliError::io(format!("cannot write results: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use refund_core::{
        Currency, Error, LookupKind, Money, Provider, QueryFuture, Refund, RefundStatus,
    };

    use super::*;
    use crate::stream::render;

    /// Answers from memory: the refund asked for, or (every seventh id) a business error;
    /// counts the queries it was asked.
    #[derive(Debug, Clone, Default)]
    struct Canned(Arc<AtomicUsize>);

    impl RefundProvider for Canned {
        fn provider(&self) -> Provider {
            Provider::Cpos
        }
        fn supported_lookups(&self) -> &'static [LookupKind] {
            &[LookupKind::RefundId]
        }
        fn query_refunds<'a>(&'a self, lookup: &'a RefundLookup) -> QueryFuture<'a> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Box::pin(async move {
                tokio::task::yield_now().await;
                let n: u64 = lookup.id().trim_start_matches('R').parse().unwrap_or(0);
                if n % 7 == 0 {
                    return Err(Error::Business {
                        provider: Provider::Cpos,
                        code: "E".into(),
                        message: "no".into(),
                        meaning: None,
                    });
                }
                let mut refund = Refund::new(
                    Provider::Cpos,
                    Money::from_minor(1, Currency::Cny),
                    RefundStatus::Succeeded,
                );
                refund.refund_id = Some(lookup.id().to_owned());
                Ok(vec![refund])
            })
        }
    }

    /// A writer into shared memory that fails once it has taken `limit` writes, each taking
    /// `pause`.
    #[derive(Clone)]
    struct Memory {
        bytes: Arc<Mutex<Vec<u8>>>,
        writes: Arc<AtomicUsize>,
        /// The most bytes one write was given.
        largest: Arc<AtomicUsize>,
        limit: usize,
        pause: Duration,
    }

    impl Memory {
        fn new(limit: usize) -> Self {
            Memory {
                bytes: Arc::default(),
                writes: Arc::default(),
                largest: Arc::default(),
                limit,
                pause: Duration::ZERO,
            }
        }
        fn lines(&self) -> Vec<String> {
            let bytes = self.bytes.lock().unwrap();
            let mut lines: Vec<String> = String::from_utf8_lossy(&bytes)
                .lines()
                .map(str::to_owned)
                .collect();
            lines.sort();
            lines
        }
    }

    impl Write for Memory {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.writes.fetch_add(1, Ordering::Relaxed) >= self.limit {
                return Err(std::io::Error::other("disk full"));
            }
            self.largest.fetch_max(buf.len(), Ordering::Relaxed);
            std::thread::sleep(self.pause);
            self.bytes.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Streams `n` lookups into `memory`, written directly by the workers (`regular_file`) or
    /// through the writing task; the state counts the answers handed in.
    fn run(
        n: u64,
        memory: &Memory,
        regular_file: bool,
        provider: impl RefundProvider + 'static,
    ) -> impl Future<Output = Result<(u64, u64), CliError>> + Send + 'static {
        let jobs = (1..=n).map(|i| (i, Ok::<_, String>(RefundLookup::refund_id(format!("R{i}")))));
        let how = Streaming {
            pace: PaceArgs {
                concurrency: Some(16),
                rps: None,
                max_concurrency: None,
            },
            timeout: Duration::from_secs(30),
            evidence: None,
            done: HashSet::from([3]),
            progress: indicatif::ProgressBar::hidden(),
        };
        let sink = Sink {
            writer: Box::new(memory.clone()),
            regular_file,
        };
        let streamed = stream(
            Lanes::one(Box::new(provider)),
            jobs,
            how,
            sink,
            0_u64,
            |count: &mut u64, line, job: Result<RefundLookup, String>, answer: Answer, text| {
                *count += 1;
                let asked = job
                    .as_ref()
                    .map_or((None, None), crate::stream::input::parts_of);
                render::render(
                    text,
                    line,
                    asked,
                    &answer.outcome,
                    Some(Provider::Cpos),
                    false,
                    None,
                );
                Ok(())
            },
        );
        async move { streamed.await.map(|s| (s.skipped, s.state)) }
    }

    /// Written by the workers themselves (a regular file) or by the writing task (a pipe), the
    /// same answers come out: every job but the one already done, each exactly once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn both_deliveries_write_every_answer_once() {
        let (direct, channel) = (Memory::new(usize::MAX), Memory::new(usize::MAX));
        let (skipped, handed) = run(2_000, &direct, true, Canned::default()).await.unwrap();
        assert_eq!((skipped, handed), (1, 1_999));
        let (skipped, handed) = run(2_000, &channel, false, Canned::default())
            .await
            .unwrap();
        assert_eq!((skipped, handed), (1, 1_999));
        let lines = direct.lines();
        assert_eq!(lines, channel.lines());
        assert_eq!(lines.len(), 1_999);
        let errors = lines
            .iter()
            .filter(|l| l.contains(r#""error":{"kind":"provider""#))
            .count();
        assert_eq!(errors, 2_000 / 7);
    }

    /// Into a file far slower than the answers, the lines that arrive while one worker writes
    /// are written together by it (far fewer writes than answers), every answer once; and the
    /// workers wait once `MOST_PENDING` bytes are pending instead of piling lines up, so no
    /// write is given much more than that.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slow_file_is_written_in_bounded_groups() {
        let slow = Memory {
            pause: Duration::from_millis(20),
            ..Memory::new(usize::MAX)
        };
        let (skipped, handed) = run(4_000, &slow, true, Canned::default()).await.unwrap();
        assert_eq!((skipped, handed), (1, 3_999));
        let lines = slow.lines();
        assert_eq!(lines.len(), 3_999);
        let distinct: HashSet<&String> = lines.iter().collect();
        assert_eq!(distinct.len(), 3_999);
        let writes = slow.writes.load(Ordering::Relaxed);
        assert!(writes < 100, "{writes} writes for 3,999 answers");
        let written: usize = lines.iter().map(|l| l.len() + 1).sum();
        assert!(
            written > 2 * MOST_PENDING,
            "{written} bytes: too few to test the bound"
        );
        let largest = slow.largest.load(Ordering::Relaxed);
        assert!(
            largest < MOST_PENDING + 64 * 1024,
            "a write of {largest} bytes"
        );
    }

    /// Answers in a set order: `R1` once `R2`'s query has started, `R2` 20 ms after that, any
    /// other after 3 s. `R2` waits on a blocking thread, not a timer: a runtime thread blocked in
    /// the test's slow write can hold up the timers.
    #[derive(Debug, Clone, Default)]
    struct Staggered(Arc<tokio::sync::Notify>);

    impl RefundProvider for Staggered {
        fn provider(&self) -> Provider {
            Provider::Cpos
        }
        fn supported_lookups(&self) -> &'static [LookupKind] {
            &[LookupKind::RefundId]
        }
        fn query_refunds<'a>(&'a self, lookup: &'a RefundLookup) -> QueryFuture<'a> {
            Box::pin(async move {
                match lookup.id() {
                    "R1" => self.0.notified().await,
                    "R2" => {
                        self.0.notify_one();
                        let pause = || std::thread::sleep(Duration::from_millis(20));
                        tokio::task::spawn_blocking(pause).await.unwrap();
                    }
                    _ => tokio::time::sleep(Duration::from_secs(3)).await,
                }
                Ok(Vec::new())
            })
        }
    }

    /// An answer that arrives while another is being written is written right after that
    /// write, not left for the next answer: here `R2` answers during `R1`'s 100 ms write, and
    /// its line is in the file long before `R3` answers.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_answer_arriving_during_a_write_does_not_wait_for_the_next_one() {
        let slow = Memory {
            pause: Duration::from_millis(100),
            ..Memory::new(usize::MAX)
        };
        // R1, R2 and R4 (R3 counts as done).
        let streaming = tokio::spawn(run(4, &slow, true, Staggered::default()));
        tokio::time::sleep(Duration::from_secs(1)).await;
        let early = slow.lines();
        assert!(
            early.iter().any(|l| l.contains(r#""id":"R1""#))
                && early.iter().any(|l| l.contains(r#""id":"R2""#)),
            "{early:?}"
        );
        assert!(
            !early.iter().any(|l| l.contains(r#""id":"R4""#)),
            "{early:?}"
        );
        assert_eq!(streaming.await.unwrap().unwrap(), (1, 3));
        assert_eq!(slow.lines().len(), 3);
    }

    /// An output that fails ends the stream with the error, in both deliveries, and the queries
    /// stop soon after instead of running through the whole input.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_output_error_stops_the_queries() {
        for regular_file in [true, false] {
            let memory = Memory::new(10);
            let provider = Canned::default();
            let err = run(5_000, &memory, regular_file, provider.clone())
                .await
                .unwrap_err();
            assert!(err.message().contains("disk full"), "{}", err.message());
            let asked = provider.0.load(Ordering::Relaxed);
            assert!(asked < 1_000, "{asked} queries after the output failed");
        }
    }
}
