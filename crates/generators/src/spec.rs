//! The checked form of a generation request, and the errors a request can have.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

/// The most rows one request may ask for.
pub const MAX_ROWS: u64 = 1_000_000;

/// The most columns a `columns` request may list.
pub const MAX_COLUMNS: usize = 100;

/// The built-in entities, by name.
pub const ENTITIES: &[&str] = &["users", "products", "orders"];

/// The column types a `columns` request may use.
pub const COLUMN_TYPES: &[&str] = &[
    "uuid",
    "int",
    "float",
    "bool",
    "text",
    "name",
    "first_name",
    "last_name",
    "email",
    "city",
    "country",
    "company",
    "date",
    "timestamp",
    "enum",
    "sequence",
];

/// A checked generation request: what to generate, how many rows, and the seed that makes
/// the output repeatable.
#[derive(Debug, Clone, PartialEq)]
pub struct GenSpec {
    /// The built-in entity, or `None` for a `columns` request.
    pub(crate) entity: Option<&'static str>,
    /// The columns in output order (a built-in entity's too).
    pub(crate) columns: Vec<Column>,
    pub(crate) rows: u64,
    pub(crate) seed: u64,
    /// The instant relative dates ("the last two years") count back from.
    pub(crate) as_of: DateTime<Utc>,
}

/// One output column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    /// Probability of `null` instead of a value.
    pub(crate) nullable: f64,
}

/// What a column holds. The `slot` of the person, place and product kinds says which of
/// the row's people (places, products) the column describes: the first `first_name`, the
/// first `last_name` and the first `email` of a row belong to one person, the second ones
/// to another.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Uuid,
    Int {
        min: i64,
        max: i64,
    },
    Float {
        min: f64,
        max: f64,
        decimals: Option<u32>,
    },
    Bool {
        probability: f64,
    },
    Text {
        words: u32,
    },
    Name {
        slot: usize,
    },
    FirstName {
        slot: usize,
    },
    LastName {
        slot: usize,
    },
    /// `unique`: the number in the address comes from the row index, so no two rows share
    /// an address; otherwise it is random.
    Email {
        slot: usize,
        unique: bool,
    },
    City {
        slot: usize,
    },
    Country {
        slot: usize,
    },
    Company,
    Date {
        from: NaiveDate,
        to: NaiveDate,
    },
    Timestamp {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    Enum {
        values: Vec<String>,
    },
    Sequence {
        start: i64,
    },
    // Only in built-in entities:
    ProductName {
        slot: usize,
    },
    Category {
        slot: usize,
    },
    Sku {
        unique: bool,
    },
    /// `values[i]` with probability proportional to `weights[i]`.
    Weighted {
        values: &'static [&'static str],
        weights: &'static [u32],
    },
    /// The product of two earlier columns (an int and a price), in cents.
    Total {
        quantity: usize,
        unit_price: usize,
    },
}

impl Kind {
    /// The type name a `columns` request uses for this kind.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Kind::Uuid => "uuid",
            Kind::Int { .. } => "int",
            Kind::Sequence { .. } => "sequence",
            Kind::Float { .. } | Kind::Total { .. } => "float",
            Kind::Bool { .. } => "bool",
            Kind::Text { .. }
            | Kind::ProductName { .. }
            | Kind::Category { .. }
            | Kind::Sku { .. } => "text",
            Kind::Name { .. } => "name",
            Kind::FirstName { .. } => "first_name",
            Kind::LastName { .. } => "last_name",
            Kind::Email { .. } => "email",
            Kind::City { .. } => "city",
            Kind::Country { .. } => "country",
            Kind::Company => "company",
            Kind::Date { .. } => "date",
            Kind::Timestamp { .. } => "timestamp",
            Kind::Enum { .. } | Kind::Weighted { .. } => "enum",
        }
    }
}

/// An instant as the API writes it: RFC 3339, whole seconds, `Z`.
pub(crate) fn format_instant(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl GenSpec {
    /// How many rows the request asked for.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The seed: the request's, or the one chosen for it when it gave none.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The built-in entity (`users`, `products`, `orders`), or `None` for a `columns` request.
    pub fn entity(&self) -> Option<&str> {
        self.entity
    }

    /// The instant relative dates count back from (the request's `as_of`, or the start of
    /// the UTC day it was parsed on).
    pub fn as_of(&self) -> DateTime<Utc> {
        self.as_of
    }

    /// The output column names, in order.
    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// Each output column's name with its type (`int`, `email`, ...), in order; the
    /// built-in entities' columns report the plain type their values have.
    pub fn column_types(&self) -> Vec<(String, &'static str)> {
        self.columns
            .iter()
            .map(|c| (c.name.clone(), c.kind.type_name()))
            .collect()
    }

    /// A number for what is generated (the entity, or the columns with their parameters),
    /// mixed into the random streams so that specs sharing a seed do not share values:
    /// `users` and `products` with seed 42 get different ids. FNV-1a over the normal form,
    /// so it is the same on every platform and release.
    pub(crate) fn shape_key(&self) -> u64 {
        let shape = match self.entity {
            Some(entity) => entity.to_string(),
            None => Value::Array(self.columns.iter().map(column_json).collect()).to_string(),
        };
        shape.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }

    /// The request in normal form: defaults written out, the seed and `as_of` filled in.
    /// Parsing it again gives an equal spec, so it can be stored to repeat a job exactly.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        match self.entity {
            Some(entity) => {
                out.insert("entity".into(), json!(entity));
            }
            None => {
                let columns = self.columns.iter().map(column_json).collect();
                out.insert("columns".into(), Value::Array(columns));
            }
        }
        out.insert("rows".into(), json!(self.rows));
        out.insert("seed".into(), json!(self.seed));
        out.insert("as_of".into(), json!(format_instant(&self.as_of)));
        Value::Object(out)
    }
}

/// One column of a `columns` request in normal form.
fn column_json(column: &Column) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(column.name));
    out.insert("type".into(), json!(column.kind.type_name()));
    match &column.kind {
        Kind::Int { min, max } => {
            out.insert("min".into(), json!(min));
            out.insert("max".into(), json!(max));
        }
        Kind::Float { min, max, decimals } => {
            out.insert("min".into(), json!(min));
            out.insert("max".into(), json!(max));
            if let Some(d) = decimals {
                out.insert("decimals".into(), json!(d));
            }
        }
        Kind::Bool { probability } => {
            out.insert("probability".into(), json!(probability));
        }
        Kind::Text { words } => {
            out.insert("words".into(), json!(words));
        }
        Kind::Date { from, to } => {
            out.insert("from".into(), json!(from.format("%Y-%m-%d").to_string()));
            out.insert("to".into(), json!(to.format("%Y-%m-%d").to_string()));
        }
        Kind::Timestamp { from, to } => {
            out.insert("from".into(), json!(format_instant(from)));
            out.insert("to".into(), json!(format_instant(to)));
        }
        Kind::Enum { values } => {
            out.insert("values".into(), json!(values));
        }
        Kind::Sequence { start } => {
            out.insert("start".into(), json!(start));
        }
        _ => {}
    }
    if column.nullable > 0.0 {
        out.insert("nullable".into(), json!(column.nullable));
    }
    Value::Object(out)
}
