//! The crate map in `src/lib.rs` is an order, and it is true: no module uses one listed above it.
//!
//! The map is read from the doc comment itself, so reordering it is the only way to change the
//! rule. Every `crate::<module>` path in each module's files is checked, in code and in `use`
//! lines alike, outside comments and outside `#[cfg(test)]` blocks (a unit test may reach up for
//! fixtures; the code it tests may not).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The modules of the crate map, top first, as `src/lib.rs` lists them.
fn crate_map(lib: &str) -> Vec<String> {
    lib.lines()
        .take_while(|l| l.starts_with("//!"))
        .filter_map(|l| l.strip_prefix("//! * [`"))
        .filter_map(|l| l.split_once("`]"))
        .map(|(name, _)| name.to_owned())
        .collect()
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// The text of a source file without its comments and without what follows `#[cfg(test)]`.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules `code` names as `crate::<module>`.
fn used(code: &str, modules: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if modules.contains(&name) && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

/// For each module, the modules above it that its files use, with the file.
fn upward_uses(src: &Path, map: &[String]) -> BTreeMap<String, Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut wrong: BTreeMap<String, Vec<(String, PathBuf)>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("inside src");
        let Some(first) = relative.components().next() else {
            continue;
        };
        let top = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        let Some(level) = map.iter().position(|m| *m == top) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        for name in used(&code_of(&text), map) {
            let other = map.iter().position(|m| *m == name).expect("a module of the map");
            if other < level {
                wrong
                    .entry(top.clone())
                    .or_default()
                    .push((name, relative.to_owned()));
            }
        }
    }
    wrong
}

#[test]
fn no_module_uses_one_above_it_in_the_crate_map() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).expect("src/lib.rs");
    let map = crate_map(&lib);
    // Every module the crate declares is in the map, once.
    let declared: Vec<String> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';').to_owned())
        .collect();
    let mut sorted = map.clone();
    sorted.sort();
    let mut declared_sorted = declared.clone();
    declared_sorted.sort();
    assert_eq!(
        sorted, declared_sorted,
        "the crate map lists each module once: {map:?}"
    );

    let wrong = upward_uses(&root.join("src"), &map);
    assert!(
        wrong.is_empty(),
        "modules that use one above them in the crate map ({map:?}): {wrong:#?}"
    );
}

/// The check above can fail: a module that names one above it is found, in code but not in a
/// comment or a unit test.
#[test]
fn the_layer_check_finds_an_upward_use_and_ignores_comments_and_tests() {
    let map: Vec<String> = ["cli", "runner", "vocab"].map(String::from).to_vec();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let src = dir.path();
    std::fs::create_dir(src.join("vocab")).expect("a module folder");
    std::fs::write(
        src.join("vocab/words.rs"),
        "// crate::cli in a comment\nuse crate::runner::Thing;\n#[cfg(test)]\nmod tests { use crate::cli; }\n",
    )
    .expect("a file");
    std::fs::write(src.join("runner.rs"), "use crate::vocab::Word;\n").expect("a file");
    let wrong = upward_uses(src, &map);
    assert_eq!(
        wrong
            .get("vocab")
            .map(|v| v.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>()),
        Some(vec!["runner"]),
        "{wrong:?}"
    );
    assert!(!wrong.contains_key("runner"), "{wrong:?}");
}
