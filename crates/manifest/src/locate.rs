//! Finds the line and column of a key path in YAML source text.
//!
//! serde_yaml reports positions for syntax and shape errors but not for the semantic checks
//! done after parsing (bad references, bad bounds), so those are located by walking the
//! source's indentation. Block and single-line flow mappings are understood; when a key
//! cannot be found the deepest key found is reported.

/// A 1-based position in the source.
pub(crate) type Position = (usize, usize);

/// Locate `path` (mapping keys from the root) in `src`.
pub(crate) fn locate(src: &str, path: &[&str]) -> Option<Position> {
    let mut found: Option<Position> = None;
    let mut depth = 0;
    let mut parent_indent: Option<usize> = None;
    for (idx, raw) in src.lines().enumerate() {
        if depth == path.len() {
            break;
        }
        let line = strip_comment(raw);
        let body = line.trim_start();
        if body.is_empty() {
            continue;
        }
        let indent = line.len() - body.len();
        if let Some(p) = parent_indent {
            if indent <= p {
                // Left the block of the last key found: the rest of the path is absent.
                break;
            }
        }
        let key = path[depth];
        let body_nodash = body.strip_prefix("- ").unwrap_or(body);
        if starts_with_key(body_nodash, key) {
            let col = indent + (body.len() - body_nodash.len()) + 1;
            found = Some((idx + 1, col));
            depth += 1;
            parent_indent = Some(indent);
            // The remaining keys may sit in a flow mapping on this same line.
            let mut rest_offset = col - 1 + key.len() + 1;
            while depth < path.len() {
                let rest = &line[rest_offset.min(line.len())..];
                match find_flow_key(rest, path[depth]) {
                    Some(off) => {
                        found = Some((idx + 1, rest_offset + off + 1));
                        rest_offset += off + path[depth].len() + 1;
                        depth += 1;
                    }
                    None => break,
                }
            }
        }
    }
    found
}

fn strip_comment(line: &str) -> &str {
    match line.find(" #") {
        Some(i) => &line[..i],
        None if line.trim_start().starts_with('#') => "",
        None => line,
    }
}

fn starts_with_key(body: &str, key: &str) -> bool {
    let unquoted = body
        .strip_prefix('"')
        .and_then(|b| b.strip_prefix(key))
        .and_then(|b| b.strip_prefix('"'));
    let plain = body.strip_prefix(key);
    [unquoted, plain]
        .into_iter()
        .flatten()
        .any(|after| after.starts_with(':'))
}

fn find_flow_key(rest: &str, key: &str) -> Option<usize> {
    let mut search = 0;
    while let Some(i) = rest[search..].find(key) {
        let at = search + i;
        let before = rest[..at].trim_end().chars().last();
        let after = &rest[at + key.len()..];
        if matches!(before, Some('{') | Some(',')) && after.starts_with(':') {
            return Some(at);
        }
        search = at + key.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::locate;

    const SRC: &str = "name: x\ncollections:\n  users:\n    fields:\n      name: { type: text, max: 5 }\n  posts:\n    fields:\n      author:\n        type: relation\n        collection: people\n";

    #[test]
    fn finds_block_keys() {
        assert_eq!(
            locate(
                SRC,
                &["collections", "posts", "fields", "author", "collection"]
            ),
            Some((10, 9))
        );
    }

    #[test]
    fn finds_flow_keys_on_one_line() {
        assert_eq!(
            locate(SRC, &["collections", "users", "fields", "name", "max"]),
            Some((5, 27))
        );
    }

    #[test]
    fn stops_at_the_deepest_key_found() {
        assert_eq!(
            locate(SRC, &["collections", "users", "fields", "missing"]),
            Some((4, 5))
        );
    }
}
