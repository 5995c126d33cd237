//! The integration test suite, compiled as one binary (one link step instead of one per file).

mod cli;
mod common;
mod determinism;
mod lessons;
mod semantics;
mod serve;
mod snapshots;
