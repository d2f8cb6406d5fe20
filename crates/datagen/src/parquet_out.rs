//! Rows to Parquet, one row group per batch, each written out as soon as it is closed so
//! memory holds one batch. Column types come from the first batch (the first non-null value
//! of each column): integers INT64, other numbers DOUBLE, booleans BOOLEAN, the rest UTF-8
//! text (objects and arrays as JSON). A later value that does not fit its column's type is
//! converted where it can be (a number to the column's kind) and written as null where it
//! cannot.

use std::io::Write;
use std::sync::{Arc, Mutex};

use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use serde_json::{Map, Value as J};

/// What a column holds.
#[derive(Clone, Copy)]
enum Kind {
    Int,
    Float,
    Bool,
    Text,
}

/// Bytes written by the Parquet writer, taken out after each row group.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut v = self
            .0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?;
        v.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A Parquet file being written, batch by batch.
pub(crate) struct ParquetRows {
    columns: Vec<(String, Kind)>,
    writer: Option<SerializedFileWriter<Shared>>,
    out: Shared,
}

impl ParquetRows {
    pub(crate) fn new() -> Self {
        ParquetRows {
            columns: Vec::new(),
            writer: None,
            out: Shared::default(),
        }
    }

    /// Write `rows` as one row group; the file's bytes produced so far.
    pub(crate) fn batch(&mut self, rows: &[Map<String, J>]) -> Result<Vec<u8>, ParquetError> {
        if rows.is_empty() {
            return Ok(self.take());
        }
        if self.writer.is_none() {
            self.start(rows)?;
        }
        let Some(writer) = self.writer.as_mut() else {
            return Ok(Vec::new());
        };
        let mut group = writer.next_row_group()?;
        for (name, kind) in &self.columns {
            let Some(mut col) = group.next_column()? else {
                break;
            };
            let cells = rows.iter().map(|r| r.get(name));
            let mut levels = Vec::with_capacity(rows.len());
            match kind {
                Kind::Int => {
                    let v: Vec<i64> = cells
                        .filter_map(|c| level(&mut levels, c.and_then(as_int)))
                        .collect();
                    col.typed::<Int64Type>()
                        .write_batch(&v, Some(&levels), None)?;
                }
                Kind::Float => {
                    let v: Vec<f64> = cells
                        .filter_map(|c| level(&mut levels, c.and_then(J::as_f64)))
                        .collect();
                    col.typed::<DoubleType>()
                        .write_batch(&v, Some(&levels), None)?;
                }
                Kind::Bool => {
                    let v: Vec<bool> = cells
                        .filter_map(|c| level(&mut levels, c.and_then(J::as_bool)))
                        .collect();
                    col.typed::<BoolType>()
                        .write_batch(&v, Some(&levels), None)?;
                }
                Kind::Text => {
                    let v: Vec<ByteArray> = cells
                        .filter_map(|c| level(&mut levels, c.and_then(text)))
                        .map(|s| ByteArray::from(s.into_bytes()))
                        .collect();
                    col.typed::<ByteArrayType>()
                        .write_batch(&v, Some(&levels), None)?;
                }
            }
            col.close()?;
        }
        group.close()?;
        Ok(self.take())
    }

    /// Close the file; its last bytes (an empty file has a schema with no columns).
    pub(crate) fn finish(mut self) -> Result<Vec<u8>, ParquetError> {
        if self.writer.is_none() {
            self.start(&[])?;
        }
        if let Some(w) = self.writer.take() {
            w.close()?;
        }
        Ok(self.take())
    }

    fn take(&mut self) -> Vec<u8> {
        self.out
            .0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }

    fn start(&mut self, rows: &[Map<String, J>]) -> Result<(), ParquetError> {
        let names: Vec<String> = rows
            .first()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default();
        self.columns = names
            .into_iter()
            .map(|n| {
                let first = rows.iter().filter_map(|r| r.get(&n)).find(|v| !v.is_null());
                let kind = match first {
                    Some(J::Number(x)) if x.is_i64() => Kind::Int,
                    Some(J::Number(_)) => Kind::Float,
                    Some(J::Bool(_)) => Kind::Bool,
                    _ => Kind::Text,
                };
                (n, kind)
            })
            .collect();
        let fields = self
            .columns
            .iter()
            .map(|(name, kind)| {
                let b = match kind {
                    Kind::Int => Type::primitive_type_builder(name, Physical::INT64),
                    Kind::Float => Type::primitive_type_builder(name, Physical::DOUBLE),
                    Kind::Bool => Type::primitive_type_builder(name, Physical::BOOLEAN),
                    Kind::Text => Type::primitive_type_builder(name, Physical::BYTE_ARRAY)
                        .with_logical_type(Some(LogicalType::String)),
                };
                b.with_repetition(Repetition::OPTIONAL)
                    .build()
                    .map(Arc::new)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let schema = Type::group_type_builder("export")
            .with_fields(fields)
            .build()?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        self.writer = Some(SerializedFileWriter::new(
            self.out.clone(),
            Arc::new(schema),
            Arc::new(props),
        )?);
        Ok(())
    }
}

/// Note a cell's definition level (1 present, 0 null) and pass its value on.
fn level<T>(levels: &mut Vec<i16>, v: Option<T>) -> Option<T> {
    levels.push(i16::from(v.is_some()));
    v
}

fn as_int(v: &J) -> Option<i64> {
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
}

fn text(v: &J) -> Option<String> {
    match v {
        J::Null => None,
        J::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
