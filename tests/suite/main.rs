//! The integration test suite, compiled as one binary (one link step instead of one per file).

mod check;
mod cli;
mod common;
mod determinism;
mod lessons;
mod node;
mod semantics;
mod snapshots;
