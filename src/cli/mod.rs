//! The command line: definitions (clap derive) and dispatch. Each command lives in its own file
//! (`lessons.rs`, `predict.rs` with `predict/`, `reset.rs`, `check.rs` with its `--url`/`--path`
//! parsing in `check_args.rs`, `serve.rs`), beside the one lesson look-up (`lookup.rs`) and the
//! terminal handling (`terminal.rs`); `src/main.rs` only turns the result into an exit status.
//!
//! Exit statuses: see [`EXIT_STATUSES`], which the man page prints and the help sums up.

// First, so that its macros (`outln!`, `out!`) are in scope in the modules below.
#[macro_use]
mod out;

mod check;
mod check_args;
mod diagram;
mod doctor;
mod generate;
mod lessons;
mod lookup;
mod missing;
mod predict;
mod reset;
mod serve;
mod shared_redis;
mod terminal;
mod usage;

use std::io::IsTerminal;

use clap::{Args, Parser, Subcommand, ValueEnum};

// The commands reach these as `super::…`, and clap's attributes name the parsers.
use lookup::{Place, load_lessons, parse_lesson, parse_place, parse_stage};

/// See how real-time web servers deliver messages.
///
/// realtime-tutor runs Socket.IO lessons live: each stage starts a real server on 127.0.0.1,
/// connects simulated clients that speak the real protocol, and prints who received what, next
/// to the Node.js code being taught and the Rust code that is running.
///
/// Help is wrapped to the terminal, and to 80 columns at most, like everything the tutor prints.
#[derive(Debug, Parser)]
#[command(name = "realtime-tutor", version, about, long_about = None, after_help = AFTER_HELP,
          max_term_width = 80)]
pub struct Cli {
    /// Without a command, on a terminal: predict mode, continuing at the first unfinished stage.
    #[command(subcommand)]
    pub command: Option<Command>,
}

// The paragraphs after the list of options are printed as they are, not wrapped: they are
// written to fit 80 columns.
const AFTER_HELP: &str = "\
Start with `realtime-tutor` alone: predict what each key step does, watch it
run, and pick up where you left off next time. `realtime-tutor tour` shows
everything without questions; `realtime-tutor list` shows the lessons.

Exit status: 0 done; 1 an error, or a failed check; 2 a usage error; 3 some
stages could not run because a part is missing (the tutor says what to add).
Shell completions and a man page: `realtime-tutor completions SHELL`, and
`realtime-tutor man` (see `realtime-tutor help completions`).";

/// What `lesson` and `tour` end their help with.
const RUN_EXIT_STATUS: &str = "\
Exit status: 0 every stage ran; 1 an error (the message says which); 2 a
usage error; 3 some stages could not run because a part is missing: they are
named at the end, with what to install (redis-server, for 7.2 and 7.3).";

/// What `check` ends its help with.
const CHECK_EXIT_STATUS: &str = "\
Exit status: 0 your server behaves as the lesson teaches; 1 it does not, or it
cannot be reached; 2 a usage error.";

/// Every exit status, for the man page (and for whoever reads this code).
pub(crate) const EXIT_STATUSES: &[(i32, &str)] = &[
    (
        0,
        "The command ran to its end; for check, your server passed; for doctor, nothing is \
         in the way of io().",
    ),
    (
        1,
        "Something went wrong while running, and the message says what; for check, your \
         server failed the check or could not be reached; for doctor, a problem was found or \
         the server could not be reached.",
    ),
    (
        2,
        "A usage error: an unknown command, flag, lesson or stage, a flag the command cannot \
         use, or predict mode (or reset without --yes) without a terminal.",
    ),
    (
        missing::EXIT_MISSING_PART,
        "Some stages could not run because a part is missing (redis-server, for lesson 7's \
         Redis stages). The others ran; the missing ones are named at the end, with what to \
         install.",
    ),
    (130, "Predict mode was stopped with Ctrl-C (128 + SIGINT)."),
    (
        141,
        "Standard output was closed by its reader, as in realtime-tutor tour | head \
         (128 + SIGPIPE).",
    ),
];

