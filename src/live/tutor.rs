//! `/tutor/`: a second page on `serve`'s port that draws the live trace as a sequence diagram,
//! as it happens, for browser tabs and bots alike.
//!
//! The page is the browser-side twin of the diagram renderer (`src/ui/diagram.js` and friends,
//! embedded here with `include_str!`), fed by its own channel: `GET /tutor/events` is a chunked
//! response of JSON Lines, the same records `serve --format json` prints, read from the
//! [`Feed`]. It never touches the learner's chat page at `/` (whose socket the page would
//! otherwise show in its own picture).
//!
//! `/tutor/events` follows serve's `Origin` rule (see [`crate::server::guard::origin`]): a request that
//! carries an `Origin` must come from an allowed page. A browser sends none with a same-origin
//! `GET`, so the `Host` the request names must also be one of the server's own addresses (or an
//! `--allow-origin`): a page on a foreign domain that resolves to 127.0.0.1 (DNS rebinding)
//! names its own host there and is refused.
//!
//! When the stage answers events other than `'chat message'` (rooms, acknowledgements), the chat
//! page at `/` gains a control strip (`src/ui/controls.js`) generated from the stage's declared
//! handlers: the events it answers, whether they take an acknowledgement, the rooms it declares.
//! A stage whose only event is the chat keeps `/` exactly as the lesson's server serves it.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::feed::{self, Feed};
use crate::lesson::{Lesson, StepKind};
use crate::server::Behaviour;
use crate::server::app::PAGE;
use crate::server::guard::origin::Allowed;
use crate::vocab::Trigger;

const TUTOR_PAGE: &str = include_str!("../ui/tutor.html");
const DIAGRAM_JS: &str = include_str!("../ui/diagram.js");
const SVG_JS: &str = include_str!("../ui/svg.js");
const FOLLOW_JS: &str = include_str!("../ui/follow.js");
const LIVE_JS: &str = include_str!("../ui/live.js");
const TUTOR_JS: &str = include_str!("../ui/tutor.js");
const CONTROLS_JS: &str = include_str!("../ui/controls.js");

/// The event the chat page's own form sends.
const CHAT: &str = "chat message";

/// One event a tab can send from the control strip, as the stage's handler declares it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Control {
    pub event: String,
    /// Arguments to start from: those a step of the lesson sends, else none.
    pub args: Vec<Value>,
    /// Send it with an acknowledgement callback: the handler answers one, or a step of the
    /// lesson passes one.
    pub ack: bool,
    /// The JavaScript the server runs for it.
    pub js: &'static str,
}

/// What is served, for the pages: the first line of `/tutor/events`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct About {
    pub lesson: u32,
    pub stage: u32,
    pub title: String,
    /// The events the stage answers other than the chat form's, with their controls.
    pub controls: Vec<Control>,
    /// The rooms the stage declares.
    pub rooms: Vec<String>,
    /// The stage answers the chat page's own form ('chat message').
    pub chat: bool,
    /// The namespaces besides `/`, as the stage declares them (`/admin`, or a pattern such as
    /// `/team-{id}`), each with the JavaScript of its middleware if it has one: the page offers
    /// to join them over its connection.
    pub namespaces: Vec<(String, Option<&'static str>)>,
}

