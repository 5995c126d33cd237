//! The sequence diagrams: the committed ones match what the code draws from the snapshot tests'
//! traces, each is valid XML holding every client and every delivered event of its trace, text
//! from a trace stays text, `--svg` works on the command line, and a real browser renders them.
//!
//! The committed diagrams live in `book/src/diagrams/lesson-L-stage-S.svg`, one per stage of
//! every lesson, and the book includes them. When the drawing code or a trace changes on
//! purpose, redraw them with `REALTIME_TUTOR_UPDATE_DIAGRAMS=1` (or `INSTA_UPDATE=always`, which
//! accepts the text snapshots too) and review the diff; a new lesson's diagrams appear the same
//! way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use realtime_tutor::server::{Behaviour, Mount, StageServer};
use realtime_tutor::trace::{Delivery, Kind, StageTrace, StepRecord};
use realtime_tutor::ui::diagram::{self, describe};

use crate::common::{COMMAND_LIMIT, run_all, run_bounded, runtime};

/// Where the committed diagrams live.
pub fn diagrams_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/diagrams")
}

fn file_name(trace: &StageTrace) -> String {
    format!("lesson-{}-stage-{}.svg", trace.lesson, trace.stage)
}

fn updating() -> bool {
    std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always")
        || std::env::var("REALTIME_TUTOR_UPDATE_DIAGRAMS").is_ok_and(|v| v == "1")
}

/// Called by the snapshot test with the very traces it checks: each stage's committed diagram
/// must be exactly what the current code draws, and no diagram may be left for a stage that no
/// longer exists. With the update variable set, the files are rewritten (or removed) instead.
pub fn assert_committed(traces: &[StageTrace]) {
    let dir = diagrams_dir();
    let update = updating();
    if update {
        std::fs::create_dir_all(&dir).expect("the diagrams folder");
    }
    let mut problems = Vec::new();
    let mut wanted = Vec::new();
    for trace in traces {
        let name = file_name(trace);
        let path = dir.join(&name);
        let drawn = diagram::stage_svg(trace);
        wanted.push(name.clone());
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == drawn => {}
            _ if update => std::fs::write(&path, &drawn).expect("write a diagram"),
            Ok(_) => problems.push(format!("{name} differs from what the code draws now")),
            Err(e) => problems.push(format!("{name} cannot be read: {e}")),
        }
    }
    let entries = std::fs::read_dir(&dir).into_iter().flatten();
    for entry in entries {
        let name = entry
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".svg") && !wanted.contains(&name) {
            if update {
                std::fs::remove_file(dir.join(&name)).expect("remove a stale diagram");
            } else {
                problems.push(format!("{name} belongs to no stage"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "book/src/diagrams:\n{}\nIf the change is intended, redraw them with \
         REALTIME_TUTOR_UPDATE_DIAGRAMS=1 cargo test --test suite snapshots, and review the diff.",
        problems.join("\n")
    );
}

/// The text of every `<text>` element, with its class, in document order.
fn texts(svg: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not valid XML: {e}\n{svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert_eq!(
        doc.root_element().tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let own: String = n
                .descendants()
                .filter(|d| d.is_text() && !d.ancestors().any(|a| a.has_tag_name("title")))
                .filter_map(|d| d.text())
                .collect();
            (n.attribute("class").unwrap_or_default().to_owned(), own)
        })
        .collect()
}

/// Every `<text>`'s whole text: its tooltip (`<title>`) where the label was shortened, else
/// what it shows.
fn whole_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).expect("valid XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let title = n.children().find(|c| c.has_tag_name("title"));
            match title {
                Some(title) => title.descendants().filter_map(|d| d.text()).collect(),
                None => n.descendants().filter_map(|d| d.text()).collect(),
            }
        })
        .collect()
}

/// How many elements of `tag` with exactly `class` the SVG holds.
fn count(svg: &str, tag: &str, class: &str) -> usize {
    let doc = roxmltree::Document::parse(svg).expect("valid XML");
    doc.descendants()
        .filter(|n| n.has_tag_name(tag) && n.attribute("class") == Some(class))
        .count()
}

