//! Namespaces and connect middleware (lesson 8): `io.of('/admin')`, `io.use`, `socket.data`, and
//! namespaces made on demand.
//!
//! A namespace is a separate set of sockets, handlers and rooms on one server. A client reaches
//! it through the same Engine.IO session as its other namespaces (socket.io-client's Manager
//! multiplexes them), and an emit made in one namespace never reaches another's sockets:
//!
//! | JavaScript                          | socketioxide                              | reaches                    |
//! |-------------------------------------|-------------------------------------------|----------------------------|
//! | `io.emit(…)`                        | `io.emit(…)`                              | the sockets of `/`          |
//! | `io.of('/admin').emit(…)`           | `io.of("/admin")?.emit(…)`                | the sockets of `/admin`     |
//! | `socket.nsp.emit(…)`                | `io.of(socket.ns())?.emit(…)`             | the sockets of its namespace |
//! | `io.of('/admin').use(fn)`           | `io.ns("/admin", handler.with(fn))`       | runs before each CONNECT    |
//! | `socket.data.name = …`              | `socket.extensions.insert(Name(…))`       | kept with the socket        |
//!
//! A *middleware* runs when a client asks to join a namespace, before the socket exists for
//! the namespace's handlers. It either lets the client in (`next()` in Node, `Ok(())` here) or
//! refuses it: the client gets a CONNECT_ERROR packet with the error's message, and the
//! namespace's connection handler never runs. Node's error may carry `data` too
//! (`err.data = {…}`), which the client reads as `err.data`; socketioxide 0.18 sends the message
//! only (its CONNECT_ERROR is built from the error's `Display`).
//!
//! Each middleware is a type too, like the handlers ([`Guard`]), listed by [`guards`].

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::{Adapter, LocalAdapter};
use socketioxide::extract::SocketRef;

use super::broadcast::{Sent, msg};
use super::{Call, Failed, Handle, Handler, registry};
use crate::vocab::{Audience, Effect, Namespace};

/// This file's handlers, as the registry lists them.
pub fn handlers<A: Adapter>() -> Vec<Handler<A>> {
    registry![A; OfAdminAnnounce, WelcomeAdmin, ChatAsName, NspEmitChat]
}

/// The namespace lesson 8's announcements go to.
pub const ADMIN: &str = "/admin";

/// `io.of('/admin').emit('announcement', msg)` for each `announce (msg)`, from any namespace.
#[derive(Debug)]
pub struct OfAdminAnnounce {
    msg: Value,
}

impl Handle for OfAdminAnnounce {
    const NAME: &'static str = "of-admin-announce";
    const ON: &'static str = "announce";
    const ANCHOR: &'static str = "of_admin_announce";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self { msg: msg(args)? })
    }

    fn effect(&self) -> Effect {
        let js = "io.of('/admin').emit('announcement', msg)";
        Effect::emits(js, "announcement", vec![self.msg.clone()], Audience::Everyone)
            .in_namespace(Namespace::Of(ADMIN.to_owned()))
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(of_admin_announce(&call.io, self.msg).await?)
    }
}

// ANCHOR: of_admin_announce
/// `socket.on('announce', (msg) => {
///   io.of('/admin').emit('announcement', msg);
/// });`
///
/// `io.of('/admin')` is the admin namespace's own broadcast: every socket
/// connected to `/admin`, and no other. A client with a socket on `/` and
/// one on `/admin` gets it once, on the admin socket. socketioxide's `io.of`
/// answers `None` for a namespace the server does not have, where Node
/// would create it.
pub async fn of_admin_announce<A: Adapter>(io: &SocketIo<A>, msg: Value) -> Sent {
    match io.of(ADMIN) {
        Some(admin) => admin.emit("announcement", &msg).await,
        None => Ok(()),
    }
}
// ANCHOR_END: of_admin_announce

/// `socket.emit('welcome', 'admin')` when a socket joins `/admin`.
#[derive(Debug)]
pub struct WelcomeAdmin;

impl Handle for WelcomeAdmin {
    const NAME: &'static str = "welcome-admin";
    const ON: &'static str = "connection";
    const ANCHOR: &'static str = "welcome_admin";

    fn parse(_: &[Value]) -> Result<Self, String> {
        Ok(Self)
    }

    fn effect(&self) -> Effect {
        let js = "socket.emit('welcome', 'admin')";
        Effect::emits(js, "welcome", vec![Value::from("admin")], Audience::OnlySender)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(welcome_admin(&call.socket)?)
    }
}

