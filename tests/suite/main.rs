//! The integration test suite, compiled as one binary (one link step instead of one per file).

mod book;
mod check;
mod check_configs;
mod cli;
mod client;
mod common;
mod delivery;
mod determinism;
mod diagrams;
mod flood;
mod hardening;
mod leave;
mod lessons;
mod node;
mod order;
mod parts;
mod peer;
mod predict;
mod semantics;
mod serve;
mod serve_hardening;
mod serve_tutor;
mod snapshots;
mod transports;
mod untrusted;
mod wire;
