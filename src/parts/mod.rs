//! The real parts behind the lessons on delivery and scaling out: a message store in SQLite, a
//! Redis the tutor starts (and always stops), and Socket.IO nodes joined by the Redis adapter.
//!
//! Nothing here is imitated. The store runs real `INSERT`s and `SELECT`s, the Redis is a real
//! `redis-server`, and the adapter is socketioxide's own. The lessons on delivery (6) and
//! scaling out (7) use them, and the suite's `parts` tests prove them.
//!
//! * [`store`]: the tutorial's `messages` table, with server and client offsets.
//! * [`redis`]: errors, `--redis URL`s and a bounded PING.
//! * [`redis_server`]: a private `redis-server` on a Unix socket that never outlives the tutor.
//! * [`node`]: one Socket.IO server of several, generic over its adapter.
//! * [`sticky`]: a polling session opened on one node and polled on another.
//! * [`state`]: the folder where the tutor keeps its files between runs (progress, messages).

pub mod node;
pub mod redis;
pub mod redis_server;
pub mod state;
pub mod sticky;
pub mod store;
