//! The shape of `crates/server/src`, checked from its source: the walk
//! from a handler to the domain to the store goes one way.
//!
//! - No import circle between modules. `state.rs` is the composition root:
//!   it names the services it holds (so its own imports are not followed),
//!   and every other module may take the state.
//! - Nothing outside `routes/` imports `routes` (the HTTP handlers), and
//!   nothing outside `realtime/` imports `realtime` (the Socket.IO
//!   handlers), except `startup`, which mounts both.
//! - The base (errors, models, ids, values, config, the store, tokens,
//!   pagination, extractors, rate limits, mail) imports only the base.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`realtime::chat`) → source without comments and tests.
fn modules() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&root).unwrap().with_extension("");
            let mut name = rel.to_string_lossy().replace('/', "::");
            if let Some(parent) = name.strip_suffix("::mod") {
                name = parent.to_owned();
            }
            if name == "lib" || name == "main" {
                continue;
            }
            out.insert(name, strip(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    out
}

/// Drops line comments and the unit tests at the end of a file.
fn strip(source: &str) -> String {
    let code = match source.find("#[cfg(test)]\nmod tests") {
        Some(at) => &source[..at],
        None => source,
    };
    code.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path named after `crate::` (or `super::`, resolved against
/// `module`), groups (`crate::{a, b::c}`) expanded.
fn paths(module: &str, code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (prefix, base) in [("crate::", String::new()), ("super::", parent(module))] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let start = if base.is_empty() {
                String::new()
            } else {
                format!("{base}::")
            };
            expand(&start, rest, &mut out);
        }
    }
    out
}

fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map(|(p, _)| p.to_owned())
        .unwrap_or_default()
}

/// Reads one path (or group) at the start of `text`, appending what it names.
fn expand(prefix: &str, text: &str, out: &mut Vec<String>) {
    let len = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    let head = text[..len].trim_end_matches(':');
    let path = format!("{prefix}{head}");
    if text[len..].starts_with('{') && (len == 0 || text[..len].ends_with("::")) {
        let inner = if head.is_empty() {
            prefix.to_owned()
        } else {
            format!("{path}::")
        };
        let body = &text[len + 1..];
        let mut depth = 0;
        let mut item_start = 0;
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    expand(&inner, body[item_start..i].trim(), out);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&inner, body[item_start..i].trim(), out);
                    item_start = i + 1;
                }
                _ => {}
            }
        }
    } else {
        out.push(path);
    }
}

/// The module a path names (its longest known prefix).
fn resolve<'a>(path: &str, known: &'a BTreeSet<String>) -> Option<&'a String> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .find_map(|n| known.get(&parts[..n].join("::")))
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(name, code)| {
            let deps = paths(name, code)
                .iter()
                .filter_map(|p| resolve(p, &known))
                .filter(|d| *d != name && !name.starts_with(&format!("{d}::")))
                .cloned()
                .collect();
            (name.clone(), deps)
        })
        .collect()
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap()
}

#[test]
fn the_parser_reads_groups_and_super() {
    let mut out = paths(
        "realtime::rooms",
        "use crate::{a::B, c::{d, e::F}};\nlet x = super::socket_map::X; crate::g::h(); not_crate::i;",
    );
    out.sort();
    assert_eq!(
        out,
        ["a::B", "c::d", "c::e::F", "g::h", "realtime::socket_map::X"]
    );
}

#[test]
fn no_module_imports_in_a_circle() {
    let mut graph = graph();
    assert!(graph.len() > 30, "the source was not found");
    // The composition root: what it holds is not a dependency back.
    graph.insert("state".into(), BTreeSet::new());
    // Depth-first search for a back edge, reporting the circle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.to_owned());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, graph, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(circle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("import circle: {}", circle.join(" → "));
        }
    }
}

#[test]
fn handlers_are_imported_by_nothing_below_them() {
    let mut wrong = Vec::new();
    for (module, deps) in graph() {
        for dep in deps {
            for surface in ["routes", "realtime"] {
                if top(&dep) == surface && top(&module) != surface && module != "startup" {
                    wrong.push(format!("{module} → {dep}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "reaching up into the handlers: {wrong:?}");
}

#[test]
fn the_base_imports_only_the_base() {
    const BASE: [&str; 12] = [
        "config",
        "db",
        "domain",
        "error",
        "extract",
        "ids",
        "mail",
        "models",
        "pagination",
        "ratelimit",
        "tokens",
        "serve",
    ];
    let mut wrong = Vec::new();
    for (module, deps) in graph() {
        if !BASE.contains(&module.as_str()) {
            continue;
        }
        for dep in deps.iter().filter(|d| !BASE.contains(&top(d))) {
            wrong.push(format!("{module} → {dep}"));
        }
    }
    assert!(wrong.is_empty(), "the base reaches up: {wrong:?}");
}
