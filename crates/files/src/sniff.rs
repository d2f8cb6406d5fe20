//! Telling the kind of a file from its first bytes, and whether the limits accept it.

use crate::{FileError, Kind, Limits};

/// How many leading bytes are looked at to tell the kind of an upload.
pub(crate) const SNIFF_LEN: usize = 8 * 1024;

/// What the first bytes of a file look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sniffed {
    /// One of our kinds.
    Kind(Kind),
    /// UTF-8 text that is not JSON nor a known text format: CSV or plain text.
    Text,
    /// Something else, by its MIME type.
    Other(&'static str),
}

/// Sniffs the kind of a file from its first bytes; `complete` says `sample` is the whole file
/// (else its last UTF-8 character may be cut short).
pub(crate) fn sniff(sample: &[u8], complete: bool) -> Sniffed {
    if sample.starts_with(b"PAR1") {
        return Sniffed::Kind(Kind::Parquet);
    }
    let body = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    if !is_text(body, complete) {
        return match infer::get(sample) {
            Some(t) => match Kind::from_mime(t.mime_type()) {
                Some(kind) => Sniffed::Kind(kind),
                None => Sniffed::Other(t.mime_type()),
            },
            None => Sniffed::Other("application/octet-stream"),
        };
    }
    // Text: only signatures that are whole words are trusted here. Binary ones of two letters
    // (`BM`, `MZ`, `ID3`…) would turn a CSV whose first cell starts with them into an image.
    let start = body.trim_ascii_start();
    if start.starts_with(b"%PDF-") {
        Sniffed::Kind(Kind::Pdf)
    } else if start.starts_with(b"{\\rtf") {
        Sniffed::Other("application/rtf")
    } else if start.starts_with(b"%!") {
        Sniffed::Other("application/postscript")
    } else if infer::text::is_html(start) {
        Sniffed::Other("text/html")
    } else if infer::text::is_xml(start) {
        Sniffed::Other("text/xml")
    } else if infer::text::is_shellscript(body) {
        Sniffed::Other("text/x-shellscript")
    } else if start.starts_with(b"{") || start.starts_with(b"[") {
        Sniffed::Kind(Kind::Json)
    } else {
        Sniffed::Text
    }
}

/// Valid UTF-8 without NUL bytes; an incomplete sample may end inside a character.
fn is_text(bytes: &[u8], complete: bool) -> bool {
    if bytes.contains(&0) {
        return false;
    }
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => !complete && e.error_len().is_none(),
    }
}

/// The kind an upload is stored as, or why it is refused. `hint` (from the declared type or the
/// file name) only chooses between CSV and plain text: content decides everything else.
pub(crate) fn decide(
    sniffed: Sniffed,
    hint: Option<Kind>,
    limits: &Limits,
) -> Result<Kind, FileError> {
    let refuse = |detected: &str| FileError::UnsupportedType {
        detected: detected.to_string(),
    };
    match sniffed {
        Sniffed::Kind(kind) if limits.allows(kind) => Ok(kind),
        Sniffed::Kind(kind) => Err(refuse(kind.mime())),
        Sniffed::Other(mime) => Err(refuse(mime)),
        Sniffed::Text => {
            let hinted = hint.filter(|k| matches!(k, Kind::Csv | Kind::Text));
            [hinted, Some(Kind::Csv), Some(Kind::Text)]
                .into_iter()
                .flatten()
                .find(|k| limits.allows(*k))
                .ok_or_else(|| refuse(Kind::Text.mime()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_text_kinds() {
        assert_eq!(sniff(b"a,b\n1,2\n", true), Sniffed::Text);
        assert_eq!(sniff(b"BMW,MZ,ID3\n", true), Sniffed::Text);
        assert_eq!(sniff(b"", true), Sniffed::Text);
        assert_eq!(
            sniff(b"\xEF\xBB\xBF \n [1]", true),
            Sniffed::Kind(Kind::Json)
        );
        assert_eq!(sniff(b"{\"a\":1}", true), Sniffed::Kind(Kind::Json));
        assert_eq!(sniff(b"<html><body>", true), Sniffed::Other("text/html"));
        assert_eq!(sniff(b"<?xml version", true), Sniffed::Other("text/xml"));
        assert_eq!(
            sniff(b"#!/bin/sh\n", true),
            Sniffed::Other("text/x-shellscript")
        );
        assert_eq!(sniff(b"%PDF-1.4\n", true), Sniffed::Kind(Kind::Pdf));
    }

    #[test]
    fn a_cut_character_is_text_only_if_the_sample_is_cut() {
        let cut = "name\nJosé".as_bytes();
        let cut = &cut[..cut.len() - 1];
        assert_eq!(sniff(cut, false), Sniffed::Text);
        assert_ne!(sniff(cut, true), Sniffed::Text);
        assert_ne!(sniff(b"a,b\0c", false), Sniffed::Text);
    }

    #[test]
    fn sniffs_binary_kinds() {
        assert_eq!(sniff(b"PAR1\x15\x04", false), Sniffed::Kind(Kind::Parquet));
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png, false), Sniffed::Kind(Kind::Png));
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF", false),
            Sniffed::Kind(Kind::Jpeg)
        );
        assert_eq!(
            sniff(b"\x1f\x8b\x08\0\0\0", false),
            Sniffed::Kind(Kind::Gzip)
        );
        let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
        elf.resize(64, 0);
        let elf = sniff(&elf, false);
        assert_eq!(elf, Sniffed::Other("application/x-executable"));
        let unknown = sniff(b"\x01\x02\x03\xff", true);
        assert_eq!(unknown, Sniffed::Other("application/octet-stream"));
    }

    #[test]
    fn decides_within_the_limits() {
        let data = Limits::default();
        assert_eq!(decide(Sniffed::Text, None, &data).ok(), Some(Kind::Csv));
        let png = decide(Sniffed::Kind(Kind::Png), Some(Kind::Csv), &data);
        assert!(
            matches!(png, Err(FileError::UnsupportedType { detected }) if detected == "image/png")
        );
        let both = Limits::new(10, [Kind::Csv, Kind::Text]);
        let hinted = decide(Sniffed::Text, Some(Kind::Text), &both);
        assert_eq!(hinted.ok(), Some(Kind::Text));
        let only_json = Limits::new(10, [Kind::Json]);
        assert!(decide(Sniffed::Text, None, &only_json).is_err());
    }
}
