//! `--format json`, held to its documented shape.
//!
//! `book/src/trace.schema.json` describes every line `lesson`, `tour`, `check` and `list` print
//! with `--format json`, with every object closed (`additionalProperties: false`), so a field
//! the program starts printing without documenting it fails here. The README's tables (between
//! its `json_format` anchors, which the book's reference includes) must name exactly the fields
//! the schema names, so the prose cannot drift from the schema either.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;

use realtime_tutor::lesson::Stage;
use realtime_tutor::parts::store::Store;
use realtime_tutor::server::handlers::delivery::Log;
use realtime_tutor::server::{Behaviour, Mount, StageServer};
use serde_json::{Value, json};

use crate::common::{COMMAND_LIMIT, lessons, run_bounded, runtime};

/// The schema file, parsed.
fn schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/book/src/trace.schema.json");
    let text = std::fs::read_to_string(path).expect("book/src/trace.schema.json");
    serde_json::from_str(&text).expect("the schema is JSON")
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&schema()).expect("the schema is a valid JSON Schema")
}

/// A validator for one kind of line alone (`step`, `verdict`, `list_lesson`): its errors name
/// the field, where the whole schema's `oneOf` can only say that no kind of line fits.
fn kind_validator(def: &str) -> jsonschema::Validator {
    let whole = schema();
    let one = json!({"$defs": whole["$defs"], "$ref": format!("#/$defs/{def}")});
    jsonschema::validator_for(&one).expect("a valid JSON Schema")
}

/// Why `line` does not fit the schema, one reason per line; empty when it fits.
fn problems(validator: &jsonschema::Validator, line: &Value) -> Vec<String> {
    if validator.is_valid(line) {
        return Vec::new();
    }
    // Which kind of line it meant to be, by the field only that kind has.
    let def = match line {
        l if l.get("verdict").is_some() => "verdict",
        l if l.get("stages").is_some() => "list_lesson",
        l if l.get("doctor").is_some() => "doctor",
        l if l.get("measure").is_some() => "measure",
        _ => "step",
    };
    let mut found: Vec<String> = kind_validator(def)
        .iter_errors(line)
        .map(|e| format!("{e} (at `{}`)", e.instance_path()))
        .collect();
    if found.is_empty() {
        found.push("fits no kind of line".to_owned());
    }
    found
}

