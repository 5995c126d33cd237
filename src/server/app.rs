//! The app: `const app = express();`
//!
//! An Express app is a function from requests to responses. It does not open a port and it
//! knows nothing about WebSockets; it only decides what each request gets. axum's [`Router`] is
//! the same kind of thing: a value that can answer a request handed to it, and that nobody calls
//! until a server is put in front of it (see [`super::http`]).

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

/// The page every stage serves at `/`: a minimal chat in the spirit of the official Socket.IO
/// tutorial. It loads the browser client from `/socket.io/socket.io.js`, as a learner's own page
/// would.
pub const PAGE: &str = include_str!("page.html");

/// The official Socket.IO browser client (`socket.io-client`, MIT licence), shipped inside the
/// binary so that `serve` works offline and right after `cargo install`. Node's socket.io serves
/// this file itself; socketioxide does not, so the tutor does (see [`super::realtime`]).
pub const CLIENT_SCRIPT: &str = include_str!("../../assets/socket.io.min.js");

// ANCHOR: app
/// `const app = express(); app.get('/', (req, res) => res.sendFile('index.html'));`
pub fn app() -> Router {
    Router::new().route("/", get(index))
}

async fn index() -> Html<&'static str> {
    Html(PAGE)
}
// ANCHOR_END: app

/// `GET /socket.io/socket.io.js`: the browser client script.
pub async fn client_script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/javascript; charset=utf-8")],
        CLIENT_SCRIPT,
    )
}
