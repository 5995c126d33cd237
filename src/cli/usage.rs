//! The usage checks clap cannot make alone, because they need the lessons: a stage named twice
//! (`lesson 2.2 --stage 3`), a stage that does not exist (`--stage 9`), and `--redis` given to a
//! command that would never use it. They run right after parsing, before anything starts, and
//! fail the way clap's own usage errors do: the message, the command's usage line, exit status 2.

use clap::CommandFactory;
use clap::error::{Error, ErrorKind};

use super::lookup::{Place, load_lessons, pick};
use super::{Cli, Command};
use crate::lesson::Lesson;

/// `--redis URL`, checked for its form as clap parses it (`redis://host:port`), so a typo is
/// told before a single stage runs. The URL is kept as typed; the Redis code reads it again.
pub fn parse_redis(text: &str) -> Result<String, String> {
    use crate::parts::redis::{RedisError, parse_url};
    match parse_url(text) {
        Ok(_) => Ok(text.to_owned()),
        Err(RedisError::BadUrl { why, .. }) => Err(format!(
            "{why}\nWrite it as redis://host:port, for example redis://127.0.0.1:6379"
        )),
        Err(other) => Err(other.to_string()),
    }
}

/// Checks the parsed command line against the lessons (see the module documentation).
pub fn check(cli: &Cli) -> Result<(), Error> {
    let Some(command) = &cli.command else {
        return Ok(());
    };
    // The lessons are embedded and validated by the tests; should they not load, the command
    // reports it itself.
    let Ok(lessons) = load_lessons() else {
        return Ok(());
    };
    match command {
        Command::Lesson {
            lesson: place,
            stage,
            display,
            ..
        } => {
            if let (Some(named), Some(flag)) = (place.stage, stage) {
                let n = place.lesson;
                return Err(error(
                    "lesson",
                    ErrorKind::ArgumentConflict,
                    format!(
                        "the stage is given twice, as {n}.{named} and as --stage {flag}\n\
                         Name it once: `realtime-tutor lesson {n}.{named}` or \
                         `realtime-tutor lesson {n} --stage {flag}`"
                    ),
                ));
            }
            let stage = place.stage.or(*stage);
            let (_, stages) = pick(&lessons, place.lesson, stage)
                .map_err(|e| error("lesson", ErrorKind::InvalidValue, e.0))?;
            if display.redis.is_some() && !stages.iter().any(|s| s.needs_redis()) {
                let what = match stage {
                    Some(k) => format!("stage {}.{k}", place.lesson),
                    None => format!("lesson {}", place.lesson),
                };
                return Err(redis_unused("lesson", &what, &lessons));
            }
        }
        Command::Tour { from, display, .. } => {
            let from = from.unwrap_or(Place {
                lesson: lessons.first().map_or(1, |l| l.number),
                stage: None,
            });
            let ahead = lessons
                .iter()
                .flat_map(|l| l.stages.iter().map(move |s| (l.number, s)))
                .skip_while(|(l, s)| (*l, Some(s.number)) < (from.lesson, from.stage))
                .any(|(_, s)| s.needs_redis());
            if display.redis.is_some() && !ahead {
                let what = match from.stage {
                    Some(k) => format!("the tour from stage {}.{k}", from.lesson),
                    None => format!("the tour from lesson {}", from.lesson),
                };
                return Err(redis_unused("tour", &what, &lessons));
            }
        }
        Command::Check { display, .. } if display.redis.is_some() => {
            return Err(error(
                "check",
                ErrorKind::ArgumentConflict,
                "check does not use --redis: your own servers reach their own Redis".to_owned(),
            ));
        }
        Command::Serve(args) if args.redis.is_some() => {
            let needs = lessons
                .iter()
                .find(|l| l.number == args.lesson)
                .and_then(|l| l.stages.iter().find(|s| s.number == l.check_stage))
                .is_some_and(|s| s.needs_redis());
            if !needs {
                let what = format!("lesson {}'s server", args.lesson);
                return Err(redis_unused("serve", &what, &lessons));
            }
        }
        _ => {}
    }
    Ok(())
}

/// `--redis` given where no stage uses it: say which stages do.
fn redis_unused(command: &str, what: &str, lessons: &[Lesson]) -> Error {
    let users: Vec<String> = lessons
        .iter()
        .flat_map(|l| l.stages.iter().map(move |s| (l.number, s)))
        .filter(|(_, s)| s.needs_redis())
        .map(|(l, s)| format!("{l}.{}", s.number))
        .collect();
    error(
        command,
        ErrorKind::ArgumentConflict,
        format!(
            "{what} does not use Redis, so --redis has nothing to do\n\
             The stages that join servers through Redis are {}",
            users.join(", ")
        ),
    )
}

/// A usage error of subcommand `name`, with its usage line, as clap would print it.
fn error(name: &str, kind: ErrorKind, message: String) -> Error {
    let mut cli = Cli::command();
    cli.build();
    match cli.find_subcommand_mut(name) {
        Some(sub) => sub.error(kind, message),
        None => cli.error(kind, message),
    }
}