/// Options every lesson-running command shares.
#[derive(Debug, Clone, Default, Args)]
pub struct Display {
    /// When to use colour (also honours NO_COLOR, CLICOLOR and CLICOLOR_FORCE).
    #[command(flatten)]
    pub color: colorchoice_clap::Color,
    /// Also show what each client sent and received on the wire: every Engine.IO packet, the
    /// HTTP long-polling requests and the upgrade to WebSocket.
    #[arg(long, global = true)]
    pub wire: bool,
    /// Output format: readable text, or JSON Lines (one object per step).
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub format: Format,
    /// For the stages that join two servers through Redis: use this Redis
    /// (redis://host:port, Redis 6 or later) instead of starting a private redis-server.
    #[arg(long, value_name = "URL", global = true, value_parser = usage::parse_redis)]
    pub redis: Option<String>,
    /// How the tutor's clients connect, as socket.io-client's `transports` option: the default
    /// is what a page's `io()` does (long-polling, then the upgrade to WebSocket); `websocket`
    /// is `io({ transports: ['websocket'] })`, for a server that allows only WebSocket. A
    /// lesson step that names its client's transports keeps them. [possible values: polling,
    /// websocket]
    #[arg(long, value_enum, value_delimiter = ',', global = true, hide_possible_values = true,
          default_values_t = [TransportArg::Polling, TransportArg::Websocket])]
    pub transports: Vec<TransportArg>,
    /// `lesson --clients N` (lesson 10's extra audience), carried to the run; not an option of
    /// every command.
    #[arg(skip)]
    pub clients: Option<u64>,
}

impl Display {
    /// The transports the clients use: `--transports`, or what `io()` does when none is named
    /// (a `Display` made in code rather than parsed has none).
    pub fn transports(&self) -> Vec<crate::client::Transport> {
        if self.transports.is_empty() {
            return crate::runner::RunOptions::default().transports;
        }
        self.transports.iter().map(|t| t.transport()).collect()
    }
}

/// A stage needs Redis and there is none (or it went away): the message says what to do, and
/// the exit status is the one [`crate::parts::redis::RedisError::exit_status`] gives (3 when
/// redis-server is not installed).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct NeedsRedis {
    pub message: String,
    pub status: i32,
}

