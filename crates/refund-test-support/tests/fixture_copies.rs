//! The copies of fixtures each published crate carries in its `testdata/` (a packaged crate
//! cannot reach the workspace's `fixtures/`) are byte for byte the files under `fixtures/`, the
//! one source of truth: a copy can never drift from what the other tests read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn every_testdata_copy_is_its_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fixtures = root.join("fixtures");
    let mut copies = 0;
    for krate in std::fs::read_dir(root.join("crates")).unwrap() {
        let testdata = krate.unwrap().path().join("testdata");
        for copy in files(&testdata) {
            let relative = copy.strip_prefix(&testdata).unwrap();
            let original = fixtures.join(relative);
            let (a, b) = (std::fs::read(&copy).unwrap(), std::fs::read(&original));
            let Ok(b) = b else {
                panic!("{} has no original in fixtures/", copy.display());
            };
            assert!(
                a == b,
                "{} differs from {}",
                copy.display(),
                original.display()
            );
            copies += 1;
        }
    }
    assert!(copies > 0, "the crates carry copies: the walk found none");
}
