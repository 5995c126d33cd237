//! The `realtime-tutor` binary: everything lives in the library; this only sets the exit code.

fn main() {
    std::process::exit(realtime_tutor::cli::main());
}
