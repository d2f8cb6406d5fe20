//! Hand-written migrations: `NNNN_name.sql` and optional `NNNN_name.down.sql` files.

use std::path::Path;

use crate::StoreError;

pub(super) struct Explicit {
    pub name: String,
    pub up: String,
    pub down: Option<String>,
}

pub(super) fn read_explicit(dir: Option<&Path>) -> Result<Vec<Explicit>, StoreError> {
    let Some(dir) = dir.filter(|d| d.is_dir()) else {
        return Ok(Vec::new());
    };
    let io = |e: std::io::Error| StoreError::Migration(format!("{}: {e}", dir.display()));
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        let Some(stem) = file.strip_suffix(".sql") else {
            continue;
        };
        if stem.ends_with(".down") {
            continue;
        }
        if !stem
            .split('_')
            .next()
            .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(StoreError::Migration(format!(
                "{file}: migration files are named NNNN_name.sql"
            )));
        }
        let up = std::fs::read_to_string(&path).map_err(io)?;
        let down_path = dir.join(format!("{stem}.down.sql"));
        let down = down_path
            .is_file()
            .then(|| std::fs::read_to_string(&down_path))
            .transpose()
            .map_err(io)?;
        out.push(Explicit {
            name: stem.to_owned(),
            up,
            down,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