/// The output formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the lessons and their stages.
    List {
        #[command(flatten)]
        color: colorchoice_clap::Color,
        /// Output format: readable text, or JSON Lines (one object per lesson).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run one lesson, stage by stage.
    #[command(after_help = RUN_EXIT_STATUS)]
    Lesson {
        /// The lesson, or one of its stages: 2 or 2.2 (see `realtime-tutor list`).
        #[arg(value_name = "N[.K]", value_parser = parse_place)]
        lesson: Place,
        /// Run only stage K of the lesson (`lesson 2 --stage 2` is `lesson 2.2`).
        #[arg(long, value_name = "K", value_parser = parse_stage)]
        stage: Option<u32>,
        /// Do not pause between stages (the default when not on a terminal).
        #[arg(long)]
        no_pause: bool,
        /// Predict mode: before each key step, say what you expect (who receives it? will it
        /// connect?), then watch it run and see how you did. Saves your progress.
        #[arg(long, conflicts_with = "no_pause")]
        predict: bool,
        /// Also draw the run as a sequence diagram (SVG) into FILE; `-` prints only the SVG.
        #[arg(long, value_name = "FILE", value_parser = diagram::SvgTarget::parse, conflicts_with = "predict")]
        svg: Option<diagram::SvgTarget>,
        /// Lesson 10: also measure one io.emit to N clients (10000 needs about 10,100 open
        /// files; the tutor raises its soft limit as far as the hard limit allows).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=50_000))]
        clients: Option<u64>,
        #[command(flatten)]
        display: Display,
    },
    /// Run all lessons in order.
    #[command(after_help = RUN_EXIT_STATUS)]
    Tour {
        /// Start at lesson N, or at stage N.K, and go on from there.
        #[arg(long, value_name = "N[.K]", value_parser = parse_place)]
        from: Option<Place>,
        /// Do not pause between stages (the default when not on a terminal).
        #[arg(long)]
        no_pause: bool,
        #[command(flatten)]
        display: Display,
    },
    /// Forget all progress (finished stages and prediction scores), after asking.
    Reset {
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Check your own server: play lesson N's scenario against it and judge what arrives.
    // The exit statuses follow the options, as for the other commands; `--redis` is hidden
    // (and refused): a check plays against your servers, which bring their own Redis.
    #[command(after_help = CHECK_EXIT_STATUS, mut_arg("redis", |a| a.hide(true)))]
    Check {
        /// The lesson whose exercise your server solves (see `realtime-tutor list`).
        #[arg(value_parser = parse_lesson)]
        lesson: u32,
        /// Where your server listens, e.g. http://127.0.0.1:3000. A lesson with two servers
        /// (lesson 7) takes one --url for each, in order: --url A --url B.
        #[arg(long, required = true)]
        url: Vec<String>,
        /// Where Socket.IO is mounted on your server (its `path` option).
        #[arg(long, default_value = "/socket.io/")]
        path: String,
        /// Also draw what your server did as a sequence diagram (SVG) into FILE; `-` prints only
        /// the SVG (the exit status still gives the verdict).
        #[arg(long, value_name = "FILE", value_parser = diagram::SvgTarget::parse)]
        svg: Option<diagram::SvgTarget>,
        #[command(flatten)]
        display: Display,
    },
    /// Run a lesson's server for your own browser, with a live trace, until Ctrl-C.
    Serve(serve::ServeArgs),
    /// Diagnose a Socket.IO deployment: probe URL as a page's io() would.
    ///
    /// Prints a checklist (reachable, Socket.IO at the path, protocol and handshake, CORS, the
    /// WebSocket and the upgrade, sticky sessions, the namespace, round-trip times); each
    /// failing line names its cause, its fix, and the lesson stage that shows it live.
    ///
    /// It sends only to URL, about twenty requests: handshakes, a CORS preflight, two
    /// WebSockets, and 3 polling sessions of 4 or 5 requests each; no scanning. Each request is
    /// bounded to 2 s and 64 KiB of body, the whole run to 10 s.
    #[command(after_help = doctor::DOCTOR_AFTER_HELP)]
    Doctor(doctor::DoctorArgs),
    /// Print a completion script for your shell: bash, zsh, fish, powershell or elvish.
    #[command(hide = true, after_help = generate::INSTALL_COMPLETIONS)]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output.
    #[command(hide = true, after_help = generate::INSTALL_MAN)]
    Man,
    /// Lesson 10's clients, in a process apart from the server it measures (the tutor starts
    /// this itself; see src/runner/fanout/apart.rs).
    #[command(hide = true)]
    FanoutClients {
        /// The server's address, `127.0.0.1:PORT`.
        addr: std::net::SocketAddr,
        /// How many clients to connect.
        #[arg(value_parser = clap::value_parser!(u64).range(1..=50_000))]
        clients: u64,
    },
}

/// A transport, as `--transports` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransportArg {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    Websocket,
}

impl TransportArg {
    fn transport(self) -> crate::client::Transport {
        match self {
            Self::Polling => crate::client::Transport::Polling,
            Self::Websocket => crate::client::Transport::WebSocket,
        }
    }
}

