//! The integration test suite, compiled as one binary (one link step instead of one per file).

mod book;
mod check;
mod cli;
mod client;
mod common;
mod determinism;
mod diagrams;
mod flood;
mod hardening;
mod leave;
mod lessons;
mod node;
mod order;
mod parts;
mod predict;
mod scaling;
mod semantics;
mod serve;
mod snapshots;
mod transports;
mod untrusted;
mod wire;
