//! Generating rows: repeatability, batching, and that values stay in their ranges and look
//! like what they claim to be.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate};
use plinth_generators::{parse, rows, GenSpec};
use serde_json::{json, Map, Value};

fn spec(body: Value) -> GenSpec {
    parse(&body).expect("valid request")
}

fn all(spec: &GenSpec) -> Vec<Map<String, Value>> {
    rows(spec).collect()
}

fn text<'a>(row: &'a Map<String, Value>, key: &str) -> &'a str {
    row[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string: {row:?}"))
}

/// `local@domain.tld`: one `@`, a non-empty local part of letters, digits, `.`, `_`, and
/// a dotted domain.
fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
        && domain.contains('.')
        && !domain.contains('@')
        && domain.split('.').all(|p| !p.is_empty())
}

#[test]
fn same_seed_same_rows_different_seed_different_rows() {
    for entity in ["users", "products", "orders"] {
        let body = json!({"entity": entity, "rows": 200, "seed": 42, "as_of": "2025-01-01"});
        let first = all(&spec(body.clone()));
        assert_eq!(first, all(&spec(body)));
        let other = all(&spec(
            json!({"entity": entity, "rows": 200, "seed": 43, "as_of": "2025-01-01"}),
        ));
        assert_eq!(other.len(), 200);
        let same = first.iter().zip(&other).filter(|(a, b)| a == b).count();
        assert_eq!(same, 0, "{entity}: seed 43 repeated rows of seed 42");
    }
}

#[test]
fn output_is_pinned_for_a_seed() {
    // The exact first rows for fixed requests: if these change, every stored job's "run it
    // again with the same seed" changes too. Only update them on purpose.
    let s = spec(json!({"entity": "users", "rows": 1, "seed": 42, "as_of": "2025-01-01"}));
    assert_eq!(
        Value::Object(all(&s).remove(0)),
        json!({
            "id": "a35a9bd0-2aeb-4d47-82a7-8c917d2a5a2f",
            "first_name": "Hannah",
            "last_name": "Okafor",
            "email": "hannah_okafor6056@mail.example.com",
            "age": 82,
            "city": "Edinburgh",
            "country": "United Kingdom",
            "created_at": "2023-04-03T08:30:03Z"
        })
    );
    let s = spec(json!({
        "columns": [
            {"name": "n", "type": "int", "min": 0, "max": 1000},
            {"name": "f", "type": "float", "min": 0, "max": 100, "decimals": 2},
            {"name": "t", "type": "text", "words": 4},
            {"name": "e", "type": "enum", "values": ["x", "y", "z"]},
            {"name": "ts", "type": "timestamp", "from": "2024-01-01", "to": "2024-12-31"}
        ],
        "rows": 1,
        "seed": 7
    }));
    assert_eq!(
        Value::Object(all(&s).remove(0)),
        json!({
            "n": 617,
            "f": 54.43,
            "t": "Dolore anim in consectetur",
            "e": "x",
            "ts": "2024-12-06T11:25:11Z"
        })
    );
}

#[test]
fn entities_share_a_seed_but_not_ids() {
    let ids = |entity: &str| -> HashSet<String> {
        all(&spec(json!({"entity": entity, "rows": 50, "seed": 1})))
            .iter()
            .map(|r| text(r, "id").to_string())
            .collect()
    };
    let (users, products) = (ids("users"), ids("products"));
    assert_eq!(users.len(), 50);
    assert!(users.is_disjoint(&products));
}

#[test]
fn batches_match_the_whole_run() {
    let s = spec(json!({"entity": "orders", "rows": 1000, "seed": 9}));
    let whole = all(&s);
    let mut batched = Vec::new();
    for offset in (0..1000).step_by(300) {
        batched.extend(rows(&s).skip(offset).take(300));
    }
    assert_eq!(batched, whole);
    let mut g = rows(&s);
    assert_eq!(g.len(), 1000);
    assert_eq!(g.nth(999).as_ref(), whole.last());
    assert_eq!(g.position(), 1000);
    assert_eq!(g.next(), None);
    assert_eq!(rows(&s).row(123), whole[123]);
}