// ANCHOR: welcome_admin
/// `admin.on('connection', (socket) => {
///   socket.emit('welcome', 'admin');
/// });`
///
/// It runs only for a socket the middleware let in: a refused client never
/// gets here.
pub fn welcome_admin<A: Adapter>(socket: &SocketRef<A>) -> Result<(), socketioxide::SendError> {
    socket.emit("welcome", "admin")
}
// ANCHOR_END: welcome_admin

/// `io.emit('chat message', `${socket.data.name}: ${msg}`)` for each chat message.
#[derive(Debug)]
pub struct ChatAsName {
    msg: Value,
    /// `socket.data.name`, once read from the socket (see [`Handle::read_socket`]).
    name: Option<String>,
}

impl Handle for ChatAsName {
    const NAME: &'static str = "chat-as-name";
    const ON: &'static str = "chat message";
    const ANCHOR: &'static str = "chat_as_name";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self {
            msg: msg(args)?,
            name: None,
        })
    }

    fn read_socket<A: Adapter>(&mut self, socket: &SocketRef<A>) {
        self.name = socket.extensions.get::<Name>().map(|n| n.0);
    }

    /// [`NameFromAuth`] keeps `auth.name` as `socket.data.name`.
    fn read_auth(&mut self, auth: &Value) {
        self.name = auth.get("name").and_then(Value::as_str).map(str::to_owned);
    }

    fn effect(&self) -> Effect {
        let js = "io.emit('chat message', `${socket.data.name}: ${msg}`)";
        let name = self.name.as_deref().unwrap_or("${socket.data.name}");
        let text = format!("{name}: {}", text_of(&self.msg));
        Effect::emits(js, "chat message", vec![Value::from(text)], Audience::Everyone)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(chat_as_name(&call.io, &call.socket, &self.msg).await?)
    }
}

/// A message as a template literal writes it: a string as it is, anything else as JSON.
fn text_of(msg: &Value) -> String {
    match msg {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `socket.data.name`: what the [`NameFromAuth`] middleware keeps with the socket.
#[derive(Debug, Clone)]
pub struct Name(pub String);

// ANCHOR: chat_as_name
/// `socket.on('chat message', (msg) => {
///   io.emit('chat message', `${socket.data.name}: ${msg}`);
/// });`
///
/// The name is not in the message: the middleware put it in `socket.data`
/// when the client connected, from its `auth`, and every handler of that
/// socket can read it. socketioxide keeps such data in `socket.extensions`,
/// a map from a type to a value.
pub async fn chat_as_name<A: Adapter>(io: &SocketIo<A>, socket: &SocketRef<A>, msg: &Value) -> Sent {
    let name = socket.extensions.get::<Name>();
    let name = name.map(|n| n.0).unwrap_or_default();
    io.emit("chat message", &format!("{name}: {}", text_of(msg)))
        .await
}
// ANCHOR_END: chat_as_name

/// `socket.nsp.emit('chat message', msg)`: a chat inside the namespace the socket is in.
#[derive(Debug)]
pub struct NspEmitChat {
    msg: Value,
}

impl Handle for NspEmitChat {
    const NAME: &'static str = "nsp-emit-chat";
    const ON: &'static str = "chat message";
    const ANCHOR: &'static str = "nsp_emit_chat";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self { msg: msg(args)? })
    }

    fn effect(&self) -> Effect {
        let js = "socket.nsp.emit('chat message', msg)";
        Effect::emits(js, "chat message", vec![self.msg.clone()], Audience::Everyone)
            .in_namespace(Namespace::Senders)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(nsp_emit_chat(&call.io, &call.socket, self.msg).await?)
    }
}

// ANCHOR: nsp_emit_chat
/// `teams.on('connection', (socket) => {
///   socket.on('chat message', (msg) => {
///     socket.nsp.emit('chat message', msg);
///   });
/// });`
///
/// `socket.nsp` is the namespace the socket joined: `/team-red` for a
/// client of `io('/team-red')`. socketioxide names it `socket.ns()`, and
/// `io.of` finds its sockets.
pub async fn nsp_emit_chat<A: Adapter>(io: &SocketIo<A>, socket: &SocketRef<A>, msg: Value) -> Sent {
    match io.of(socket.ns()) {
        Some(team) => team.emit("chat message", &msg).await,
        None => Ok(()),
    }
}
// ANCHOR_END: nsp_emit_chat

/// Why a middleware refused a client: the message socket.io-client reads as `err.message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One connect middleware, as a type: `io.use(fn)` or `io.of(nsp).use(fn)`.
pub trait Guard: Send + Sync + 'static {
    /// The name a lesson lists it by, e.g. `require-token`.
    const NAME: &'static str;
    /// The ANCHOR of its body, shown beside the JavaScript.
    const ANCHOR: &'static str;
    /// The JavaScript it mirrors, as the trace names it.
    const JS: &'static str;
    /// Lets the client in (keeping what it needs in `socket.data`), or refuses it.
    fn check<A: Adapter>(socket: &SocketRef<A>, auth: &Value) -> Result<(), Refusal>;
}

