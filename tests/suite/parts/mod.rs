//! The real parts of lessons 6 and 7 (`realtime_tutor::parts`), proved on the real things.

mod node;
mod redis;
mod store;
