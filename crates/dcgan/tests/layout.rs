//! The library's modules keep the layer order that `lib.rs` draws: the picture is read as data
//! (one line a layer, lowest first) and every `crate::` or `super::` reference between top-level
//! modules must go to a lower layer. Within each folder, the modules form no cycle. Checked on
//! the source text.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The module path of a source file: `src/data/open.rs` → ["data", "open"].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Paths after `prefix` in `code`, as segment lists (`crate::data::open(` → ["data", "open"]).
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().last();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':' || *c == '{')
            .collect();
        if let Some(group) = path
            .strip_suffix('{')
            .filter(|g| g.is_empty() || g.ends_with("::"))
        {
            // `prefix{a, b::c}`: each item of the group.
            let end = rest.find('}').unwrap_or(rest.len());
            let base: Vec<String> = group
                .split("::")
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            for item in rest[path.len()..end].split(',') {
                let mut p = base.clone();
                p.extend(
                    item.trim()
                        .split("::")
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty() && s != "self"),
                );
                out.push(p);
            }
        } else {
            out.push(
                path.trim_end_matches('{')
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
            );
        }
    }
    out
}

/// Edges between modules at `depth` segments (`data::open` at depth 2, `data` at depth 1).
fn graph(src: &Path, depth: usize) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    let key = |m: &[String]| m[..m.len().min(depth)].join("::");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let me = module_of(src, f);
        if me.is_empty() || me == ["lib"] {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap();
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let parent = if f.ends_with("mod.rs") {
            me.clone()
        } else {
            me[..me.len() - 1].to_vec()
        };
        let parent = if f.ends_with("mod.rs") {
            parent[..parent.len().saturating_sub(1)].to_vec()
        } else {
            parent
        };
        let mut targets = Vec::new();
        for p in paths_after(&code, "crate::") {
            targets.push(p);
        }
        for p in paths_after(&code, "super::") {
            let mut full = parent.clone();
            full.extend(p);
            targets.push(full);
        }
        for t in targets {
            // The longest prefix of the path that is a module.
            let Some(m) = (1..=t.len())
                .rev()
                .map(|n| t[..n].to_vec())
                .find(|p| modules.contains(p))
            else {
                continue;
            };
            let (a, b) = (key(&me), key(&m));
            if a != b && !a.is_empty() && !b.is_empty() {
                edges.entry(a).or_default().insert(b);
            }
        }
    }
    edges
}

/// A cycle in `edges`, if there is one.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m.as_str()) {
                Some(1) => {
                    let start = stack.iter().position(|s| s == m).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, edges, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if state.contains_key(n.as_str()) {
            continue;
        }
        if let Some(c) = visit(n, edges, &mut state, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

/// The layers of `lib.rs`'s picture, lowest first: the module names that start each line of its
/// `text` block (a line that starts with spaces continues the description above it).
fn documented_layers(lib_rs: &str) -> Vec<Vec<String>> {
    let doc: Vec<&str> = lib_rs
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let start = doc
        .iter()
        .position(|l| l.starts_with("## Modules, in layers"))
        .expect("lib.rs has a \"Modules, in layers\" section");
    let open = start
        + doc[start..]
            .iter()
            .position(|l| *l == "```text")
            .expect("the section draws the layers in a text block");
    doc[open + 1..]
        .iter()
        .take_while(|l| !l.starts_with("```"))
        .filter(|l| !l.is_empty() && !l.starts_with(' '))
        .map(|l| {
            let names = l.split("  ").next().unwrap();
            names.split_whitespace().map(String::from).collect()
        })
        .collect()
}

#[test]
fn every_reference_goes_down_the_documented_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let layers = documented_layers(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let mut layer_of = BTreeMap::new();
    for (i, layer) in layers.iter().enumerate() {
        for m in layer {
            assert!(
                layer_of.insert(m.clone(), i).is_none(),
                "{m} is drawn twice in lib.rs"
            );
        }
    }
    // Every top-level module is drawn, and nothing else.
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(&src, f))
        .filter(|m| !m.is_empty() && m[0] != "lib")
        .map(|m| m[0].clone())
        .collect();
    let drawn: BTreeSet<String> = layer_of.keys().cloned().collect();
    assert_eq!(drawn, modules, "lib.rs's layers against src/'s modules");
    let g = graph(&src, 1);
    assert!(g.len() > 10, "the graph was read: {g:?}");
    let mut upward = Vec::new();
    for (from, targets) in &g {
        for to in targets {
            if layer_of[to] >= layer_of[from] {
                upward.push(format!(
                    "{from} (layer {}) uses {to} (layer {})",
                    layer_of[from] + 1,
                    layer_of[to] + 1
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "references that do not go down lib.rs's layers:\n{}",
        upward.join("\n")
    );
    for depth in [1, 2] {
        if let Some(c) = find_cycle(&graph(&src, depth)) {
            panic!("modules import each other in a circle: {}", c.join(" → "));
        }
    }
}

/// The check reads the picture as drawn: its first layers, a continuation line skipped.
#[test]
fn the_layers_are_read_from_the_picture() {
    let lib = "//! ## Modules, in layers\n//!\n//! ```text\n//! error       one type\n//! io rng\n//!             their description\n//! tasks       commands\n//! ```\n";
    assert_eq!(
        documented_layers(lib),
        vec![vec!["error"], vec!["io", "rng"], vec!["tasks"]]
    );
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&g), None);
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
}
