//! `check N --url URL`: play lesson N's scenario against the learner's own server and judge it.

use super::diagram::{Pending, SvgTarget};
use super::{Display, Format, UsageError, load_lessons};
use crate::check::{self, Where};
use crate::runner::{self, BeforeStep, RunError, RunOptions, StepHook, Target};
use crate::trace::{ProbeOutcome, StageTrace, StepRecord, json};
use crate::ui;

/// `realtime-tutor check N --url URL [--path PATH] [--svg FILE]`. Returns 0 on PASS, 1 on FAIL.
pub async fn check(
    number: u32,
    urls: &[String],
    path: &str,
    display: &Display,
    svg: Option<&SvgTarget>,
) -> anyhow::Result<i32> {
    let lessons = load_lessons()?;
    let lesson = super::lookup::lesson(&lessons, number)?;
    let stage = lesson.check();
    let wanted = stage.nodes.len().max(1);
    if urls.len() != wanted {
        return Err(UsageError(format!(
            "lesson {number}'s check plays against {wanted} server{}{}, so it takes {wanted} --url, not {}",
            if wanted == 1 { "" } else { "s" },
            if stage.nodes.is_empty() {
                String::new()
            } else {
                format!(" ({}, in that order)", stage.nodes.join(", "))
            },
            urls.len()
        ))
        .into());
    }
    let (base, addr) = super::check_args::parse_url(&urls[0]).map_err(UsageError)?;
    let more = urls[1..]
        .iter()
        .map(|u| super::check_args::parse_url(u).map(|(base, _)| base))
        .collect::<Result<Vec<_>, _>>()
        .map_err(UsageError)?;
    let path = super::check_args::parse_path(path).map_err(UsageError)?;
    let diagram = svg.map(Pending::open).transpose()?;
    // With `--svg -` the SVG is all that goes to standard output.
    let quiet = SvgTarget::is_stdout(svg);

    if display.format == Format::Text && !quiet {
        out!("{}", ui::check_intro(lesson, stage, &base, &path))?;
    }
    let target = Target::Remote {
        url: base.clone(),
        more,
        path: path.clone(),
        expect_within: check::EXPECT_WITHIN,
        quiet: check::QUIET,
    };
    let options = RunOptions {
        wire: display.wire,
        timeout: check::CONNECT_TIMEOUT,
        transports: display.transports(),
        ..RunOptions::default()
    };
    let observed =
        runner::run_stage_observed(lesson, stage, &target, &options, &mut StopWhenUnreachable).await;
    // The run returns every step that ran, also when it stopped early; a stop this command asked
    // for is not the server's failure, the probe's record says what it found.
    let error = observed.error.filter(|error| !matches!(error, RunError::Stopped));
    // The server's text is cut once, here, so the trace, the verdict and the JSON show the same.
    let trace = check::shown::trace(StageTrace {
        clients: clients_shown(&observed.trace.steps),
        ..observed.trace
    });
    let place = Where {
        addr,
        path: path.clone(),
    };
    let mut verdict = check::judge(lesson, stage, &trace.steps, error.as_ref(), &place);
    check::discovery::diagnose(&mut verdict, &base, &place).await;
    let verdict = check::shown::verdict(verdict);
    if let Some(diagram) = diagram {
        diagram.write(std::slice::from_ref(&trace))?;
    }

    match display.format {
        _ if quiet => {}
        Format::Json => {
            for step in &trace.steps {
                outln!("{}", json::step_line(step))?;
            }
            let verdict = check::verdict_json(lesson, stage, &base, &path, &verdict);
            outln!("{}", json::to_string(&verdict)?)?;
        }
        Format::Text => {
            if !trace.steps.is_empty() {
                out!("{}", ui::check_trace_heading())?;
                out!("{}", ui::stage_trace(&trace))?;
            }
            outln!()?;
            out!("{}", ui::verdict(&verdict))?;
        }
    }
    Ok(if verdict.passed() { 0 } else { 1 })
}

/// Stops the scenario once a probe finds nothing to talk to: the later steps would only wait for
/// the same silence.
#[derive(Debug)]
struct StopWhenUnreachable;

impl StepHook for StopWhenUnreachable {
    fn after(&mut self, _step: &BeforeStep<'_>, records: &[StepRecord]) -> Result<(), RunError> {
        if records.iter().any(check::unreachable) {
            return Err(RunError::Stopped);
        }
        Ok(())
    }
}

/// The clients check's trace names (their names set the width of its columns), in the order
/// they joined, read from the records: a connect step's client, or a probe's that reached
/// Socket.IO. The runner's own list differs in two ways: it leaves out a probe's client, as the
/// lessons' traces do, and it names a client that connected in a step that then failed, which no
/// record shows. Check's trace keeps to what its records show.
fn clients_shown(records: &[StepRecord]) -> Vec<String> {
    let mut joined: Vec<String> = Vec::new();
    for record in records {
        let connected = match &record.probe {
            Some(probe) => probe.outcome == ProbeOutcome::SocketIo,
            None => record.kind == crate::trace::Kind::Connect,
        };
        if let Some(who) = record.sender.as_ref().filter(|_| connected)
            && !joined.contains(who)
        {
            joined.push(who.clone());
        }
    }
    joined
}