impl About {
    /// Reads the controls from the stage's declared handlers and the lesson's steps: never from
    /// the lesson's number.
    /// The stage named is the lesson's stage that runs exactly `behaviour` (with `--broadcast`,
    /// that is another stage than the check stage), else `stage_number` under the lesson's title.
    pub fn of(lesson: &Lesson, stage_number: u32, behaviour: &Behaviour) -> Self {
        let same = lesson.stages.iter().find(|s| s.behaviour == *behaviour);
        let stage_number = same.map_or(stage_number, |s| s.number);
        let stage = same;
        let steps = lesson.stages.iter().flat_map(|s| &s.steps);
        let sent: Vec<(&String, &Vec<Value>, bool)> = steps
            .filter_map(|step| match &step.kind {
                StepKind::Emit { event, args, ack, .. } => Some((event, args, *ack)),
                _ => None,
            })
            .collect();
        let controls = behaviour
            .events()
            .into_iter()
            .filter(|event| *event != CHAT)
            .map(|event| {
                let example = sent.iter().find(|(e, _, _)| *e == event);
                let args = example.map(|(_, a, _)| (*a).clone()).unwrap_or_default();
                let effect = behaviour
                    .effect(&Trigger::Event(event.to_owned()), &args)
                    .ok()
                    .flatten();
                let js = effect.as_ref().map_or("", |e| e.js);
                let answers = effect.is_some_and(|e| e.answers.is_some());
                let asked = sent.iter().any(|(e, _, ack)| *e == event && *ack);
                Control {
                    event: event.to_owned(),
                    args,
                    ack: answers || asked,
                    js,
                }
            })
            .collect();
        Self {
            lesson: lesson.number,
            stage: stage_number,
            title: stage.map_or_else(|| lesson.title.clone(), |s| s.title.clone()),
            controls,
            rooms: stage.map(|s| s.rooms.clone()).unwrap_or_default(),
            chat: behaviour.answering(CHAT).is_some(),
            namespaces: behaviour
                .namespaces()
                .iter()
                .map(|s| (s.path.as_str().to_owned(), s.behaviour.guard().map(|g| g.js)))
                .collect(),
        }
    }

    /// The line `/tutor/events` starts with.
    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct Line<'a> {
            kind: &'static str,
            #[serde(flatten)]
            about: &'a About,
        }
        serde_json::to_string(&Line {
            kind: "serving",
            about: self,
        })
        .unwrap_or_else(|_| "{\"kind\":\"serving\"}".to_owned())
    }
}

#[derive(Clone)]
struct Ctx {
    feed: Feed,
    allowed: Arc<Allowed>,
}

/// The app `serve` runs: the stage's own (the chat page at `/`), with a control strip on it when
/// `about` has controls, plus the `/tutor/` pages.
pub fn app(feed: Feed, allowed: Allowed, about: &About) -> Router {
    let base = if about.controls.is_empty() && about.namespaces.is_empty() {
        crate::server::app::app()
    } else {
        // The chat page, unchanged but for one more script at its end.
        let page: &'static str = Box::leak(
            PAGE.replacen(
                "</body>",
                "  <script type=\"module\" src=\"/tutor/controls.js\"></script>\n</body>",
                1,
            )
            .into_boxed_str(),
        );
        Router::new().route("/", get(move || async move { Html(page) }))
    };
    let ctx = Ctx {
        feed,
        allowed: Arc::new(allowed),
    };
    let about_json = about.json();
    let script = |text: &'static str| get(move || async move { javascript(text) });
    base.route(
        "/tutor",
        get(|| async { axum::response::Redirect::permanent("/tutor/") }),
    )
    .route("/tutor/", get(page))
    .route("/tutor/diagram.js", script(DIAGRAM_JS))
    .route("/tutor/svg.js", script(SVG_JS))
    .route("/tutor/follow.js", script(FOLLOW_JS))
    .route("/tutor/live.js", script(LIVE_JS))
    .route("/tutor/tutor.js", script(TUTOR_JS))
    .route("/tutor/controls.js", script(CONTROLS_JS))
    .route(
        "/tutor/about.json",
        get(move || async move { ([(header::CONTENT_TYPE, "application/json")], about_json) }),
    )
    .route("/tutor/events", get(events).with_state(ctx))
}

/// Only the page's own scripts and styles: a message that got into the page as markup could
/// still not run.
const POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'";

async fn page() -> Response {
    let mut response = Html(TUTOR_PAGE).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn javascript(text: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        text,
    )
        .into_response()
}

/// Why a request for the live records is refused, if it is: see the module documentation.
fn refused(headers: &HeaderMap, allowed: &Allowed) -> Option<String> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes());
        if !allowed.allows(&origin) {
            return Some("this server does not answer pages from that origin".into());
        }
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match host {
        Some(host)
            if allowed.allows(&format!("http://{host}")) || allowed.allows(&format!("https://{host}")) =>
        {
            None
        }
        _ => Some("this server answers requests to its own address only".into()),
    }
}