/// A mistake in how the tutor was called: exit status 2, like clap's own usage errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Runs the command line and returns the process exit status.
pub fn main() -> i32 {
    let cli = Cli::parse();
    // What clap cannot see alone (is there such a stage? does it use --redis?), checked before
    // anything runs, and told the way clap tells its own usage errors.
    if let Err(error) = usage::check(&cli) {
        let _ = error.print();
        return error.exit_code();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            warn(format_args!("error: cannot start the async runtime: {e}"));
            return 1;
        }
    };
    // The last line may still sit in standard output's buffer: flushing it here is where a
    // full disk or a closed pipe shows for a command that printed little. Not for `serve`: it
    // prints through its own thread, which gives its last lines a bounded time itself, and which
    // may still be blocked on a paused pager while holding standard output's lock, so a flush
    // here would wait for a reader that may never come.
    let flush_at_exit = !matches!(cli.command, Some(Command::Serve(_)));
    let outcome = runtime.block_on(run(cli)).and_then(|code| {
        if flush_at_exit {
            out::flush().map(|()| code).map_err(anyhow::Error::from)
        } else {
            Ok(code)
        }
    });
    match outcome {
        Ok(code) => code,
        Err(error) => {
            if let Some(write) = error.downcast_ref::<out::StdoutError>()
                && write.is_closed_pipe()
            {
                return out::CLOSED_PIPE_STATUS;
            }
            let code = if error.downcast_ref::<UsageError>().is_some() {
                2
            } else if let Some(redis) = error.downcast_ref::<NeedsRedis>() {
                redis.status
            } else {
                1
            };
            warn(format_args!("error: {error:#}"));
            code
        }
    }
}

/// Writes a line to standard error. If even that fails (stderr closed or on a full disk),
/// there is nowhere left to say so: the exit status still tells.
/// Prints a message on standard error, each line wrapped at spaces to fit the width there (a
/// long line continues two columns in), so an error reads whole in a narrow terminal too.
pub(crate) fn warn(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let width = crate::ui::layout::stderr_width();
    let mut text = String::new();
    for line in args.to_string().lines() {
        for piece in crate::ui::layout::wrap(line, "", "  ", width) {
            text.push_str(&piece);
            text.push('\n');
        }
    }
    let _ = anstream::stderr().lock().write_all(text.as_bytes());
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    let Some(command) = cli.command else {
        return predict::resume().await;
    };
    match command {
        Command::List { color, format } => {
            color.write_global();
            lessons::list(format)
        }
        Command::Lesson {
            lesson,
            stage,
            no_pause: _,
            predict: true,
            svg: _,
            clients,
            mut display,
        } => {
            display.color.write_global();
            display.clients = clients;
            // `usage::check` has made sure the stage is given at most once.
            predict::lesson(lesson.lesson, lesson.stage.or(stage), &display).await
        }
        Command::Lesson {
            lesson,
            stage,
            no_pause,
            predict: false,
            svg,
            clients,
            mut display,
        } => {
            display.color.write_global();
            display.clients = clients;
            let pause = pausing(no_pause, &display) && svg.is_none();
            let stage = lesson.stage.or(stage);
            lessons::lesson(lesson.lesson, stage, pause, &display, svg.as_ref()).await
        }
        Command::Tour {
            from,
            no_pause,
            display,
        } => {
            display.color.write_global();
            lessons::tour(from, pausing(no_pause, &display), &display).await
        }
        Command::Reset { yes } => reset::reset(yes),
        Command::Check {
            lesson,
            url,
            path,
            svg,
            display,
        } => {
            display.color.write_global();
            check::check(lesson, &url, &path, &display, svg.as_ref()).await
        }
        Command::Serve(args) => serve::serve(args).await,
        Command::Doctor(args) => doctor::doctor(args).await,
        Command::Completions { shell } => generate::completions(shell),
        Command::Man => generate::man(),
        Command::FanoutClients { addr, clients } => {
            Ok(crate::runner::fanout::clients_process(addr, clients as usize).await)
        }
    }
}

/// Pauses only make sense for a person reading text on a terminal.
fn pausing(no_pause: bool, display: &Display) -> bool {
    !no_pause
        && display.format == Format::Text
        && std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
