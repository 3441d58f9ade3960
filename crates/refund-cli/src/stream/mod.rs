//! The streaming engine `batch`, `reconcile` and `refund demo` run on: many lookups from a file,
//! queried at a pace by long-lived workers, each answer written and flushed as it comes (a crash
//! loses nothing, `--resume` continues), with flat memory whatever the file's size.
//!
//! In the order a line passes through it: `flags` (what the commands share on the command line)
//! and `paths` (every file read or written, checked before anything is sent), `input` (the file
//! read lazily into records), `resume` (what an earlier run answered, and the proof it came from
//! this input), `engine` (the reader thread, the workers, the pace, the sink and its group
//! commit; `pace` the law that finds each provider's pace, `pacer` applying it), `render` (one
//! outcome as output rows), `progress` (the bar on a terminal).

mod engine;
mod flags;
pub(crate) mod input;
pub(crate) mod pace;
pub(crate) mod pacer;
pub(crate) mod paths;
mod progress;
pub(crate) mod render;
pub(crate) mod resume;

pub(crate) use self::engine::{Answer, Job, Lanes, Sink, Streaming, open_sink, stream};
pub(crate) use self::flags::{PaceArgs, SinkArgs, check_output};
pub(crate) use self::progress::progress_bar;