/// A middleware as the engine sees it, whatever its type, for adapter `A`.
pub struct Middleware<A: Adapter = LocalAdapter> {
    /// [`Guard::NAME`].
    pub name: &'static str,
    /// [`Guard::JS`].
    pub js: &'static str,
    /// The source file of its code, as the compiler names it, and [`Guard::ANCHOR`].
    pub file: &'static str,
    pub anchor: &'static str,
    /// [`Guard::check`]: lets the socket in, or refuses it.
    pub check: fn(&SocketRef<A>, &Value) -> Result<(), Refusal>,
}

impl<A: Adapter> Middleware<A> {
    fn of<G: Guard>(file: &'static str) -> Self {
        Self {
            name: G::NAME,
            js: G::JS,
            file,
            anchor: G::ANCHOR,
            check: G::check::<A>,
        }
    }
}

impl<A: Adapter> Clone for Middleware<A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A: Adapter> Copy for Middleware<A> {}

impl<A: Adapter> std::fmt::Debug for Middleware<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Middleware")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Every connect middleware, for adapter `A`, each with the path of its file.
pub fn guards<A: Adapter>() -> Vec<Middleware<A>> {
    vec![
        Middleware::of::<RequireToken>(file!()),
        Middleware::of::<NameFromAuth>(file!()),
    ]
}

/// The middleware called `name`, for adapter `A`.
pub fn find_guard<A: Adapter>(name: &str) -> Option<Middleware<A>> {
    guards().into_iter().find(|m| m.name == name)
}

/// Lets in only a client whose `auth.token` is the right one.
#[derive(Debug)]
pub struct RequireToken;

impl Guard for RequireToken {
    const NAME: &'static str = "require-token";
    const ANCHOR: &'static str = "require_token";
    const JS: &'static str = "io.of('/admin').use(requireToken)";

    fn check<A: Adapter>(_socket: &SocketRef<A>, auth: &Value) -> Result<(), Refusal> {
        require_token(auth)
    }
}

/// The token lesson 8's admins send (a lesson, not a secret).
pub const ADMIN_TOKEN: &str = "letmein";

// ANCHOR: require_token
/// `io.of('/admin').use((socket, next) => {
///   if (socket.handshake.auth.token === 'letmein') next();
///   else next(new Error('not authorized'));
/// });`
///
/// The middleware runs before the socket joins the namespace. An error
/// refuses the client: it gets a CONNECT_ERROR with the message, and the
/// connection handler never runs. (socketioxide sends the message only;
/// Node also sends an `err.data` the code sets.)
pub fn require_token(auth: &Value) -> Result<(), Refusal> {
    match auth.get("token").and_then(Value::as_str) {
        Some(ADMIN_TOKEN) => Ok(()),
        _ => Err(Refusal("not authorized".into())),
    }
}
// ANCHOR_END: require_token

/// Keeps the client's `auth.name` as `socket.data.name`, and refuses a client without one.
#[derive(Debug)]
pub struct NameFromAuth;

impl Guard for NameFromAuth {
    const NAME: &'static str = "name-from-auth";
    const ANCHOR: &'static str = "name_from_auth";
    const JS: &'static str = "io.use(nameFromAuth)";

    fn check<A: Adapter>(socket: &SocketRef<A>, auth: &Value) -> Result<(), Refusal> {
        name_from_auth(socket, auth)
    }
}

// ANCHOR: name_from_auth
/// `io.use((socket, next) => {
///   const name = socket.handshake.auth.name;
///   if (!name) return next(new Error('name required'));
///   socket.data.name = name;
///   next();
/// });`
pub fn name_from_auth<A: Adapter>(socket: &SocketRef<A>, auth: &Value) -> Result<(), Refusal> {
    match auth.get("name").and_then(Value::as_str) {
        Some(name) if !name.is_empty() => {
            socket.extensions.insert(Name(name.to_owned()));
            Ok(())
        }
        _ => Err(Refusal("name required".into())),
    }
}
// ANCHOR_END: name_from_auth
