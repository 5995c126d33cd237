//! `realtime-tutor serve N`: the command line of [`crate::live`], which does the serving.
//!
//! Like mdBook's `cmd/serve.rs`, this file only reads the arguments, binds the port (and says
//! why it could not), catches Ctrl-C and turns the outcome into an exit status.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use clap::Args;
use tokio::net::TcpListener;
use tokio::time::Instant;

use super::{Format, UsageError, load_lessons};
use crate::live::bots::{self, MAX_BOTS};
use crate::live::printer::{Printer, Records};
use crate::live::{Serving, Stop};
use crate::server::guard::handshakes::HANDSHAKES;
use crate::server::guard::origin::{Allowed, parse_origin};
use crate::server::{Mount, http};
use crate::trace::live::Live;
use crate::ui;

/// What `serve --help` adds under the flags: the pages on the port.
const AFTER_HELP: &str = "\
Pages on the same port:
  /          the chat page, as a learner's own would be; when the lesson's
             server answers other events (rooms, acknowledgements), it gains
             a strip of controls for them
  /tutor/    who received what, drawn live as a sequence diagram for tabs and
             bots alike (dashed arrow: the server sent it; solid: a bot
             reported reading it); the banner prints its address
The live records behind /tutor/ follow Socket.IO's Origin rule: this server's
own pages only, unless --allow-origin.

Lesson 7 runs server A on --port and B on the next port, joined by the Redis
adapter (a private redis-server, or --redis). Each has the chat page and
/tutor/; --bots spreads the bots over both. \"via B\" lists whom B's part of
the broadcast selects, read from B's tables when A reports (B runs no handler
for it); --db does not apply.";

/// How long a client may take to send a request's headers before it is disconnected.
const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the printer gets, at exit, to write the last lines (a paused pager may never take
/// them; the exit does not wait for it).
const LAST_LINES: Duration = Duration::from_millis(200);

/// The most connections open at once, unless the open-file limit asks for fewer.
const MAX_CONNECTIONS: usize = 256;

/// At shutdown, how long open connections get to finish before they are cut.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(250);

/// `realtime-tutor serve N [--port 3000] [--host 127.0.0.1] [--bots K] [--broadcast]`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
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
    /// Add K simulated clients (at most 8) that join and talk now and then (lesson 7: spread
    /// over its two servers).
    #[arg(long, value_name = "K", default_value_t = 0,
          value_parser = clap::value_parser!(u8).range(0..=MAX_BOTS as i64))]
    pub bots: u8,
    /// Answer chat messages with socket.broadcast.emit instead of io.emit (a lesson with a chat).
    #[arg(long)]
    pub broadcast: bool,
    /// Also answer Socket.IO requests from pages at this origin (e.g. http://192.168.1.5:3000).
    /// By default only the served page itself (http://127.0.0.1:PORT, http://localhost:PORT)
    /// may connect, so other web sites you visit cannot; programs that send no Origin always can.
    #[arg(long = "allow-origin", value_name = "URL", value_parser = parse_origin)]
    pub allow_origin: Vec<String>,
    /// The most connections kept open at once (default: 256, fewer when the open-file limit is
    /// low); more wait until one closes.
    #[arg(long, value_name = "N", hide = true, value_parser = clap::value_parser!(u16).range(1..))]
    pub max_connections: Option<u16>,
    /// The most new Socket.IO sessions within 5 s (default 1,000; benches/fanout asks for more).
    #[arg(long, value_name = "N", hide = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_handshakes: Option<u32>,
    /// Output format: readable text, or JSON Lines (one object per trace line).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The SQLite file a storing server (lesson 6) keeps its messages in. By default it is
    /// messages.sqlite3 in the tutor's state folder, so the history outlives a restart. It must
    /// be a regular file or a path where one can be created (a symbolic link is followed to the
    /// file it names); a FIFO, a device or another program's SQLite database is refused and
    /// left as it is.
    #[arg(long, value_name = "PATH")]
    pub db: Option<std::path::PathBuf>,
    /// When to use colour (also honours NO_COLOR, CLICOLOR and CLICOLOR_FORCE).
    #[command(flatten)]
    pub color: colorchoice_clap::Color,
    /// For a lesson whose servers are joined through Redis (lesson 7): use this Redis
    /// (redis://host:port, Redis 6 or later) instead of starting a private redis-server.
    #[arg(long, value_name = "URL", value_parser = super::usage::parse_redis)]
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