/// Runs the binary with a private progress folder and returns its standard output.
fn tutor(args: &[&str]) -> String {
    let out = run_bounded(
        Command::new(env!("CARGO_BIN_EXE_realtime-tutor"))
            .args(args)
            .env_remove("CLICOLOR_FORCE")
            .env("NO_COLOR", "1")
            .env(
                "REALTIME_TUTOR_HOME",
                concat!(env!("CARGO_TARGET_TMPDIR"), "/json-schema-progress"),
            ),
        COMMAND_LIMIT,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Every line of `output` parsed, and checked against the schema; the lines are returned.
fn assert_every_line_fits(what: &str, output: &str) -> Vec<Value> {
    let validator = validator();
    let mut lines = Vec::new();
    let mut wrong = Vec::new();
    for (i, text) in output.lines().enumerate() {
        let line: Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{what}, line {}: not JSON ({e}): {text}", i + 1));
        let found = problems(&validator, &line);
        if !found.is_empty() {
            wrong.push(format!("line {}: {}\n  {}", i + 1, found.join("\n  "), text));
        }
        lines.push(line);
    }
    assert!(!lines.is_empty(), "{what} printed nothing");
    assert!(
        wrong.is_empty(),
        "{what}: {} of {} lines do not fit book/src/trace.schema.json (document the field in the \
         README's JSON tables and the schema, or stop printing it):\n{}",
        wrong.len(),
        lines.len(),
        wrong.join("\n")
    );
    lines
}

#[test]
fn every_line_of_the_tour_fits_the_schema_with_and_without_wire() {
    let stages: usize = lessons().iter().map(|l| l.stages.len()).sum();
    let mut seen = BTreeSet::new();
    for wire in [false, true] {
        let mut args = vec!["tour", "--no-pause", "--format", "json"];
        if wire {
            args.push("--wire");
        }
        let lines = assert_every_line_fits(&args.join(" "), &tutor(&args));
        // Every stage of every lesson printed something, so nothing escaped the check.
        let played: BTreeSet<(u64, u64)> = lines
            .iter()
            .map(|l| (l["lesson"].as_u64().unwrap(), l["stage"].as_u64().unwrap()))
            .collect();
        assert_eq!(played.len(), stages, "{args:?} played {played:?}");
        assert_eq!(
            lines.iter().any(|l| l.get("wire").is_some()),
            wire,
            "{args:?}: `wire` appears exactly with --wire"
        );
        seen.extend(lines.iter().flat_map(|l| l.as_object().unwrap().keys().cloned()));
    }
    // And the schema names no field the lessons never print: each appears somewhere in the
    // tour, except `ignored`, which only `check` prints (see the check test).
    let schema = schema();
    let named: BTreeSet<String> = schema["$defs"]["step"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "ignored")
        .cloned()
        .collect();
    let never: Vec<&String> = named.difference(&seen).collect();
    assert!(never.is_empty(), "no line of the tour has {never:?}");
}

#[test]
fn list_lines_fit_the_schema() {
    let lines = assert_every_line_fits("list --format json", &tutor(&["list", "--format", "json"]));
    assert_eq!(lines.len(), lessons().len());
}

/// A stage's server on a free port, with a database of its own in a temporary folder when the
/// stage stores messages (the folder goes when the returned guard is dropped).
fn start(rt: &tokio::runtime::Runtime, stage: &Stage) -> (StageServer, tempfile::TempDir) {
    let folder = tempfile::tempdir().unwrap();
    let log = stage.database.then(|| -> Log {
        Arc::new(Store::open(&folder.path().join("messages.sqlite3")).expect("a new database"))
    });
    let server = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        StageServer::start_with_log(stage.mount, stage.behaviour.clone(), Some(listener), log).unwrap()
    });
    (server, folder)
}

/// `check N --format json` against the lesson's own check server (every lesson that runs one
/// server; lesson 7's pair is checked against Node in `scaling.rs`), against a server that
/// makes the lesson's mistake, and against nothing at all: the step lines and the verdict line
/// fit the schema, pass or fail.
#[test]
fn check_lines_fit_the_schema_pass_or_fail() {
    let rt = runtime();
    let mut checked = 0;
    let mut verdicts = BTreeSet::new();
    for lesson in lessons() {
        let right = lesson.check();
        if !right.nodes.is_empty() {
            continue;
        }
        // The right server, and the lesson's first other stage that listens on a port: the
        // lesson's classic mistake (or, for lesson 1, a server without Socket.IO), which fails.
        let mut servers = vec![right];
        servers.extend(
            lesson
                .stages
                .iter()
                .find(|s| s.number != right.number && s.mount != Mount::AppOnly),
        );
        for stage in servers {
            // A fresh server for each run: a storing stage (lesson 6) would otherwise replay the
            // first run's messages to the second run's clients.
            for wire in [false, true] {
                let (server, _folder) = start(&rt, stage);
                let url = format!("http://{}", server.addr().expect("a listening server"));
                let n = lesson.number.to_string();
                let mut args = vec!["check", n.as_str(), "--url", url.as_str(), "--format", "json"];
                if wire {
                    args.push("--wire");
                }
                let what = format!(
                    "check {n} against stage {n}.{}'s server, wire {wire}",
                    stage.number
                );
                let lines = assert_every_line_fits(&what, &tutor(&args));
                let verdict = lines.last().unwrap()["verdict"]
                    .as_str()
                    .expect("a verdict line last");
                if stage.number == right.number {
                    assert_eq!(verdict, "pass", "{what}: the lesson's own server passes");
                }
                verdicts.insert(verdict.to_owned());
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} checks ran");
    assert_eq!(verdicts, BTreeSet::from(["fail".to_owned(), "pass".to_owned()]));
    // A server that does lessons 2 and 3 at once: check 3 passes, and the 'hi's it does not
    // judge are listed as `ignored`.
    let both = Behaviour::default()
        .with("connection", "broadcast-hi")
        .and_then(|b| b.with("chat message", "io-emit-chat"))
        .expect("two known handlers");
    let server = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        StageServer::start(Mount::Realtime, both, Some(listener)).unwrap()
    });
    let url = format!("http://{}", server.addr().unwrap());
    let lines = assert_every_line_fits(
        "check 3 against lessons 2 and 3 at once",
        &tutor(&["check", "3", "--url", &url, "--format", "json"]),
    );
    assert_eq!(lines.last().unwrap()["verdict"], "pass");
    assert!(
        lines.iter().any(|l| l.get("ignored").is_some()),
        "no line has `ignored`"
    );
    drop(server);
    // Nothing listening: a verdict with no step before it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let lines = assert_every_line_fits(
        "check against nothing",
        &tutor(&["check", "2", "--url", &url, "--format", "json"]),
    );
    assert_eq!(lines.last().unwrap()["verdict"], "fail");
}