#[test]
fn users_look_like_users() {
    let s = spec(json!({"entity": "users", "rows": 2000, "seed": 5, "as_of": "2025-06-01"}));
    let as_of = DateTime::parse_from_rfc3339("2025-06-01T00:00:00Z").expect("date");
    let mut emails = HashSet::new();
    for row in all(&s) {
        assert_eq!(row.len(), 8);
        uuid::Uuid::parse_str(text(&row, "id")).expect("uuid");
        let email = text(&row, "email");
        assert!(looks_like_email(email), "{email}");
        let letters = |key: &str| -> String {
            let name = text(&row, key).chars().filter(char::is_ascii_alphabetic);
            name.collect::<String>().to_ascii_lowercase()
        };
        let (first, last) = (letters("first_name"), letters("last_name"));
        assert!(email.starts_with(&first[..1]), "{email} vs {first}");
        assert!(
            email.contains(&first) || email.contains(&last),
            "{email} vs {last}"
        );
        assert!(emails.insert(email.to_string()), "repeated {email}");
        let age = row["age"].as_i64().expect("age");
        assert!((18..=90).contains(&age), "{age}");
        let created = DateTime::parse_from_rfc3339(text(&row, "created_at")).expect("ts");
        assert!(
            created <= as_of && (as_of - created).num_days() <= 730,
            "{created}"
        );
        assert!(!text(&row, "city").is_empty() && !text(&row, "country").is_empty());
    }
}

const CATEGORIES: &[&str] = &[
    "Furniture",
    "Electronics",
    "Clothing",
    "Accessories",
    "Kitchen",
    "Sports",
    "Home",
    "Toys",
];

#[test]
fn products_look_like_products() {
    let s = spec(json!({"entity": "products", "rows": 2000, "seed": 8}));
    let mut skus = HashSet::new();
    let mut in_stock = 0;
    for row in all(&s) {
        assert!(text(&row, "name").split(' ').count() >= 3, "{row:?}");
        let category = text(&row, "category");
        assert!(CATEGORIES.contains(&category), "{category}");
        let price = row["price"].as_f64().expect("price");
        assert!((1.0..=2000.0).contains(&price), "{price}");
        assert!(
            ((price * 100.0).round() - price * 100.0).abs() < 1e-6,
            "{price}"
        );
        let sku = text(&row, "sku");
        assert!(sku.starts_with("SKU-") && sku[4..].chars().all(|c| c.is_ascii_digit()));
        assert_eq!(sku.len(), 9, "{sku}");
        assert!(skus.insert(sku.to_string()), "repeated {sku}");
        in_stock += usize::from(row["in_stock"].as_bool().expect("bool"));
    }
    assert!(
        (1500..2000).contains(&in_stock),
        "{in_stock} of 2000 in stock"
    );
}

#[test]
fn order_totals_are_quantity_times_price() {
    let s = spec(json!({"entity": "orders", "rows": 3000, "seed": 11}));
    let statuses = ["pending", "paid", "shipped", "delivered", "cancelled"];
    let mut seen = HashSet::new();
    for row in all(&s) {
        let q = row["quantity"].as_i64().expect("quantity");
        assert!((1..=10).contains(&q));
        let cents = (row["unit_price"].as_f64().expect("price") * 100.0).round() as i64;
        let total = (row["total"].as_f64().expect("total") * 100.0).round() as i64;
        assert_eq!(total, q * cents, "{row:?}");
        assert!(looks_like_email(text(&row, "customer_email")));
        assert!(text(&row, "product_sku").starts_with("SKU-"));
        let status = text(&row, "status");
        assert!(statuses.contains(&status), "{status}");
        seen.insert(status.to_string());
    }
    assert_eq!(seen.len(), 5);
}

