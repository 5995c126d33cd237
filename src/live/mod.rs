//! `serve` as a library: a lesson's final server for real browsers, with simulated company and a
//! live trace of who was sent what.
//!
//! [`run`] takes a bound listener, the stage to serve, how many bots to add and a shutdown
//! future, the way mini-redis's `server::run` does; the command line (`cli::serve`) only parses
//! arguments, binds the port, explains bind errors and catches Ctrl-C. Tests can call [`run`]
//! on `127.0.0.1:0` in-process.
//!
//! The pieces, each in its own file:
//!
//! * the server is exactly the one the lesson's `check` stage runs ([`StageServer`]), started
//!   with limits for a port strangers' programs can reach ([`http::Guard`]: request-header time
//!   limit, connection limit, `Origin` check);
//! * [`hub`] turns the server's reports and the bots' reads into live records (pure
//!   bookkeeping, unit-tested without a network);
//! * [`bots`] are simulated clients that keep a browser tab company;
//! * the records are plain data with their JSON ([`crate::trace::live`]) and are worded for a
//!   person by [`crate::ui::live`]; [`printer`] writes them on a thread of its own, so a slow
//!   terminal never holds the server up;
//! * [`feed`] hands the same records, as JSON Lines, to the `/tutor/` pages that draw them as a
//!   sequence diagram ([`tutor`]), through a bounded channel a slow page cannot block.

pub mod bots;
pub mod feed;
pub mod follow;
pub mod hub;
pub mod nodes;
pub mod printer;
pub mod tutor;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;

use self::bots::{Bots, Plan, Setup};
use self::feed::Feed;
use self::hub::Hub;
use self::printer::Records;
use crate::server::http::Guard;
use crate::server::{Behaviour, Mount, StageServer};
use crate::trace::live::{self as records, Live};

/// How long shutting down may take, from Ctrl-C to exit, before the tutor gives up waiting.
pub const STOP_BOUND: Duration = Duration::from_secs(5);

/// The part of [`STOP_BOUND`] the bots get to leave politely; the server gets the rest.
pub const BOTS_BOUND: Duration = Duration::from_millis(500);

/// What to serve.
#[derive(Debug, Clone)]
pub struct Serving {
    pub mount: Mount,
    pub behaviour: Behaviour,
    /// How many bots join (at most [`bots::MAX_BOTS`]; only with Socket.IO).
    pub bots: u8,
    /// The limits and the allowed origins.
    pub guard: Guard,
    /// What the `/tutor/` pages say is served, and the controls the chat page gains.
    pub about: tutor::About,
    /// The message database of a storing stage (lesson 6), which outlives the server.
    pub log: Option<crate::server::handlers::delivery::Log>,
}

/// Why [`run`] stopped, as its `shutdown` future says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Ctrl-C, or whatever the caller treats as a request to stop.
    Asked,
    /// Something went wrong outside the server (stdout closed): said on stderr, exit status 1.
    Failed(String),
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The server stopped within [`STOP_BOUND`].
    pub clean: bool,
    pub why: Stop,
}

/// Serves `serving` on `listener` until `shutdown` completes, printing the live trace through
/// `records` (whose `Listening` line or header the caller has already queued), then shuts down
/// within [`STOP_BOUND`].
pub async fn run(
    listener: TcpListener,
    serving: Serving,
    records: &Records,
    shutdown: impl Future<Output = Stop>,
) -> std::io::Result<Ended> {
    let local = local_address(listener.local_addr()?);
    // Decided before the server takes the behaviour: what the bots do depends on what it answers.
    let plan = Plan::for_server(&serving.behaviour);
    let behaviour = serving.behaviour.clone();
    let feed = Feed::new();
    feed.about(serving.about.json());
    let app = tutor::app(feed.clone(), serving.guard.origins.clone(), &serving.about);
    let mut server = StageServer::start_serving(
        serving.mount,
        serving.behaviour,
        Some(listener),
        Some(serving.guard.clone()),
        serving.log,
        app,
    )?;
    // Every record goes to the terminal and to the pages watching.
    let print = |live: &Live| {
        let t_ms = records.t_ms();
        records.print_at(t_ms, live);
        feed.publish(records::json(t_ms, live));
    };

    let token = bots::token();
    let mut hub = Hub::new(token.clone());
    hub.quiet_handlers(&behaviour);
    let (report, mut reports) = mpsc::channel(bots::REPORTS);
    let bots = (serving.bots > 0 && server.is_realtime()).then(|| {
        Bots::start(
            serving.bots,
            &Setup {
                bases: vec![format!("http://{local}")],
                token,
                plan,
                ready: hub.ready.subscribe(),
                report,
            },
        )
    });

    tokio::pin!(shutdown);
    let why = follow::follow(&mut server, &mut hub, &mut reports, &print, shutdown).await;

    // Shutting down: the bots leave first, then the server closes every socket and stops
    // accepting connections. One deadline bounds the whole: the bots get at most BOTS_BOUND of
    // it, the server what is left. Bots that have not heard back from the server by then have
    // still said goodbye (`41` and a close frame are queued at once); under load the server's
    // answer may simply be late, which is no reason to call the shutdown unclean.
    let deadline = Instant::now() + STOP_BOUND;
    for live in hub.take_all() {
        print(&live);
    }
    print(&Live::Stopping);
    drop(reports);
    if let Some(bots) = bots {
        bots.stop(BOTS_BOUND).await;
    }
    // The pages' streams end here, so their connections close with the others.
    feed.close();
    let clean = tokio::time::timeout_at(deadline, server.stop()).await.is_ok();
    records.print(&Live::Stopped { clean });
    Ok(Ended { clean, why })
}

/// Where a browser on this machine finds a server listening on `addr` (and where the bots
/// connect): the address itself, or loopback when it listens on every address.
pub fn local_address(addr: SocketAddr) -> SocketAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}
