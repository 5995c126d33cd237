//! Rooms: `socket.join(room)`, and the emits that choose their audience by room.
//!
//! A room is a name the server keeps a list of sockets under, nothing more: a client cannot
//! join one by itself, it asks the server (here with a `join` event) and the server's handler
//! calls `socket.join(room)`. Every socket is also, from the moment it connects, the only member
//! of a room named by its own id; that is how one socket reaches one other. Node's socket.io
//! does this itself; socketioxide does not, so the tutor's connection handler joins each socket
//! to its own room (see `on_connection` in `super::super::realtime`).
//!
//! | JavaScript                       | reaches                                             |
//! |----------------------------------|-----------------------------------------------------|
//! | `io.to(room).emit(…)`            | the room's members, the sender too if it is one     |
//! | `socket.to(room).emit(…)`        | the room's members except the sender                |
//! | `io.to('a').to('b').emit(…)`     | members of `a` or `b`, each socket once             |
//! | `io.except(room).emit(…)`        | everyone except the room's members                  |
//!
//! In socketioxide, `socket.join` takes effect at once (the local adapter's table is updated
//! before the call returns), so the very next event from that client already finds it there.

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;

use super::broadcast::Sent;
use super::{Call, Failed, Handle, Handler, arg, registry, room_arg};
use crate::vocab::{Audience, Effect};

/// This file's handlers, as the registry lists them.
pub fn handlers<A: Adapter>() -> Vec<Handler<A>> {
    registry![A; Join, IoToRoom, SocketToRoom, IoToAAndB, IoExceptA, PrivateMessage]
}

/// `socket.join(room)` for each `join` event.
#[derive(Debug)]
pub struct Join {
    room: String,
}

impl Handle for Join {
    const NAME: &'static str = "join";
    const ON: &'static str = "join";
    const ANCHOR: &'static str = "join";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self {
            room: room_arg(args, 0)?,
        })
    }

    fn effect(&self) -> Effect {
        Effect {
            joins: vec![self.room.clone()],
            ..Effect::quiet("socket.join(room)")
        }
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        room_to_spare(&call.socket, &self.room)?;
        join(&call.socket, self.room);
        Ok(())
    }
}

/// `io.to(room).emit('room message', msg)` for each `room message (room, msg)`.
#[derive(Debug)]
pub struct IoToRoom {
    room: String,
    msg: Value,
}

impl Handle for IoToRoom {
    const NAME: &'static str = "io-to-room";
    const ON: &'static str = "room message";
    const ANCHOR: &'static str = "io_to_room";

    fn parse(args: &[Value]) -> Result<Self, String> {
        let room = room_arg(args, 0)?;
        Ok(Self {
            room,
            msg: arg(args, 1),
        })
    }

    fn effect(&self) -> Effect {
        let js = "io.to(room).emit('room message', msg)";
        let to = Audience::Rooms(vec![self.room.clone()]);
        Effect::emits(js, "room message", vec![self.msg.clone()], to)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(io_to_room(&call.io, self.room, self.msg).await?)
    }
}

/// `socket.to(room).emit('room message', msg)` for each `room message (room, msg)`.
#[derive(Debug)]
pub struct SocketToRoom {
    room: String,
    msg: Value,
}

impl Handle for SocketToRoom {
    const NAME: &'static str = "socket-to-room";
    const ON: &'static str = "room message";
    const ANCHOR: &'static str = "socket_to_room";

    fn parse(args: &[Value]) -> Result<Self, String> {
        let room = room_arg(args, 0)?;
        Ok(Self {
            room,
            msg: arg(args, 1),
        })
    }

    fn effect(&self) -> Effect {
        let js = "socket.to(room).emit('room message', msg)";
        let to = Audience::RoomsButSender(vec![self.room.clone()]);
        Effect::emits(js, "room message", vec![self.msg.clone()], to)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(socket_to_room(&call.socket, self.room, self.msg).await?)
    }
}

/// `io.to('a').to('b').emit('news', msg)` for each `news (msg)`.
#[derive(Debug)]
pub struct IoToAAndB {
    msg: Value,
}

impl Handle for IoToAAndB {
    const NAME: &'static str = "io-to-a-and-b";
    const ON: &'static str = "news";
    const ANCHOR: &'static str = "io_to_a_and_b";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self { msg: arg(args, 0) })
    }

    fn effect(&self) -> Effect {
        let js = "io.to('a').to('b').emit('news', msg)";
        let to = Audience::Rooms(vec!["a".into(), "b".into()]);
        Effect::emits(js, "news", vec![self.msg.clone()], to)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(io_to_a_and_b(&call.io, self.msg).await?)
    }
}

/// `io.except('a').emit('news', msg)` for each `news (msg)`.
#[derive(Debug)]
pub struct IoExceptA {
    msg: Value,
}

impl Handle for IoExceptA {
    const NAME: &'static str = "io-except-a";
    const ON: &'static str = "news";
    const ANCHOR: &'static str = "io_except_a";

