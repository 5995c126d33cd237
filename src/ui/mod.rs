//! Every byte the tutor prints for a person: styles, the text of lessons, traces, summaries,
//! `check`'s verdicts and serve's live trace, and the sequence diagrams (SVG) of a trace.
//!
//! The data comes from below ([`crate::trace`], [`crate::lesson`], [`crate::check`]); this module
//! words it, and nothing else does. The look every line shares (colours, marks, role words,
//! indentation, the arrow, the heading rule) is defined once, in [`style`]; every renderer takes
//! the text that came from someone else's program through [`crate::trace::safe`].
//!
//! * text for a terminal: [`lesson`] and its [`prose`], a stage's [`trace`] (with its
//!   deliveries, bursts and `--wire` frames), the [`summary`] table, `check`'s [`verdict`],
//!   serve's heading ([`serve`]) and its [`live`] trace, and `doctor`'s checklist ([`doctor`]);
//! * the width every line fits in, and how a long line is laid out to fit ([`layout`]);
//! * pictures: the sequence [`diagram`] and the small [`svg`] writer it draws with. Beside the
//!   Rust files are their browser-side twins (`diagram.js`, `svg.js`, and `follow.js` to feed them
//!   a stream), which draw the same picture from JSON Lines records as they arrive, for a live
//!   page.

mod burst;
mod delivery;
pub mod diagram;
mod doctor;
pub mod layout;
mod lesson;
pub mod live;
mod measure;
mod prose;
pub mod serve;
pub mod style;
mod summary;
pub mod svg;
mod trace;
mod verdict;
mod wire;

pub use doctor::{doctor_intro, doctor_report, doctor_report_at};
pub use layout::{PIPED_WIDTH, width};
pub use lesson::{exercise, lesson_intro, stage_intro};
pub use measure::measurement_at;
pub use summary::{summary, summary_at};
pub use trace::{stage_trace, stage_trace_at};
pub use verdict::{check_intro, check_trace_heading, verdict};
