//! Output for people that is not terminal text: today the sequence diagrams (SVG) of a trace.
//!
//! The module will gather every renderer (text, verdicts, the live view) in time; for now it holds
//! the drawing code, which reads the trace and nothing else. Beside the Rust files are their
//! browser-side twins (`diagram.js`, `svg.js`, and `follow.js` to feed them a stream), which draw
//! the same picture from JSON Lines records as they arrive, for a live page.

pub mod diagram;
pub mod svg;