    fn parse(args: &[Value]) -> Result<Self, String> {
        Ok(Self { msg: arg(args, 0) })
    }

    fn effect(&self) -> Effect {
        let js = "io.except('a').emit('news', msg)";
        let to = Audience::EveryoneExcept(vec!["a".into()]);
        Effect::emits(js, "news", vec![self.msg.clone()], to)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(io_except_a(&call.io, self.msg).await?)
    }
}

/// `socket.to(to).emit('private message', msg)` for each `private message (to, msg)`.
#[derive(Debug)]
pub struct PrivateMessage {
    to: String,
    msg: Value,
}

impl Handle for PrivateMessage {
    const NAME: &'static str = "private-message";
    const ON: &'static str = "private message";
    const ANCHOR: &'static str = "private_message";

    fn parse(args: &[Value]) -> Result<Self, String> {
        let to = room_arg(args, 0)?;
        Ok(Self {
            to,
            msg: arg(args, 1),
        })
    }

    fn effect(&self) -> Effect {
        let js = "socket.to(to).emit('private message', msg)";
        let audience = Audience::RoomsButSender(vec![self.to.clone()]);
        Effect::emits(js, "private message", vec![self.msg.clone()], audience)
    }

    async fn apply<A: Adapter>(self, call: Call<A>) -> Result<(), Failed> {
        Ok(private_message(&call.socket, self.to, self.msg).await?)
    }
}

/// The most rooms one socket may be in, counting the room of its own id. Node sets no limit,
/// and every room a socket joins is an entry the server keeps until the socket leaves: without a
/// bound, one client joining names in a loop grew the server by hundreds of MB. A chat's socket
/// is in a handful of rooms.
pub const MAX_ROOMS_PER_SOCKET: usize = 32;

/// Whether `socket` may join `room`: always when it is a member already (joining twice changes
/// nothing), otherwise while it is in fewer than [`MAX_ROOMS_PER_SOCKET`] rooms.
fn room_to_spare<A: Adapter>(socket: &SocketRef<A>, room: &str) -> Result<(), String> {
    let rooms = socket.rooms();
    if rooms.len() < MAX_ROOMS_PER_SOCKET || rooms.iter().any(|r| r == room) {
        return Ok(());
    }
    Err(format!(
        "refused: this socket is in {} rooms already, the most this server allows",
        rooms.len()
    ))
}

// ANCHOR: join
/// `socket.on('join', (room) => { socket.join(room); });`
///
/// Only the server can put a socket in a room. Nothing is sent: the client
/// learns it is a member only by what reaches it afterwards.
pub fn join<A: Adapter>(socket: &SocketRef<A>, room: String) {
    socket.join(room);
}
// ANCHOR_END: join

// ANCHOR: io_to_room
/// `socket.on('room message', (room, msg) => {
///   io.to(room).emit('room message', msg);
/// });`
///
/// `io.to` starts from the whole server: every member of the room gets
/// it, the sender too if it is a member, and nobody else.
pub async fn io_to_room<A: Adapter>(io: &SocketIo<A>, room: String, msg: Value) -> Sent {
    io.to(room).emit("room message", &msg).await
}
// ANCHOR_END: io_to_room

// ANCHOR: socket_to_room
/// `socket.on('room message', (room, msg) => {
///   socket.to(room).emit('room message', msg);
/// });`
///
/// `socket.to` starts from this socket, like `socket.broadcast`: the
/// members of the room get it, the sender never does, member or not.
pub async fn socket_to_room<A: Adapter>(socket: &SocketRef<A>, room: String, msg: Value) -> Sent {
    socket.to(room).emit("room message", &msg).await
}
// ANCHOR_END: socket_to_room

// ANCHOR: io_to_a_and_b
/// `socket.on('news', (msg) => { io.to('a').to('b').emit('news', msg); });`
///
/// Two rooms are a union: a socket in `a`, in `b` or in both is selected
/// once, so a member of both rooms receives the news once.
pub async fn io_to_a_and_b<A: Adapter>(io: &SocketIo<A>, msg: Value) -> Sent {
    io.to("a").to("b").emit("news", &msg).await
}
// ANCHOR_END: io_to_a_and_b

// ANCHOR: io_except_a
/// `socket.on('news', (msg) => { io.except('a').emit('news', msg); });`
///
/// Everyone but the members of `a`: the sender too, unless it is in `a`.
pub async fn io_except_a<A: Adapter>(io: &SocketIo<A>, msg: Value) -> Sent {
    io.except("a").emit("news", &msg).await
}
// ANCHOR_END: io_except_a

// ANCHOR: private_message
/// `socket.on('private message', (to, msg) => {
///   socket.to(to).emit('private message', msg);
/// });`
///
/// `to` is the other socket's id, which is also the name of a room that
/// socket alone is in: a room of one is how Socket.IO says "just them".
pub async fn private_message<A: Adapter>(socket: &SocketRef<A>, to: String, msg: Value) -> Sent {
    socket.to(to).emit("private message", &msg).await
}
// ANCHOR_END: private_message
