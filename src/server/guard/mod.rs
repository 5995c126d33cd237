//! What keeps a stage server safe to run for real browsers, apart from the code the lessons
//! teach: the Origin rule for every Socket.IO request ([`origin`]), a bound on sessions opened
//! and never used ([`handshakes`]), and a deadline on request bodies as on headers
//! ([`deadline`]). The Node.js code the lessons study has none of this; `serve` needs all of it.

pub mod deadline;
pub mod handshakes;
pub mod origin;
