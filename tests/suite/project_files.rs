//! The files a newcomer opens first: the licences the manifest names, the changelog, and the
//! README's setup (an install that is `--locked`, what is optional, completions and man page).

use std::path::Path;

fn read(path: &str) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

#[test]
fn the_licences_the_manifest_names_are_there() {
    assert_eq!(env!("CARGO_PKG_LICENSE"), "MIT OR Apache-2.0");
    let mit = read("LICENSE-MIT");
    assert!(
        mit.starts_with("Copyright (c) The realtime-tutor developers\n"),
        "{mit}"
    );
    assert!(mit.contains("Permission is hereby granted, free of charge, to any person"));
    assert!(mit.contains("THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND"));
    let apache = read("LICENSE-APACHE");
    let words = apache.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.starts_with("Apache License Version 2.0, January 2004"),
        "{words:.80}"
    );
    for needle in [
        "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
        "9. Accepting Warranty or Additional Liability.",
        "END OF TERMS AND CONDITIONS",
        "Copyright The realtime-tutor developers",
    ] {
        assert!(words.contains(needle), "{needle:?} in LICENSE-APACHE");
    }
}

#[test]
fn the_changelog_keeps_an_unreleased_section_and_this_version() {
    let changelog = read("CHANGELOG.md");
    assert!(changelog.starts_with("# Changelog\n"), "{changelog:.200}");
    assert!(changelog.contains("[Keep a Changelog](https://keepachangelog.com/"));
    let unreleased = changelog
        .find("\n## [Unreleased]\n")
        .expect("an Unreleased section");
    let version = format!("\n## [{}] - ", env!("CARGO_PKG_VERSION"));
    let released = changelog
        .find(&version)
        .unwrap_or_else(|| panic!("{version:?} in the changelog"));
    assert!(unreleased < released, "newest first");
    let first = &changelog[released..];
    for needle in [
        "Seven lessons",
        "check N --url",
        "serve N",
        "Predict mode",
        "--svg",
        "--format json",
    ] {
        assert!(
            first.contains(needle),
            "{needle:?} in the {} section",
            env!("CARGO_PKG_VERSION")
        );
    }
}

#[test]
fn the_readme_installs_locked_and_says_what_is_optional() {
    let readme = read("README.md");
    // The two commands stay as they are.
    assert!(readme.contains("```sh\ncargo run --release -- tour\n```"));
    assert!(readme.contains("```sh\nbash scripts/test.sh\n```"));
    for text in [&readme, &read("book/src/introduction.md")] {
        let installs: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("cargo install --path"))
            .collect();
        assert_eq!(installs, ["cargo install --path . --locked"]);
    }
    for needle in [
        "sudo apt-get install redis-server",
        "a few minutes",
        "about 10 to 15 minutes",
        "### Shell completions and man page",
        "realtime-tutor completions bash > ",
        "realtime-tutor man > ~/.local/share/man/man1/realtime-tutor.1",
        "3 some stages could not run because a part is missing",
    ] {
        let words = readme.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words.contains(needle), "{needle:?} in the README");
    }
    let reference = read("book/src/reference.md");
    assert!(reference.contains("| 3 | some stages could not run because a part is missing"));
    assert!(reference.contains("## Shell completions and the man page"));
}