/// The schema can fail: a real line passes, and the same line with a field too many, a field
/// missing, or a value of the wrong shape (at the top or nested) does not.
#[test]
fn the_schema_rejects_what_it_does_not_name() {
    let validator = validator();
    let output = tutor(&["lesson", "4", "--stage", "1", "--format", "json", "--wire"]);
    let lines: Vec<Value> = output.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rooms = lines
        .iter()
        .find(|l| l["audience"].is_object())
        .expect("lesson 4.1 emits to a room")
        .clone();
    assert_eq!(problems(&validator, &rooms), Vec::<String>::new(), "{rooms}");
    let mut spoiled = Vec::new();
    let mut with = |change: &dyn Fn(&mut Value)| {
        let mut line = rooms.clone();
        change(&mut line);
        spoiled.push(line);
    };
    with(&|l| l["extra"] = json!(1));
    with(&|l| {
        l.as_object_mut().unwrap().remove("received");
    });
    with(&|l| l["audience"] = json!({"rooms": "a"}));
    with(&|l| l["audience"] = json!({"room": ["a"]}));
    with(&|l| l["audience"] = json!("everybody"));
    with(&|l| l["kind"] = json!("leave"));
    with(&|l| l["wire"][0]["extra"] = json!(true));
    with(&|l| l["received"]["alice"] = json!([{"event": "hi", "args": [], "at": 1}]));
    with(&|l| l["step"] = json!(0));
    for line in spoiled {
        assert!(!validator.is_valid(&line), "the schema accepted {line}");
    }
    let verdict = json!({"verdict": "pass", "lesson": 1, "stage": 3, "url": "http://127.0.0.1:3000",
        "path": "/socket.io/", "summary": "ok", "findings": [], "found": []});
    assert!(validator.is_valid(&verdict));
    let mut more = verdict.clone();
    more["score"] = json!(1);
    assert!(!validator.is_valid(&more), "the schema accepted {more}");
}

/// The README's JSON section, between its anchors.
fn readme_json_section() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("<!-- ANCHOR: json_format -->")
        .expect("the json_format anchor");
    let end = readme.find("<!-- ANCHOR_END: json_format -->").expect("its end");
    readme[start..end].to_owned()
}

/// The Markdown tables of `text`, each as its rows (header and rule left out), each row as its
/// cells.
fn tables(text: &str) -> Vec<Vec<Vec<String>>> {
    let mut out: Vec<Vec<Vec<String>>> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        let Some(inner) = line.strip_prefix('|').and_then(|l| l.strip_suffix('|')) else {
            open = false;
            continue;
        };
        let cells: Vec<String> = inner.split(" | ").map(|c| c.trim().to_owned()).collect();
        if !open {
            out.push(Vec::new());
            open = true;
        } else if !cells[0].starts_with("---") {
            out.last_mut().unwrap().push(cells);
        }
    }
    out
}

