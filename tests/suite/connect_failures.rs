//! Lesson 9: each page's `io()` against a server configured to turn it away ends the way the
//! lesson says, and the parts it stands on (the page's CORS rule, the proxy) behave as taught.

use realtime_tutor::client::page::{self, PageOptions, Report};
use realtime_tutor::lesson::StepKind;
use realtime_tutor::runner::{self, RunOptions, Target};
use realtime_tutor::server::proxy::{Proxy, Upgrades};
use realtime_tutor::server::stage_config::{ConfiguredServer, ServerConfig};

use crate::common::{lessons, runtime};

/// Every attempt step's trace has socket.io-client's line, and it says what the step expects.
#[test]
fn each_attempt_reports_what_the_lesson_expects() {
    let lesson = lessons()
        .iter()
        .find(|l| l.slug == "connect-failures")
        .expect("lesson 9");
    runtime().block_on(async {
        for stage in &lesson.stages {
            let trace = runner::run_stage(lesson, stage, &Target::Local, &RunOptions::default())
                .await
                .unwrap_or_else(|e| panic!("9.{}: {e}", stage.number));
            for (step, record) in stage.steps.iter().zip(&trace.steps) {
                let StepKind::Attempt(attempt) = &step.kind else {
                    continue;
                };
                let probe = record.probe.as_ref().expect("an attempt leaves a probe record");
                assert!(
                    attempt.reported(&probe.observed),
                    "9.{} {}: expected {:?}, the trace says {:?}",
                    stage.number,
                    attempt.client,
                    attempt.expect,
                    probe.observed
                );
            }
        }
    });
}

async fn server(config: &ServerConfig) -> ConfiguredServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    ConfiguredServer::start(config, listener).expect("the server starts")
}

/// Without `cors`, the server answers the page's handshake (a session opens) and the browser
/// withholds it; with `cors: { origin }` naming another origin, likewise; naming the page's,
/// the page connects.
#[test]
fn the_browser_hands_the_page_only_answers_that_name_its_origin() {
    runtime().block_on(async {
        let page_origin = "http://localhost:5173";
        for (allowed, connects) in [
            (None, false),
            (Some("http://localhost:8080"), false),
            (Some(page_origin), true),
        ] {
            let config = ServerConfig {
                cors_origin: allowed.map(str::to_owned),
                ..ServerConfig::default()
            };
            let server = server(&config).await;
            let options = PageOptions {
                origin: Some(page_origin.to_owned()),
                ..PageOptions::default()
            };
            let attempt = page::connect(&server.addr().to_string(), &options)
                .await
                .expect("plays");
            assert_eq!(attempt.exchanges[0].status, 200, "the server answers either way");
            match connects {
                true => assert!(
                    matches!(attempt.report, Report::Connect { .. }),
                    "{:?}",
                    attempt.report
                ),
                false => assert_eq!(
                    attempt.report,
                    Report::ConnectError {
                        message: "xhr poll error".into(),
                        description: 0
                    },
                    "allowed {allowed:?}"
                ),
            }
            server.stop().await;
        }
    });
}

/// Behind a proxy that drops `Upgrade` the page connects and stays on polling; behind one that
/// forwards it, the session moves onto the WebSocket.
#[test]
fn a_proxy_that_drops_upgrade_keeps_the_page_on_polling() {
    runtime().block_on(async {
        for (upgrades, transport) in [(Upgrades::Dropped, "polling"), (Upgrades::Forwarded, "websocket")] {
            let server = server(&ServerConfig::default()).await;
            let proxy = Proxy::start(server.addr(), upgrades)
                .await
                .expect("the proxy starts");
            let attempt = page::connect(&proxy.addr().to_string(), &PageOptions::default())
                .await
                .expect("plays");
            match &attempt.report {
                Report::Connect { transport: t } => assert_eq!(t.name(), transport, "{upgrades:?}"),
                other => panic!("{upgrades:?}: {other:?}"),
            }
            proxy.stop().await;
            server.stop().await;
        }
    });
}
