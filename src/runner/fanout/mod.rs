//! A measurement stage (lesson 10): after its steps, what one emit costs, measured on this
//! machine against lesson 10's own server ([`crate::server::fanout`]) with lean clients.
//!
//! * `crowd.rs`: the server and its clients, and the one inbox they read into;
//! * `lean.rs`: the lean WebSocket client, and how a frame's bytes are counted;
//! * `audience.rs`: the same `io.emit` to 10, 100, 1,000 clients, and messages of two sizes;
//! * `volatile.rs`: normal and volatile emits to a fast and a slow reader;
//! * `encode.rs`: `io.emit` beside a loop of `socket.emit`, counting encodings.
//!
//! Every wait is bounded by the run's `timeout` (the volatile stage's large message by four of
//! them). What is counted (frames, bytes, deliveries, encodings) comes out the same on every run;
//! what is timed does not, and the trace keeps the two in different types
//! ([`crate::trace::measure`]).

mod apart;
mod audience;
mod crowd;
pub mod lean;
pub use apart::run_child as clients_process;
mod volatile;

mod encode;

use crate::lesson::Measure;
use crate::runner::{RunError, RunOptions};
use crate::trace::measure::Measurement;

/// Open files the process needs besides its connections: the listener, the runtime, stdio.
const SPARE_FILES: u64 = 64;

/// Runs `measure`. `options.clients` adds an audience of that size to an audience measurement.
pub async fn measure(measure: &Measure, options: &RunOptions) -> Result<Measurement, RunError> {
    let bound = options.timeout;
    match measure {
        Measure::Audience {
            clients,
            message,
            emits,
        } => {
            let mut sizes = clients.clone();
            if let Some(extra) = options.clients
                && extra > 0
                && !sizes.contains(&extra)
            {
                sizes.push(extra);
                sizes.sort();
            }
            let most = sizes.iter().copied().max().unwrap_or(0);
            let program = options.client_program.as_deref();
            // Apart, this process holds only the server's end of each connection.
            enough_open_files(most, if program.is_some() { 1 } else { 2 })?;
            let rows = audience::audiences(&sizes, message, *emits, bound, program).await?;
            Ok(Measurement::Fanout { rows })
        }
        Measure::MessageSize {
            clients,
            bytes,
            emits,
        } => {
            enough_open_files(*clients, 2)?;
            let rows = audience::message_sizes(*clients, bytes, *emits, bound).await?;
            Ok(Measurement::Fanout { rows })
        }
        Measure::Volatile { emits } => Ok(Measurement::Volatile(volatile::volatile(*emits, bound).await?)),
        Measure::EncodeOnce { clients, bytes } => {
            enough_open_files(*clients, 2)?;
            let rows = encode::encode_once(*clients, *bytes, bound).await?;
            Ok(Measurement::EncodeOnce { rows })
        }
    }
}

/// Every client is `per_client` open files in this process: the server's end of its
/// connection, and its own end when it runs here too. Raises the soft limit on open files
/// towards the hard limit if the clients need more, and says plainly when even the hard limit is
/// too low.
fn enough_open_files(clients: usize, per_client: u64) -> Result<(), RunError> {
    let needed = per_client * clients as u64 + SPARE_FILES;
    let ends = if per_client == 1 {
        "one each, the server's end"
    } else {
        "two each, the client's end and the server's"
    };
    match raise_open_files(needed) {
        Some(limit) if limit < needed => Err(RunError::Other(format!(
            "{clients} clients need {needed} open files here ({ends}), and this process may \
             open at most {limit} (its hard limit, `ulimit -Hn`); measure fewer clients, or \
             raise the hard limit as root"
        ))),
        _ => Ok(()),
    }
}

/// Raises the soft limit on open files towards `needed` (never above the hard limit); returns
/// the soft limit now in force, or `None` where there is no such limit to read.
#[cfg(unix)]
fn raise_open_files(needed: u64) -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let current = limit.current?;
    if current >= needed {
        return Some(current);
    }
    let wanted = limit.maximum.map_or(needed, |hard| needed.min(hard));
    let raised = Rlimit {
        current: Some(wanted),
        maximum: limit.maximum,
    };
    let _ = setrlimit(Resource::Nofile, raised);
    getrlimit(Resource::Nofile).current
}

#[cfg(not(unix))]
fn raise_open_files(_needed: u64) -> Option<u64> {
    None
}
