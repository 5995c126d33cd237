//! The tutor's view of its own server, apart from the code the lessons teach: whom each emit was
//! queued for and why the others were not ([`live`]), and the in-memory adapter that names the
//! sockets a full buffer lost a packet for ([`tally`]). Node has no counterpart: this is how the
//! trace is read from the server's own state instead of assembled from expectations.

pub mod live;
pub mod tally;