/// `GET /tutor/events`: the stage line, the backlog, then every record as it happens.
async fn events(State(ctx): State<Ctx>, headers: HeaderMap) -> Response {
    if let Some(why) = refused(&headers, &ctx.allowed) {
        return (StatusCode::FORBIDDEN, format!("{why}\n")).into_response();
    }
    let Some(watching) = ctx.feed.watch() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "the server is stopping\n").into_response();
    };
    let so_far = futures_util::stream::iter(watching.so_far);
    let live = futures_util::stream::unfold(watching.live, |mut live| async move {
        match live.recv().await {
            Ok(record) => Some((record, live)),
            Err(RecvError::Lagged(missed)) => Some((feed::lagged(missed), live)),
            Err(RecvError::Closed) => None,
        }
    });
    let stream = so_far.chain(live).map(Ok::<_, std::convert::Infallible>);
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_servers_own_pages_and_addresses_may_watch() {
        let allowed = Allowed::for_address("127.0.0.1:3000".parse().unwrap(), &[]);
        let headers = |pairs: &[(header::HeaderName, &str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.insert(k.clone(), HeaderValue::from_str(v).unwrap());
            }
            map
        };
        let own = headers(&[(header::HOST, "127.0.0.1:3000")]);
        assert_eq!(refused(&own, &allowed), None);
        let page = headers(&[
            (header::HOST, "localhost:3000"),
            (header::ORIGIN, "http://localhost:3000"),
        ]);
        assert_eq!(refused(&page, &allowed), None);
        let foreign = headers(&[
            (header::HOST, "127.0.0.1:3000"),
            (header::ORIGIN, "https://evil.example"),
        ]);
        assert!(refused(&foreign, &allowed).is_some());
        let rebound = headers(&[(header::HOST, "evil.example:3000")]);
        assert!(refused(&rebound, &allowed).is_some());
        assert!(refused(&HeaderMap::new(), &allowed).is_some());
    }

    #[test]
    fn the_stage_named_is_the_one_that_runs_what_is_served() {
        let lessons = crate::lesson::all().expect("lessons");
        let chat = lessons
            .iter()
            .find(|l| l.check().behaviour.answering(CHAT).is_some())
            .expect("a lesson with a chat");
        let broadcast = chat
            .check()
            .behaviour
            .clone()
            .replacing(CHAT, "broadcast-chat")
            .unwrap();
        let about = About::of(chat, chat.check().number, &broadcast);
        let stage = chat.stages.iter().find(|s| s.behaviour == broadcast);
        match stage {
            Some(stage) => assert_eq!((about.stage, &about.title), (stage.number, &stage.title)),
            None => assert_eq!(about.title, chat.title),
        }
        assert_ne!(
            about.title,
            chat.check().title,
            "not the check stage's title: it runs io.emit"
        );
    }

    #[test]
    fn the_chat_lesson_gets_no_controls_and_the_rooms_lesson_gets_its_events() {
        let lessons = crate::lesson::all().expect("lessons");
        for lesson in &lessons {
            let check = lesson.check();
            let about = About::of(lesson, check.number, &check.behaviour);
            let events: Vec<&str> = about.controls.iter().map(|c| c.event.as_str()).collect();
            let answered: Vec<&str> = check
                .behaviour
                .events()
                .into_iter()
                .filter(|e| *e != CHAT)
                .collect();
            assert_eq!(events, answered, "lesson {}", lesson.number);
        }
        let rooms = lessons
            .iter()
            .find(|l| l.check().behaviour.events().contains(&"join"));
        if let Some(lesson) = rooms {
            let about = About::of(lesson, lesson.check().number, &lesson.check().behaviour);
            assert!(!about.rooms.is_empty());
            assert!(
                about.controls.iter().all(|c| !c.js.is_empty()),
                "{:?}",
                about.controls
            );
        }
        let acks = lessons.iter().find(|l| {
            l.check().behaviour.events().iter().any(|e| {
                l.check()
                    .behaviour
                    .answering(e)
                    .is_some_and(|x| x.answers.is_some())
            })
        });
        if let Some(lesson) = acks {
            let about = About::of(lesson, lesson.check().number, &lesson.check().behaviour);
            assert!(about.controls.iter().any(|c| c.ack), "{:?}", about.controls);
        }
    }
}