#[test]
fn every_diagram_is_xml_with_every_client_and_every_delivered_event() {
    let traces = runtime().block_on(run_all());
    for trace in &traces {
        let svg = diagram::stage_svg(trace);
        let where_ = format!("lesson {} stage {}", trace.lesson, trace.stage);
        let texts = texts(&svg);
        let lanes: Vec<&str> = texts
            .iter()
            .filter(|(c, _)| c == "rtd-name")
            .map(|(_, t)| t.as_str())
            .collect();
        for client in &trace.clients {
            assert!(
                lanes.contains(&client.as_str()),
                "{where_}: no lane for {client}: {lanes:?}"
            );
        }
        let labels: Vec<&str> = texts
            .iter()
            .filter(|(c, _)| c == "rtd-label")
            .map(|(_, t)| t.as_str())
            .collect();
        let mut delivered = 0;
        let mut missed = 0;
        for step in &trace.steps {
            for inbox in step.received.values() {
                for d in inbox {
                    delivered += 1;
                    let shown = describe(&d.event, &d.args);
                    assert!(
                        labels.iter().any(|l| l.ends_with(&shown)),
                        "{where_}: {shown} is delivered but not drawn: {labels:?}"
                    );
                }
            }
            missed += step.not_received_by.len();
        }
        assert_eq!(
            count(&svg, "line", "rtd-deliver"),
            delivered,
            "{where_}: one arrow per delivery"
        );
        let crosses = texts
            .iter()
            .filter(|(c, t)| c == "rtd-no rtd-label" && t.starts_with("not delivered"))
            .count();
        assert_eq!(crosses, missed, "{where_}: one mark per client left out");
        // A reason is drawn exactly where the trace holds one, and it is the trace's own words.
        let reasons: Vec<String> = trace
            .steps
            .iter()
            .flat_map(|step| {
                step.not_received_by
                    .iter()
                    .filter_map(|name| step.why_not.get(name).cloned())
            })
            .collect();
        // A label too long for the lane is shortened, with its whole text as the tooltip: the
        // reason is read from the whole text.
        let whole = whole_texts(&svg);
        let drawn: Vec<&String> = whole
            .iter()
            .filter(|t| t.starts_with("not delivered") && t.ends_with(')'))
            .collect();
        assert_eq!(
            drawn.len(),
            reasons.len(),
            "{where_}: one reason per reason the trace holds"
        );
        for (text, why) in drawn.iter().zip(&reasons) {
            assert!(
                text.ends_with(&format!("({why})")),
                "{where_}: {text:?} is not the trace's reason {why:?}"
            );
        }
    }
    let lessons: Vec<u32> = traces.iter().map(|t| t.lesson).collect();
    assert!(lessons.contains(&2) && lessons.contains(&3));
    // A whole lesson is valid XML too.
    let lesson3: Vec<StageTrace> = traces.iter().filter(|t| t.lesson == 3).cloned().collect();
    assert!(texts(&diagram::stages_svg(&lesson3)).len() > 20);
}

fn emit(step: u32, sender: &str, event: &str, text: &str, received: &[(&str, bool)]) -> StepRecord {
    let mut record = StepRecord::new(3, 2, step, Kind::Emit, format!("{sender} emits '{event}'"));
    record.sender = Some(sender.into());
    record.event = Some(event.into());
    record.args = vec![text.into()];
    record.action = Some("socket.broadcast.emit('chat message', msg)".into());
    for (who, got) in received {
        let inbox = if *got {
            vec![Delivery {
                event: event.into(),
                args: record.args.clone(),
                nsp: None,
            }]
        } else {
            record.not_received_by.push((*who).into());
            Vec::new()
        };
        record.received.insert((*who).into(), inbox);
    }
    record
}

