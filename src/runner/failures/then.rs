//! What a connected page does next in lessons 9.7 and 9.8, each settled by the order of
//! packets on one connection.

use std::time::Duration;

use crate::client::page::{self, PageOptions, Report};
use crate::server::stage_config::{ConfiguredServer, Seen};

/// Lesson 9.7: the page emits as soon as it is connected, while the server's connection
/// handler may still be awaiting. Whether that first event found a listener is decided by
/// order, not time: a fence (see [`page::PageSession::fence`]) shows the server has read it,
/// and the echo it would have sent. Then the handler's await ends, and a second emit shows the
/// listener is there by now. Returns socket.io-client's side, one line per emit.
pub(super) async fn emit_on_connect(
    server: &mut ConfiguredServer,
    session: &mut page::PageSession,
    seen: &mut Vec<Seen>,
    text: &str,
    limit: Duration,
) -> Result<Vec<String>, String> {
    let err = |e: page::PageError| e.to_string();
    session.emit_text(text).await.map_err(err)?;
    let mut echoes = session.fence(limit).await.map_err(err)?;
    seen.extend(server.seen_so_far());
    let early = seen
        .iter()
        .any(|s| matches!(s, Seen::Registered { after_await: false }));
    if early && !echoes.iter().any(|e| e == text) {
        // The listener was there: its echo is on its way (the handler runs as its own task).
        echoes = session.wait_echo(text, limit).await.map_err(err)?;
    }
    let first = match echoes.iter().any(|e| e == text) {
        true => format!("'chat message' \"{text}\" → echoed"),
        false => format!("'chat message' \"{text}\" → no echo: it came before the listener, and was dropped"),
    };
    server.open_gate();
    while !seen.iter().any(|s| matches!(s, Seen::Registered { .. })) {
        match server.next_seen(limit).await {
            Some(more) => seen.push(more),
            None => return Err(format!("the server registered no listener within {limit:?}")),
        }
    }
    let again = format!("{text}, again");
    session.emit_text(&again).await.map_err(err)?;
    session.wait_echo(&again, limit).await.map_err(err)?;
    Ok(vec![first, format!("'chat message' \"{again}\" → echoed")])
}

/// Lesson 9.8: the page's connection breaks, socket.io-client reconnects (a new session, and
/// `connect` fires again), and the server's echo of one message arrives once. The page's code
/// registered its listener inside `socket.on('connect')` (`in_connect`) or once outside it: the
/// first runs it once per `connect` so far. Returns socket.io-client's side and the second
/// session's exchanges.
pub(super) async fn reconnect_and_echo(
    server: &mut ConfiguredServer,
    session: &mut page::PageSession,
    options: &PageOptions,
    seen: &mut Vec<Seen>,
    text: &str,
    in_connect: bool,
    limit: Duration,
) -> Result<(Vec<String>, Vec<page::Exchange>), String> {
    // The connection breaks: the WebSocket's TCP connection ends without a goodbye.
    drop(session.websocket.take());
    seen.extend(server.seen_so_far());
    while !seen.iter().any(|s| matches!(s, Seen::Disconnected { .. })) {
        match server.next_seen(limit).await {
            Some(more) => seen.push(more),
            None => {
                return Err(format!(
                    "the server did not see the connection end within {limit:?}"
                ));
            }
        }
    }
    let again = page::connect(session.authority(), options)
        .await
        .map_err(|e| e.to_string())?;
    let Some(mut second) = again.session else {
        return Err(format!("the reconnection failed: {}", again.report.line()));
    };
    // The page's `connect` events so far: the first session's, and this one's.
    let connects = 1 + usize::from(matches!(again.report, Report::Connect { .. }));
    second.emit_text(text).await.map_err(|e| e.to_string())?;
    let echoes = second.wait_echo(text, limit).await.map_err(|e| e.to_string())?;
    let arrived = echoes.iter().filter(|e| *e == text).count();
    let listeners = if in_connect { connects } else { 1 };
    let runs = arrived * listeners;
    let times = |n: usize| {
        if n == 1 {
            "1 time".to_owned()
        } else {
            format!("{n} times")
        }
    };
    let reconnected = match &again.report {
        Report::Connect { transport } => {
            format!("connect (transport: {transport}): 'connect' fires a second time")
        }
        other => other.line(),
    };
    seen.extend(server.seen_so_far());
    Ok((
        vec![
            "disconnect: transport close (the connection broke); it reconnects".to_owned(),
            reconnected,
            format!(
                "'chat message' \"{text}\" → echoed, {}; the page's listener ran {}",
                if arrived == 1 {
                    "one packet".to_owned()
                } else {
                    format!("{arrived} packets")
                },
                times(runs)
            ),
        ],
        again.exchanges,
    ))
}