/// The words between backticks in `text`, with JSON quotes taken off (`"everyone"`).
fn code_words(text: &str) -> BTreeSet<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(|w| w.trim_matches('"').to_owned())
        .collect()
}

/// The property names of a schema definition, and every property name and string value
/// nested in it (following `$ref`s into `$defs`).
fn names_within(schema: &Value, def: &Value, top: &mut BTreeSet<String>, nested: &mut BTreeSet<String>) {
    fn walk(schema: &Value, node: &Value, out: &mut BTreeSet<String>, seen: &mut BTreeSet<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let name = r.trim_start_matches("#/$defs/").to_owned();
                    if seen.insert(name.clone()) {
                        walk(schema, &schema["$defs"][&name], out, seen);
                    }
                }
                if let Some(Value::Object(props)) = map.get("properties") {
                    out.extend(props.keys().cloned());
                }
                if let Some(Value::Array(values)) = map.get("enum") {
                    out.extend(values.iter().filter_map(Value::as_str).map(str::to_owned));
                }
                for (key, value) in map {
                    if key != "$ref" && key != "enum" {
                        walk(schema, value, out, seen);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(schema, v, out, seen)),
            _ => {}
        }
    }
    top.extend(def["properties"].as_object().unwrap().keys().cloned());
    let mut seen = BTreeSet::new();
    walk(schema, &def["properties"], nested, &mut seen);
}

/// `doctor --format json`'s object fits the schema (its tests run real deployments:
/// `doctor.rs`, `doctor_nginx.rs`).
pub fn assert_doctor_fits(line: &Value) {
    let found = problems(&validator(), line);
    assert!(
        found.is_empty(),
        "doctor's JSON does not fit book/src/trace.schema.json:\n{}\n{line}",
        found.join("\n")
    );
}

/// Each kind of line has its table in the README, in the schema's order: step, verdict, list,
/// doctor, measure.
/// A table's first column names exactly the line's fields, and every nested field and every
/// fixed string value the schema allows appears in that table, in backticks.
#[test]
fn the_readme_tables_name_exactly_the_schema_fields() {
    let schema = schema();
    let section = readme_json_section();
    let tables = tables(&section);
    let defs = ["step", "verdict", "list_lesson", "doctor", "measure"];
    let mut problems = Vec::new();
    if tables.len() != defs.len() {
        problems.push(format!(
            "the section should have {} tables, one per kind of line ({}), in that order; it has {}",
            defs.len(),
            defs.join(", "),
            tables.len()
        ));
    }
    for (def_name, rows) in defs.iter().zip(&tables) {
        let (mut fields, mut nested) = (BTreeSet::new(), BTreeSet::new());
        names_within(&schema, &schema["$defs"][def_name], &mut fields, &mut nested);
        let documented: BTreeSet<String> = rows.iter().flat_map(|r| code_words(&r[0])).collect();
        for missing in fields.difference(&documented) {
            problems.push(format!(
                "{def_name}: `{missing}` is in the schema but not in the README's table"
            ));
        }
        for extra in documented.difference(&fields) {
            problems.push(format!(
                "{def_name}: `{extra}` is in the README's table but not in the schema"
            ));
        }
        let words: BTreeSet<String> = rows
            .iter()
            .flat_map(|r| r.iter().flat_map(|c| code_words(c)))
            .collect();
        let text: String = rows.iter().flatten().cloned().collect::<Vec<_>>().join(" ");
        for name in nested.difference(&fields) {
            // A nested name appears as a word in backticks, or as a key inside an example.
            if !words.contains(name) && !text.contains(&format!("\"{name}\"")) {
                problems.push(format!(
                    "{def_name}: `{name}` (nested) is not mentioned in its table"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "README.md, \"The JSON trace format\":\n{}",
        problems.join("\n")
    );
}
