//! Output for people that is not terminal text: today the sequence diagrams (SVG) of a trace.
//!
//! The module will gather every renderer (text, verdicts, the live view) in time; for now it holds
//! the drawing code, which reads the trace and nothing else.

pub mod diagram;
pub mod svg;
