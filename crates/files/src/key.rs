//! Storage names ("keys"): made here, checked on the way back in, so a key taken from a URL can
//! only ever name a file of the store's own folder or prefix.

/// A fresh key: a UUID v4, with `.ext` when an extension is given.
pub(crate) fn new_key(ext: Option<&str>) -> String {
    let id = uuid::Uuid::new_v4();
    match ext {
        Some(ext) => format!("{id}.{ext}"),
        None => id.to_string(),
    }
}

/// Whether `key` is one this store could have made: `^[0-9a-f-]{36}(\.[a-z0-9]{1,8})?$`.
pub(crate) fn is_valid_key(key: &str) -> bool {
    let (id, ext) = match key.split_once('.') {
        Some((id, ext)) => (id, Some(ext)),
        None => (key, None),
    };
    id.len() == 36
        && id
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f' | b'-'))
        && ext.is_none_or(is_valid_ext)
}

/// Whether `ext` can end a key: 1 to 8 lower-case ASCII letters or digits.
pub(crate) fn is_valid_ext(ext: &str) -> bool {
    (1..=8).contains(&ext.len())
        && ext
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The extension of a file name, lower-cased, if it has one.
pub(crate) fn extension_of(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// A client's file name made fit to keep and show: its last path component (browsers and tools
/// send `C:\fakepath\x.csv` or `dir/x.csv`), without control characters, at most 255 characters.
pub(crate) fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    last.chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_keys_are_valid() {
        assert!(is_valid_key(&new_key(None)));
        assert!(is_valid_key(&new_key(Some("csv"))));
        assert_eq!(new_key(Some("parquet")).len(), 36 + 8);
    }

    #[test]
    fn foreign_keys_are_not() {
        let id = "0b6c2a3e-3f0e-4c4e-9d7a-2f1f7c0e9a11";
        assert!(is_valid_key(id));
        assert!(is_valid_key(&format!("{id}.json")));
        for bad in [
            "",
            "..",
            "../etc/passwd",
            "/0b6c2a3e-3f0e-4c4e-9d7a-2f1f7c0e9a11",
            "0b6c2a3e-3f0e-4c4e-9d7a-2f1f7c0e9a11/x",
            "0B6C2A3E-3F0E-4C4E-9D7A-2F1F7C0E9A11",
            "0b6c2a3e-3f0e-4c4e-9d7a-2f1f7c0e9a1",
            "0b6c2a3e-3f0e-4c4e-9d7a-2f1f7c0e9a11.",
            "0b6c2a3e-3f0e-4c4e-9d7a-2f1f7c0e9a11.CSV",
            "0b6c2a3e-3f0e-4c4e-9d7a-2f1f7c0e9a11.toolongext",
            "0b6c2a3e-3f0e-4c4e-9d7a-2f1f7c0e9a11.tar.gz",
            "0b6c2a3e-3f0e-4c4e-9d7a-2f1f7c0e9a11#1",
        ] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(extension_of("Data.CSV").as_deref(), Some("csv"));
        assert_eq!(extension_of(".hidden"), None);
        assert_eq!(extension_of("noext"), None);
        assert_eq!(clean_name("C:\\fakepath\\report.csv"), "report.csv");
        assert_eq!(clean_name("../../x\n.json"), "x.json");
        assert_eq!(clean_name(&"a".repeat(300)).len(), 255);
    }
}
