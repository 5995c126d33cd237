//! `realtime-tutor serve N`: a lesson's final server for real browsers, on one port, with
//! simulated company and a live trace of who was sent what.
//!
//! The server is exactly the one the lesson's `check` stage runs ([`StageServer`]), bound to the
//! address the learner chose instead of a throwaway port. The live trace is built from what the
//! server reports about its own handlers ([`crate::server::live`]) and from what the bots report
//! reading; see [`hub`] for how the two meet and [`view`] for the wording.

mod bots;
mod hub;
mod nodes;
mod view;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use clap::Args;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;

use self::bots::{BotMsg, Bots, MAX_BOTS, Plan, Setup};
use self::hub::Hub;
use self::view::Live;
use super::{Format, UsageError, load_lessons};
use crate::server::{Mount, StageServer, http};

/// How long shutting down may take, from Ctrl-C to exit, before the tutor exits anyway.
const STOP_BOUND: Duration = Duration::from_secs(5);

/// The part of [`STOP_BOUND`] the bots get to leave politely; the server gets the rest.
const BOTS_BOUND: Duration = Duration::from_secs(2);

/// `realtime-tutor serve N [--port 3000] [--host 127.0.0.1] [--bots K] [--broadcast]`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The lesson whose final server to run (see `realtime-tutor list`).
    #[arg(value_parser = super::parse_lesson)]
    pub lesson: u32,
    /// The port to listen on; 0 picks any free port (the address is printed at start).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// The address to listen on. The default keeps the server on this machine; 0.0.0.0 makes it
    /// reachable from other machines on your network.
    #[arg(long, default_value = "127.0.0.1", value_parser = parse_host)]
    pub host: IpAddr,
    /// Add K simulated clients (at most 8) that join and talk now and then.
    #[arg(long, value_name = "K", default_value_t = 0,
          value_parser = clap::value_parser!(u8).range(0..=MAX_BOTS as i64))]
    pub bots: u8,
    /// Answer chat messages with socket.broadcast.emit instead of io.emit (a lesson with a chat).
    #[arg(long)]
    pub broadcast: bool,
    /// Output format: readable text, or JSON Lines (one object per trace line).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// When to use colour (also honours NO_COLOR, CLICOLOR and CLICOLOR_FORCE).
    #[command(flatten)]
    pub color: colorchoice_clap::Color,
    /// For a lesson whose servers are joined through Redis (lesson 7): use this Redis
    /// (redis://host:port) instead of starting a private redis-server.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
}

fn parse_host(text: &str) -> Result<IpAddr, String> {
    if text.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    text.parse().map_err(|_| {
        format!("{text:?} is not an IP address; use 127.0.0.1 (this machine only) or 0.0.0.0 (the network)")
    })
}

/// Prints live records as they become ready, in the chosen format.
struct Printer {
    format: Format,
    started: Instant,
}

impl Printer {
    fn print(&self, live: &Live) {
        match self.format {
            Format::Json => {
                let t_ms = self.started.elapsed().as_millis() as u64;
                anstream::println!("{}", view::json(t_ms, live));
            }
            Format::Text => anstream::print!("{}", view::text(live)),
        }
    }
}

/// Starts catching Ctrl-C (SIGINT) right away and returns a future that completes when it comes.
///
/// Until a handler is installed, Ctrl-C ends the process on the spot, without a clean shutdown.
/// `tokio::signal::ctrl_c()` installs its handler only when first polled; on Unix,
/// `signal(SignalKind::interrupt())` installs it when called, so the window is closed before
/// the server even binds its port.
fn catch_ctrl_c() -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            interrupt.recv().await;
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Binds the listening socket, explaining the usual failures, and warns when the address is
/// reachable from other machines.
async fn bind(host: IpAddr, port: u16) -> anyhow::Result<TcpListener> {
    let listener = match http::bind(&host.to_string(), port).await {
        Ok(listener) => listener,
        Err(e) if e.in_use => {
            anyhow::bail!(
                "cannot serve on {}: port {port} is already in use (is another server running, perhaps \
                 another `realtime-tutor serve`?). Choose another port with --port, e.g. --port {}, \
                 or --port 0 for any free one",
                e.addr,
                port.checked_add(1).unwrap_or(3000)
            );
        }
        Err(e) => anyhow::bail!("cannot listen on {}: {}", e.addr, e.source),
    };
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        anstream::eprintln!(
            "warning: listening on {} makes this server reachable from other machines on your \
             network: anyone who can reach port {} can open the chat and send messages. Use \
             --host 127.0.0.1 (the default) to keep it on this machine.",
            addr.ip(),
            addr.port()
        );
    }
    Ok(listener)
}