/// The message database of a storing stage: `--db PATH`, or the file in the state folder. A
/// locked, damaged or unwritable file, one that is not a regular file, or another program's
/// database is refused here, with its name, before anything starts.
fn open_database(
    stage: &crate::lesson::Stage,
    db: Option<&std::path::Path>,
) -> anyhow::Result<Option<crate::server::handlers::delivery::Log>> {
    use crate::parts::store::Store;
    if !stage.database {
        if db.is_some() {
            return Err(UsageError(
                "--db chooses where a storing server keeps its messages, and this lesson's server \
                 stores nothing (lesson 6 does)"
                    .into(),
            )
            .into());
        }
        return Ok(None);
    }
    let path = match db {
        Some(path) => path.to_path_buf(),
        None => Store::default_path()?,
    };
    let store = Store::open(&path)?;
    anstream::eprintln!("messages are kept in {}", store.path().display());
    Ok(Some(std::sync::Arc::new(store)))
}

/// The limits and the allowed origins of the server listening on `addr`: what strangers'
/// programs meet (see [`http::Guard`]).
fn guard(args: &ServeArgs, addr: std::net::SocketAddr, printer: &Printer) -> http::Guard {
    http::Guard {
        header_timeout: HEADER_TIMEOUT,
        max_connections: args
            .max_connections
            .map_or_else(|| http::connection_limit(MAX_CONNECTIONS), usize::from),
        max_handshakes: args.max_handshakes.map_or(HANDSHAKES, |n| n as usize),
        shutdown_grace: SHUTDOWN_GRACE,
        origins: Allowed::for_address(addr, &args.allow_origin),
        log: printer.log(),
    }
}

/// Runs the command; returns the exit status.
pub async fn serve(args: ServeArgs) -> anyhow::Result<i32> {
    args.color.write_global();
    let ctrl_c = catch_ctrl_c().map_err(|e| anyhow::anyhow!("cannot catch Ctrl-C: {e}"))?;
    let lessons = load_lessons()?;
    // clap's `parse_lesson` has accepted N, so lesson N exists.
    let lesson = super::lookup::lesson(&lessons, args.lesson)?;
    let stage = lesson.check();
    if !stage.nodes.is_empty() && args.db.is_some() {
        return Err(UsageError(format!(
            "--db is for a storing server (lesson 6); lesson {}'s servers store nothing",
            lesson.number
        ))
        .into());
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
        .find(|s| s.mount == stage.mount && s.nodes == stage.nodes && s.behaviour == behaviour)
        .map(|s| s.node.as_str());
    let told = Told {
        lesson,
        stage,
        behaviour: &behaviour,
        node,
        chat_lessons: &chat_lessons,
    };
    if !stage.nodes.is_empty() {
        return serve_nodes(&args, &told, ctrl_c).await;
    }

    let log = open_database(stage, args.db.as_deref())?;
    let listener = bind(args.host, args.port).await?;
    let addr = listener.local_addr()?;
    let url = format!("http://{}/", crate::live::local_address(addr));

    let (printer, records) = start_printing(&args)?;
    told.announce(
        &args,
        &records,
        &ui::serve::Servers {
            urls: vec![(None, url)],
            redis: None,
        },
    );

    let about = crate::live::tutor::About::of(lesson, stage.number, &behaviour);
    let serving = Serving {
        about,
        mount: stage.mount,
        behaviour: behaviour.clone(),
        bots: args.bots,
        guard: guard(&args, addr, &printer),
        log,
    };
    let ended = crate::live::run(listener, serving, &records, stopping(ctrl_c, &printer)).await?;
    Ok(finish(&printer, ended, "the server has stopped").await)
}

/// What the banner and the listening records say about the lesson served.
struct Told<'a> {
    lesson: &'a crate::lesson::Lesson,
    stage: &'a crate::lesson::Stage,
    behaviour: &'a crate::server::Behaviour,
    node: Option<&'a str>,
    chat_lessons: &'a [u32],
}

impl Told<'_> {
    /// Prints the banner (text), or one listening record per server (JSON Lines).
    fn announce(&self, args: &ServeArgs, records: &Records, servers: &ui::serve::Servers<'_>) {
        let bot_names: Vec<String> = bots::NAMES
            .iter()
            .take(args.bots as usize)
            .map(|n| n.to_string())
            .collect();
        match args.format {
            Format::Json => {
                for (node, url) in &servers.urls {
                    records.print(&Live::Listening {
                        url: url.clone(),
                        lesson: self.lesson.number,
                        stage: self.stage.number,
                        title: self.lesson.title.clone(),
                        on_connection: self.behaviour.on_connection().map(|e| e.js),
                        on_chat: self.behaviour.answering("chat message").map(|e| e.js),
                        bots: bot_names.clone(),
                        node: node.map(str::to_owned),
                    });
                }
            }
            Format::Text => records.printer.out(format!(
                "{}\n",
                ui::serve::header(self.lesson, self.behaviour, self.node, servers, self.chat_lessons)
            )),
        }
    }
}