#[test]
fn column_values_stay_in_range() {
    let s = spec(json!({
        "columns": [
            {"name": "score", "type": "int", "min": -5, "max": 5},
            {"name": "label", "type": "enum", "values": ["a", "b", "c"]},
            {"name": "maybe", "type": "int", "min": 1, "max": 1, "nullable": 0.3},
            {"name": "never", "type": "bool", "probability": 0},
            {"name": "price", "type": "float", "min": 0.07, "max": 0.1, "decimals": 2},
            {"name": "ratio", "type": "float", "min": 2.5, "max": 3},
            {"name": "whole", "type": "float", "min": 1, "max": 3, "decimals": 0},
            {"name": "day", "type": "date", "from": "2024-02-27", "to": "2024-03-02"},
            {"name": "at", "type": "timestamp", "from": "2024-01-01T10:00:00Z", "to": "2024-01-01"},
            {"name": "seq", "type": "sequence", "start": 100},
            {"name": "words", "type": "text", "words": 5},
        ],
        "rows": 3000,
        "seed": 3
    }));
    let (mut scores, mut labels, mut nulls, mut days) =
        (HashSet::new(), HashSet::new(), 0, HashSet::new());
    for (i, row) in all(&s).iter().enumerate() {
        assert_eq!(
            row.keys().collect::<Vec<_>>(),
            [
                "score", "label", "maybe", "never", "price", "ratio", "whole", "day", "at", "seq",
                "words"
            ]
        );
        scores.insert(row["score"].as_i64().expect("int"));
        labels.insert(text(row, "label").to_string());
        match &row["maybe"] {
            Value::Null => nulls += 1,
            v => assert_eq!(v, &json!(1)),
        }
        assert_eq!(row["never"], json!(false));
        let price = row["price"].as_f64().expect("price");
        assert!([0.07, 0.08, 0.09, 0.1].contains(&price), "{price}");
        let ratio = row["ratio"].as_f64().expect("ratio");
        assert!((2.5..=3.0).contains(&ratio));
        assert!(row["whole"].is_i64() && (1..=3).contains(&row["whole"].as_i64().unwrap_or(0)));
        let day = NaiveDate::parse_from_str(text(row, "day"), "%Y-%m-%d").expect("date");
        days.insert(day);
        let at = text(row, "at");
        assert!(at.starts_with("2024-01-01T") && at.ends_with('Z') && at >= "2024-01-01T10:00:00Z");
        assert_eq!(row["seq"], json!(100 + i));
        assert_eq!(text(row, "words").split(' ').count(), 5);
    }
    assert_eq!(scores, (-5..=5).collect());
    assert_eq!(labels.len(), 3);
    assert!((700..1100).contains(&nulls), "{nulls} nulls of 3000 at 0.3");
    let feb27 = NaiveDate::from_ymd_opt(2024, 2, 27).expect("date");
    let expected: HashSet<_> = feb27.iter_days().take(5).collect(); // leap year: 27, 28, 29, 1, 2
    assert_eq!(days, expected);
}

#[test]
fn people_and_places_agree_within_a_row() {
    let s = spec(json!({
        "columns": [
            {"name": "first", "type": "first_name"},
            {"name": "last", "type": "last_name"},
            {"name": "full", "type": "name"},
            {"name": "mail", "type": "email"},
            {"name": "other", "type": "name"},
            {"name": "city", "type": "city"},
            {"name": "country", "type": "country"},
            {"name": "employer", "type": "company"},
        ],
        "rows": 500,
        "seed": 21
    }));
    let mut different_people = 0;
    let mut pairs = std::collections::HashMap::new();
    for row in all(&s) {
        let full = format!("{} {}", text(&row, "first"), text(&row, "last"));
        assert_eq!(text(&row, "full"), full);
        let mail = text(&row, "mail").to_string();
        let first = text(&row, "first").to_ascii_lowercase();
        assert!(
            mail.starts_with(&first[..1]) && looks_like_email(&mail),
            "{mail} / {full}"
        );
        different_people += usize::from(text(&row, "other") != full);
        let country = pairs
            .entry(text(&row, "city").to_string())
            .or_insert_with(|| text(&row, "country").to_string());
        assert_eq!(country, text(&row, "country"), "a city in two countries");
        assert!(!text(&row, "employer").is_empty());
    }
    assert!(
        different_people > 450,
        "the second name column should be another person"
    );
}