/// Runs the command; returns the exit status.
pub async fn serve(args: ServeArgs) -> anyhow::Result<i32> {
    args.color.write_global();
    let ctrl_c = catch_ctrl_c().map_err(|e| anyhow::anyhow!("cannot catch Ctrl-C: {e}"))?;
    let lessons = load_lessons()?;
    // clap's `parse_lesson` has accepted N, so lesson N exists.
    let Some(lesson) = lessons.iter().find(|l| l.number == args.lesson) else {
        return Err(UsageError(format!("there is no lesson {}", args.lesson)).into());
    };
    let stage = lesson.check();
    if !stage.nodes.is_empty() {
        if args.bots > 0 || args.broadcast {
            return Err(UsageError(format!(
                "--bots and --broadcast are for the one-server lessons; lesson {} runs {} servers",
                lesson.number,
                stage.nodes.len()
            ))
            .into());
        }
        return nodes::serve(&args, lesson, stage, ctrl_c).await;
    }
    let mut behaviour = stage.behaviour.clone();
    let chat_lessons: Vec<u32> = lessons
        .iter()
        .filter(|l| l.check().behaviour.answering("chat message").is_some())
        .map(|l| l.number)
        .collect();
    if args.broadcast {
        if behaviour.answering("chat message").is_none() {
            let with_chat: Vec<String> = chat_lessons.iter().map(u32::to_string).collect();
            return Err(UsageError(format!(
                "--broadcast changes how the server answers a chat message, and lesson {}'s server has \
                 no 'chat message' handler (lessons with a chat: {})",
                lesson.number,
                with_chat.join(", ")
            ))
            .into());
        }
        behaviour = behaviour
            .replacing("chat message", "broadcast-chat")
            .map_err(anyhow::Error::msg)?;
    }
    // Checked before binding, like every usage mistake: nothing has started yet.
    if args.bots > 0 && stage.mount != Mount::Realtime {
        return Err(UsageError(format!(
            "--bots adds Socket.IO clients, and lesson {}'s server has no Socket.IO for them to join",
            lesson.number
        ))
        .into());
    }
    // The Node.js code of the stage that runs exactly this server, when the lesson has one.
    let node = lesson
        .stages
        .iter()
        .find(|s| s.mount == stage.mount && s.behaviour == behaviour)
        .map(|s| s.node.as_str());

    let listener = bind(args.host, args.port).await?;
    let addr = listener.local_addr()?;
    let mut server = StageServer::start(stage.mount, behaviour.clone(), Some(listener))?;
    // Where a browser on this machine finds the server (and where the bots connect).
    let local = SocketAddr::new(
        match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        },
        addr.port(),
    );
    let url = format!("http://{local}/");

    let printer = Printer {
        format: args.format,
        started: Instant::now(),
    };
    let bot_names: Vec<String> = bots::NAMES
        .iter()
        .take(args.bots as usize)
        .map(|n| n.to_string())
        .collect();
    match args.format {
        Format::Json => printer.print(&Live::Listening {
            url: url.clone(),
            lesson: lesson.number,
            stage: stage.number,
            title: lesson.title.clone(),
            on_connection: behaviour.on_connection().map(|e| e.js),
            on_chat: behaviour.answering("chat message").map(|e| e.js),
            bots: bot_names,
        }),
        Format::Text => anstream::println!("{}", view::header(lesson, &behaviour, node, &url, &chat_lessons)),
    }

    let mut rng = fastrand::Rng::new();
    let token: String = std::iter::repeat_with(|| rng.alphanumeric()).take(16).collect();
    let mut hub = Hub::new(server.io.clone(), token.clone());
    let (report, mut reports) = mpsc::unbounded_channel();
    // A server with Socket.IO (`io` is Some) whenever bots were asked for: checked above.
    let bots = (args.bots > 0 && server.io.is_some()).then(|| {
        Bots::start(
            args.bots,
            &Setup {
                base: format!("http://{local}"),
                token,
                plan: Plan::for_server(&behaviour),
                ready: hub.ready.subscribe(),
                report,
            },
        )
    });

    tokio::pin!(ctrl_c);
    loop {
        let deadline = hub.next_deadline();
        tokio::select! {
            // `biased` polls the branches in the order written: Ctrl-C first, then the bots'
            // reports, so that a bot's read is counted before the server's later reports.
            biased;
            () = &mut ctrl_c => break,
            Some(msg) = reports.recv() => take_bot_msg(&mut hub, msg),
            event = server.events.recv() => {
                let Some(event) = event else { break };
                // A bot reports a read before it does anything that makes the server report
                // (leaving, say); take every such read before the server's report.
                while let Ok(msg) = reports.try_recv() {
                    take_bot_msg(&mut hub, msg);
                }
                hub.server_event(event, std::time::Instant::now());
            }
            // Wakes the loop when the oldest trace line's wait for its bots' read reports runs
            // out (hub::READ_BOUND). Live browsers give no fences, so this is the bounded
            // fallback: the line is printed then, a silent bot listed as "did not report reading
            // it within 2s", never as "did not receive".
            _ = tokio::time::sleep_until(deadline.map(Instant::from_std).unwrap_or_else(Instant::now)),
                if deadline.is_some() => {}
        }
        for live in hub.take_ready(std::time::Instant::now()) {
            printer.print(&live);
        }
    }

    // Shutting down: the bots leave first, then the server closes every socket and stops
    // accepting connections. One deadline bounds the whole: the bots get at most BOTS_BOUND of
    // it, the server what is left.
    let deadline = Instant::now() + STOP_BOUND;
    for live in hub.take_all() {
        printer.print(&live);
    }
    printer.print(&Live::Stopping);
    let bots_left = match bots {
        Some(bots) => bots.stop(BOTS_BOUND).await,
        None => true,
    };
    let stopped = tokio::time::timeout_at(deadline, server.stop()).await.is_ok();
    let clean = bots_left && stopped;
    printer.print(&Live::Stopped { clean });
    Ok(if clean { 0 } else { 1 })
}

fn take_bot_msg(hub: &mut Hub, msg: BotMsg) {
    match msg {
        BotMsg::Read(read) => hub.bot_read(read),
        BotMsg::Note { client, text } => hub.note(Live::Note { client, text }, std::time::Instant::now()),
    }
}