#[test]
fn markup_in_a_trace_stays_text_and_a_reason_is_drawn_only_when_held() {
    let evil = [
        "<script>alert(1)</script>",
        "]]><b>bold</b><![CDATA[",
        "\"double\" 'single' & {{#include x}}",
        "bell\u{7} esc\u{1b}[31m rtl\u{202e}",
        "ls\u{2028}ps\u{2029}alm\u{61c}",
    ];
    let name = "<i>eve</i>\"";
    let mut steps = Vec::new();
    for (i, text) in evil.iter().enumerate() {
        steps.push(emit(
            i as u32 + 1,
            "alice",
            "chat <message>",
            text,
            &[("alice", false), (name, true)],
        ));
    }
    steps[0].why_not = BTreeMap::from([("alice".to_owned(), "the sender <u>".to_owned())]);
    let trace = StageTrace {
        lesson: 3,
        stage: 2,
        title: "</title><script>\u{1b}\u{2028}".into(),
        clients: vec!["alice".into(), name.into()],
        steps,
        measure: None,
    };
    let svg = diagram::stage_svg(&trace);
    let doc = roxmltree::Document::parse(&svg).expect("valid XML");
    for bad in ["script", "b", "i", "u"] {
        assert!(
            !doc.descendants().any(|n| n.has_tag_name(bad)),
            "a <{bad}> element:\n{svg}"
        );
    }
    assert!(!svg.contains("{{#"), "an mdBook directive survived");
    let all: String = texts(&svg).into_iter().map(|(_, t)| t + "\n").collect();
    for text in &evil[..3] {
        assert!(
            all.contains(&serde_json::to_string(text).unwrap()),
            "{text} is not shown as text:\n{all}"
        );
    }
    // JSON already escapes control characters in arguments; what it leaves (a bidirectional
    // override or mark, the line and paragraph separators) and raw text elsewhere (the title)
    // are written as visible escapes, as the terminal output writes them.
    assert!(all.contains(r#""bell\u0007 esc\u001b[31m rtl\u{202e}""#), "{all}");
    assert!(all.contains(r#""ls\u{2028}ps\u{2029}alm\u{61c}""#), "{all}");
    assert!(all.contains("</title><script>\\u{1b}\\u{2028}"), "{all}");
    for raw in ['\u{61c}', '\u{202e}', '\u{2028}', '\u{2029}'] {
        assert!(!svg.contains(raw), "U+{:04X} is written raw", u32::from(raw));
    }
    assert!(all.contains(name), "{all}");
    let crosses: Vec<&str> = all.lines().filter(|l| l.starts_with("not delivered")).collect();
    assert_eq!(
        crosses,
        [
            "not delivered: 'chat <message>' (the sender <u>)",
            "not delivered: 'chat <message>'",
            "not delivered: 'chat <message>'",
            "not delivered: 'chat <message>'",
            "not delivered: 'chat <message>'",
        ]
    );
}

#[test]
fn two_hundred_drawings_of_one_trace_are_byte_identical() {
    // The runs themselves are compared 200 times in determinism.rs; this is the drawing alone.
    let traces = runtime().block_on(run_all());
    let first = diagram::stages_svg(&traces);
    for run in 2..=200 {
        assert_eq!(diagram::stages_svg(&traces), first, "drawing {run} differs");
    }
}

fn tutor(args: &[&str]) -> (Option<i32>, String, String) {
    let out = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE"),
        COMMAND_LIMIT,
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn lesson_svg_writes_the_diagram_the_book_shows() {
    // `-`: the SVG alone on standard output, the committed file byte for byte.
    let (code, stdout, stderr) = tutor(&["lesson", "2", "--stage", "2", "--svg", "-"]);
    assert_eq!(code, Some(0), "{stderr}");
    let committed = std::fs::read_to_string(diagrams_dir().join("lesson-2-stage-2.svg")).unwrap();
    assert_eq!(stdout, committed);
    // A file: the usual trace on standard output, the whole lesson in the file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lesson-3.svg");
    let (code, stdout, stderr) = tutor(&["lesson", "3", "--no-pause", "--svg", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("Live trace"), "{stdout}");
    let svg = std::fs::read_to_string(&file).unwrap();
    let headings: Vec<String> = texts(&svg)
        .into_iter()
        .filter(|(c, _)| c == "rtd-title")
        .map(|(_, t)| t)
        .collect();
    assert_eq!(headings.len(), 2, "both stages of lesson 3: {headings:?}");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["lesson-3.svg"], "no temporary file is left behind");
}

#[test]
fn an_svg_that_cannot_be_written_is_a_clear_error_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder/x.svg");
    for (target, says) in [
        (missing.to_str().unwrap(), "cannot write the diagram to"),
        (dir.path().to_str().unwrap(), "it is a folder"),
    ] {
        let (code, stdout, stderr) = tutor(&["lesson", "2", "--svg", target]);
        assert_eq!(code, Some(1), "{stdout}{stderr}");
        assert!(stderr.contains(says) && stderr.contains(target), "{stderr}");
        assert!(stdout.is_empty(), "nothing ran: {stdout}");
    }
    let (code, _, stderr) = tutor(&["lesson", "2", "--svg", ""]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--svg needs a file name"), "{stderr}");
}

#[test]
fn check_svg_draws_what_the_learners_server_did() {
    // A server that broadcasts where lesson 3 asks for io.emit: the check fails, and the
    // diagram shows alice left out (with no reason: someone else's server tells us none).
    let rt = runtime();
    let server = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let behaviour = Behaviour::default()
            .with("chat message", "broadcast-chat")
            .unwrap();
        StageServer::start(Mount::Realtime, behaviour, Some(listener)).unwrap()
    });
    let url = format!("http://{}", server.addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("check.svg");
    let out = crate::check::check(&["3", "--url", &url, "--svg", file.to_str().unwrap()]);
    out.assert_fails(&["FAIL"]);
    let svg = std::fs::read_to_string(&file).unwrap();
    let texts = texts(&svg);
    assert!(
        texts.iter().any(|(_, t)| t == "not delivered: 'chat message'"),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|(_, t)| t == "'chat message' \"hi everyone\""),
        "{texts:?}"
    );
    // `-`: only the SVG on standard output; the exit status still gives the verdict.
    let out = crate::check::check(&["3", "--url", &url, "--svg", "-"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(
        out.stdout.starts_with("<svg ") && out.stdout.ends_with("</svg>\n"),
        "{out}"
    );
    rt.block_on(server.stop());
    // Nothing listening: no step completes, and the diagram says that rather than nothing.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = crate::check::check(&["3", "--url", &format!("http://127.0.0.1:{port}"), "--svg", "-"]);
    assert_eq!(out.code, Some(1), "{out}");
    let empty = self::texts(&out.stdout);
    let said = empty
        .iter()
        .any(|(_, t)| t == "nothing was observed: no step completed");
    assert!(said, "{empty:?}");
}

/// Headless Chromium renders every committed diagram (screenshots under `test-artifacts/`), and
/// the browser-side renderer draws the same diagrams from the JSON records
/// (`tests/browser/diagrams.mjs`). Needs what `bash scripts/test.sh` installs.
#[test]
fn a_real_browser_renders_the_diagrams() {
    crate::common::run_browser_test(&["diagrams.mjs"], Duration::from_secs(120));
}
