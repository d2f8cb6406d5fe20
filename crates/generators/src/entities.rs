//! The built-in entities as column lists.

use chrono::{DateTime, Utc};

use crate::parse::two_years_before;
use crate::spec::{Column, Kind, ENTITIES};

/// Order states, most orders having arrived.
const STATUSES: &[&str] = &["pending", "paid", "shipped", "delivered", "cancelled"];
/// How often each of [`STATUSES`] comes up, out of 100.
const STATUS_WEIGHTS: &[u32] = &[10, 15, 20, 45, 10];

/// The columns of a built-in entity, with its name as `'static`; `None` for an unknown name.
/// Timestamps fall in the two years before `as_of`.
pub(crate) fn entity_columns(
    name: &str,
    as_of: DateTime<Utc>,
) -> Option<(Option<&'static str>, Vec<Column>)> {
    let entity = *ENTITIES.iter().find(|e| **e == name)?;
    let recent = Kind::Timestamp {
        from: two_years_before(as_of),
        to: as_of,
    };
    let price = Kind::Float {
        min: 1.0,
        max: 2000.0,
        decimals: Some(2),
    };
    let columns = match entity {
        "users" => vec![
            col("id", Kind::Uuid),
            col("first_name", Kind::FirstName { slot: 0 }),
            col("last_name", Kind::LastName { slot: 0 }),
            col(
                "email",
                Kind::Email {
                    slot: 0,
                    unique: true,
                },
            ),
            col("age", Kind::Int { min: 18, max: 90 }),
            col("city", Kind::City { slot: 0 }),
            col("country", Kind::Country { slot: 0 }),
            col("created_at", recent),
        ],
        "products" => vec![
            col("id", Kind::Uuid),
            col("name", Kind::ProductName { slot: 0 }),
            col("category", Kind::Category { slot: 0 }),
            col("price", price),
            col("sku", Kind::Sku { unique: true }),
            col("in_stock", Kind::Bool { probability: 0.85 }),
            col("created_at", recent),
        ],
        _ => vec![
            col("id", Kind::Uuid),
            col(
                "customer_email",
                Kind::Email {
                    slot: 0,
                    unique: false,
                },
            ),
            col("product_sku", Kind::Sku { unique: false }),
            col("quantity", Kind::Int { min: 1, max: 10 }),
            col("unit_price", price),
            col(
                "total",
                Kind::Total {
                    quantity: 3,
                    unit_price: 4,
                },
            ),
            col(
                "status",
                Kind::Weighted {
                    values: STATUSES,
                    weights: STATUS_WEIGHTS,
                },
            ),
            col("ordered_at", recent),
        ],
    };
    Some((Some(entity), columns))
}

/// A column that is never null.
fn col(name: &str, kind: Kind) -> Column {
    Column {
        name: name.to_string(),
        kind,
        nullable: 0.0,
    }
}
