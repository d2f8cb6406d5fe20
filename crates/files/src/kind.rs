//! The kinds of file a store accepts, the upload limits, and sniffing a kind from the first bytes.

/// A kind of file, as told from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Comma (or otherwise) separated values: UTF-8 text that is not JSON.
    Csv,
    /// A JSON document (or JSON lines): UTF-8 text starting with `{` or `[`.
    Json,
    /// An Apache Parquet file (`PAR1` magic).
    Parquet,
    /// Plain UTF-8 text.
    Text,
    /// A PDF document.
    Pdf,
    /// A PNG image.
    Png,
    /// A JPEG image.
    Jpeg,
    /// A GIF image.
    Gif,
    /// A WebP image.
    Webp,
    /// A ZIP archive.
    Zip,
    /// A gzip-compressed file.
    Gzip,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 11] = [
        Kind::Csv,
        Kind::Json,
        Kind::Parquet,
        Kind::Text,
        Kind::Pdf,
        Kind::Png,
        Kind::Jpeg,
        Kind::Gif,
        Kind::Webp,
        Kind::Zip,
        Kind::Gzip,
    ];

    /// The MIME type files of this kind are served with.
    pub fn mime(&self) -> &'static str {
        match self {
            Kind::Csv => "text/csv",
            Kind::Json => "application/json",
            Kind::Parquet => "application/vnd.apache.parquet",
            Kind::Text => "text/plain",
            Kind::Pdf => "application/pdf",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
            Kind::Zip => "application/zip",
            Kind::Gzip => "application/gzip",
        }
    }

    /// The file name extensions of this kind (lower case, without the dot), the usual one first.
    pub fn extensions(&self) -> &'static [&'static str] {
        match self {
            Kind::Csv => &["csv"],
            Kind::Json => &["json", "ndjson", "jsonl"],
            Kind::Parquet => &["parquet"],
            Kind::Text => &["txt"],
            Kind::Pdf => &["pdf"],
            Kind::Png => &["png"],
            Kind::Jpeg => &["jpg", "jpeg"],
            Kind::Gif => &["gif"],
            Kind::Webp => &["webp"],
            Kind::Zip => &["zip"],
            Kind::Gzip => &["gz"],
        }
    }

    /// The usual file name extension of this kind (without the dot).
    pub fn extension(&self) -> &'static str {
        self.extensions()[0]
    }

    /// The short name of this kind, as written in configuration (`csv`, `json`, `jpeg`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Jpeg => "jpeg",
            Kind::Gzip => "gzip",
            other => other.extension(),
        }
    }

    /// The kind with this name or extension, any case (`"csv"`, `"JSON"`, `"jpg"`, `"gz"`).
    pub fn from_name(name: &str) -> Option<Kind> {
        let name = name.trim().to_ascii_lowercase();
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == name || k.extensions().contains(&name.as_str()))
    }

    /// The kind served with this MIME type; parameters such as `; charset=utf-8` are ignored.
    pub fn from_mime(mime: &str) -> Option<Kind> {
        let essence = mime.split(';').next().unwrap_or_default().trim();
        let essence = essence.to_ascii_lowercase();
        match essence.as_str() {
            "application/csv" | "text/comma-separated-values" => Some(Kind::Csv),
            "application/x-ndjson" | "application/jsonl" => Some(Kind::Json),
            "application/x-gzip" => Some(Kind::Gzip),
            "image/jpg" => Some(Kind::Jpeg),
            _ => Kind::ALL.into_iter().find(|k| k.mime() == essence),
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What an upload may be: its largest size and the kinds accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest accepted size in bytes (a file of exactly this size passes).
    pub max_bytes: u64,
    /// The kinds accepted; anything else is refused with
    /// [`FileError::UnsupportedType`](crate::FileError::UnsupportedType).
    pub allowed: Vec<Kind>,
}

impl Limits {
    /// Limits of `max_bytes` accepting the given kinds.
    pub fn new(max_bytes: u64, allowed: impl IntoIterator<Item = Kind>) -> Limits {
        Limits {
            max_bytes,
            allowed: allowed.into_iter().collect(),
        }
    }

    /// Whether files of `kind` are accepted.
    pub fn allows(&self, kind: Kind) -> bool {
        self.allowed.contains(&kind)
    }
}

impl Default for Limits {
    /// Data imports: CSV, JSON and Parquet up to 100 MiB.
    fn default() -> Limits {
        Limits::new(100 * 1024 * 1024, [Kind::Csv, Kind::Json, Kind::Parquet])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_mimes() {
        assert_eq!(Kind::from_name("csv"), Some(Kind::Csv));
        assert_eq!(Kind::from_name(" JPG "), Some(Kind::Jpeg));
        assert_eq!(Kind::from_name("gzip"), Some(Kind::Gzip));
        assert_eq!(Kind::from_name("exe"), None);
        assert_eq!(Kind::from_mime("text/csv; charset=utf-8"), Some(Kind::Csv));
        assert_eq!(Kind::from_mime("text/html"), None);
        for kind in Kind::ALL {
            assert_eq!(Kind::from_name(kind.name()), Some(kind));
            assert_eq!(Kind::from_mime(kind.mime()), Some(kind));
        }
    }
}
