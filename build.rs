//! Rebuilds the crate when a file is added to or removed from `lessons/` or `src/server/`.
//!
//! Both folders are embedded with `include_dir!`, which tells Cargo about each file it embeds
//! but not about the folders: without this, a new lesson folder (or a removed one) would be
//! missed until some other source changed. Cargo scans a folder named here for any change.

fn main() {
    println!("cargo:rerun-if-changed=lessons");
    println!("cargo:rerun-if-changed=src/server");
}