fn start_printing(args: &ServeArgs) -> anyhow::Result<(Printer, Records)> {
    let printer = Printer::start(args.format == Format::Json)
        .map_err(|e| anyhow::anyhow!("cannot start printing: {e}"))?;
    let records = Records {
        printer: printer.clone(),
        json: args.format == Format::Json,
        started: Instant::now(),
    };
    Ok((printer, records))
}

/// Stop on Ctrl-C, or when stdout is gone (`serve | head` after head has exited).
async fn stopping(ctrl_c: impl Future<Output = ()>, printer: &Printer) -> Stop {
    tokio::select! {
        () = ctrl_c => Stop::Asked,
        why = printer.failed() => Stop::Failed(why),
    }
}

/// The last lines, if the terminal takes them in time (a paused pager does not hold the exit),
/// and the exit status.
async fn finish(printer: &Printer, ended: crate::live::Ended, stopped: &str) -> i32 {
    printer.flush(LAST_LINES).await;
    match ended.why {
        Stop::Failed(why) => {
            anstream::eprintln!("serve: {why}; {stopped}.");
            1
        }
        // 0 when every connection closed within the bound, 1 when some had to be cut.
        Stop::Asked => i32::from(!ended.clean),
    }
}

/// `serve` for a stage with several servers (lesson 7): Redis first (a private one, or
/// `--redis`), then one port per server (`--port` and the ones after it), each with the guards of
/// a one-server `serve`, the chat page and the `/tutor/` pages; the bots spread over them.
async fn serve_nodes(
    args: &ServeArgs,
    told: &Told<'_>,
    ctrl_c: impl Future<Output = ()>,
) -> anyhow::Result<i32> {
    use crate::parts::redis_server::Redis;
    let (lesson, stage) = (told.lesson, told.stage);
    let redis = Redis::start_or_connect(args.redis.as_deref())
        .await
        .map_err(|e| super::NeedsRedis {
            message: format!(
                "lesson {}'s servers need Redis: {}",
                lesson.number,
                crate::runner::redis_hint(&e, lesson.number, stage.number)
            ),
            status: e.exit_status(),
        })?;
    let redis = std::sync::Arc::new(redis);
    let (printer, records) = start_printing(args)?;
    let mut listeners = Vec::new();
    let mut guards = Vec::new();
    for i in 0..stage.nodes.len() {
        // --port 0 lets the system pick every port; otherwise the servers take consecutive ones.
        let port = if args.port == 0 {
            0
        } else {
            args.port.checked_add(i as u16).ok_or_else(|| {
                UsageError(format!(
                    "lesson {} runs {} servers on consecutive ports from --port, and {} leaves no room",
                    lesson.number,
                    stage.nodes.len(),
                    args.port
                ))
            })?
        };
        let listener = bind(args.host, port).await?;
        let addr = listener.local_addr()?;
        guards.push(guard(args, addr, &printer));
        listeners.push(listener);
    }
    let mut urls = Vec::new();
    for (name, listener) in stage.nodes.iter().zip(&listeners) {
        let url = format!("http://{}/", crate::live::local_address(listener.local_addr()?));
        urls.push((Some(name.as_str()), url));
    }
    let private = matches!(redis.as_ref(), Redis::Private(_));
    told.announce(
        args,
        &records,
        &ui::serve::Servers {
            urls,
            redis: Some((redis.url(), private)),
        },
    );
    let serving = Serving {
        about: crate::live::tutor::About::of(lesson, stage.number, told.behaviour),
        mount: stage.mount,
        behaviour: told.behaviour.clone(),
        bots: args.bots,
        guard: guards[0].clone(),
        log: None,
    };
    let shutdown = stopping(ctrl_c, &printer);
    let ended = crate::live::nodes::run(
        listeners,
        guards,
        &stage.nodes,
        serving,
        redis,
        &records,
        shutdown,
    )
    .await?;
    Ok(finish(&printer, ended, "the servers have stopped").await)
}
