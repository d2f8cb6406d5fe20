//! Reading requests: the accepted forms, the normal form, and every error's field path.

use plinth_generators::{parse, GenSpec, SpecErrors, MAX_ROWS};
use serde_json::{json, Value};

fn ok(body: Value) -> GenSpec {
    parse(&body).expect("valid request")
}

fn bad(body: Value) -> SpecErrors {
    parse(&body).expect_err("invalid request")
}

/// Asserts that `field` has an error whose message contains `needle`.
fn has(errs: &SpecErrors, field: &str, needle: &str) {
    let message = errs
        .get(field)
        .unwrap_or_else(|| panic!("no error for {field}; got {errs}"));
    assert!(message.contains(needle), "{field}: {message}");
}

#[test]
fn entity_form() {
    let spec = ok(json!({"entity": "users", "rows": 1000, "seed": 42}));
    assert_eq!(spec.rows(), 1000);
    assert_eq!(spec.seed(), 42);
    assert_eq!(spec.entity(), Some("users"));
    assert_eq!(
        spec.column_names(),
        [
            "id",
            "first_name",
            "last_name",
            "email",
            "age",
            "city",
            "country",
            "created_at"
        ]
    );
    let products = ok(json!({"entity": "products", "rows": 1}));
    assert_eq!(
        products.column_names(),
        [
            "id",
            "name",
            "category",
            "price",
            "sku",
            "in_stock",
            "created_at"
        ]
    );
    let orders = ok(json!({"entity": "orders", "rows": 1}));
    assert_eq!(
        orders.column_names(),
        [
            "id",
            "customer_email",
            "product_sku",
            "quantity",
            "unit_price",
            "total",
            "status",
            "ordered_at"
        ]
    );
}

#[test]
fn columns_form_fills_in_defaults() {
    let spec = ok(json!({
        "columns": [
            {"name": "score", "type": "int", "min": 0, "max": 100},
            {"name": "label", "type": "enum", "values": ["a", "b"]},
            {"name": "n", "type": "int"},
            {"name": "t", "type": "text"},
            {"name": "on", "type": "bool", "nullable": 0.25},
            {"name": "s", "type": "sequence"},
            {"name": "d", "type": "date", "from": "2024-01-01", "to": "2024-12-31T10:00:00+02:00"},
        ],
        "rows": 7,
        "seed": 7,
        "as_of": "2025-06-01"
    }));
    assert_eq!(spec.entity(), None);
    assert_eq!(
        spec.column_names(),
        ["score", "label", "n", "t", "on", "s", "d"]
    );
    let normal = spec.to_json();
    assert_eq!(normal["rows"], 7);
    assert_eq!(normal["seed"], 7);
    assert_eq!(normal["as_of"], "2025-06-01T00:00:00Z");
    let cols = &normal["columns"];
    assert_eq!(
        cols[0],
        json!({"name": "score", "type": "int", "min": 0, "max": 100})
    );
    assert_eq!(
        cols[2],
        json!({"name": "n", "type": "int", "min": 0, "max": 100})
    );
    assert_eq!(cols[3], json!({"name": "t", "type": "text", "words": 3}));
    assert_eq!(
        cols[4],
        json!({"name": "on", "type": "bool", "probability": 0.5, "nullable": 0.25})
    );
    assert_eq!(
        cols[5],
        json!({"name": "s", "type": "sequence", "start": 1})
    );
    assert_eq!(
        cols[6],
        json!({"name": "d", "type": "date", "from": "2024-01-01", "to": "2024-12-31"})
    );
}

#[test]
fn normal_form_parses_back_to_the_same_spec() {
    for body in [
        json!({"entity": "orders", "rows": 5}),
        json!({"columns": [
            {"name": "f", "type": "float", "min": -1.5, "max": 2, "decimals": 1},
            {"name": "ts", "type": "timestamp", "from": "2024-01-01T00:00:00.5Z", "to": "2024-02-01"},
            {"name": "d", "type": "date"},
            {"name": "e", "type": "email", "nullable": 0.1},
        ], "rows": 3}),
    ] {
        let spec = ok(body);
        let again = ok(spec.to_json());
        assert_eq!(again, spec);
        assert_eq!(again.to_json(), spec.to_json());
    }
}

#[test]
fn missing_seed_is_chosen_and_recorded() {
    let a = ok(json!({"entity": "users", "rows": 1}));
    let b = ok(json!({"entity": "users", "rows": 1}));
    assert_ne!(a.seed(), b.seed(), "two fresh seeds should differ");
    assert!(
        a.seed() < 1 << 53,
        "fresh seeds stay exact as JavaScript numbers"
    );
    assert_eq!(a.to_json()["seed"], a.seed());
    let large = ok(json!({"entity": "users", "rows": 1, "seed": u64::MAX}));
    assert_eq!(large.seed(), u64::MAX);
}

#[test]
fn rows_limits() {
    assert_eq!(
        ok(json!({"entity": "users", "rows": MAX_ROWS})).rows(),
        1_000_000
    );
    for rows in [
        json!(0),
        json!(1_000_001),
        json!(-3),
        json!(2.5),
        json!("10"),
    ] {
        let errs = bad(json!({"entity": "users", "rows": rows}));
        assert_eq!(
            errs.errors(),
            [(
                "rows".to_string(),
                "must be an integer from 1 to 1000000".to_string()
            )]
        );
    }
    has(&bad(json!({"entity": "users"})), "rows", "is required");
}

#[test]
fn top_level_errors_are_collected_together() {
    let errs = bad(json!({"entity": "cars", "rows": 0, "seed": -1, "as_of": "soon", "color": 1}));
    has(
        &errs,
        "entity",
        "unknown entity `cars`; one of: users, products, orders",
    );
    has(&errs, "rows", "from 1 to 1000000");
    has(&errs, "seed", "must be an integer");
    has(&errs, "as_of", "RFC 3339");
    has(&errs, "color", "unknown key");
    assert_eq!(errs.errors().len(), 5);
    let text = errs.to_string();
    assert!(text.contains("entity: unknown entity `cars`"), "{text}");
    assert_eq!(errs.to_json()[0]["field"], "color");
}

#[test]
fn exactly_one_of_entity_and_columns() {
    has(
        &bad(json!({"rows": 1})),
        "body",
        "one of `entity` or `columns`",
    );
    let both = json!({"entity": "users", "columns": [{"name": "a", "type": "uuid"}], "rows": 1});
    has(&bad(both), "columns", "not both");
    has(&bad(json!([1, 2])), "body", "JSON object");
    has(
        &bad(json!({"entity": 5, "rows": 1})),
        "entity",
        "unknown entity `5`",
    );
}

#[test]
fn column_errors_have_their_paths() {
    let errs = bad(json!({
        "columns": [
            {"name": "ok", "type": "int", "min": 10, "max": 5},
            {"name": "9lives", "type": "text", "words": 0},
            {"name": "x", "type": "foo"},
            {"name": "OK", "type": "uuid"},
            {"type": "enum", "values": []},
            {"name": "e2", "type": "enum", "values": ["a", 3]},
            {"name": "p", "type": "bool", "probability": 1.5, "nullable": -0.1},
            {"name": "f", "type": "float", "min": 0.11, "max": 0.19, "decimals": 1},
            {"name": "d", "type": "date", "from": "2024-02-01", "to": "2024-01-01"},
            {"name": "ts", "type": "timestamp", "from": "yesterday", "to": 5},
            {"name": "seq", "type": "sequence", "start": 9_223_372_036_854_775_800i64},
            {"name": "c", "type": "city", "min": 1},
            "not an object",
            {"name": "n"},
            {"name": "a-b", "type": "uuid"},
            {"name": "x".repeat(64), "type": "uuid"},
        ],
        "rows": 10
    }));
    has(&errs, "columns[0].max", "must not be less than min (10)");
    has(&errs, "columns[1].name", "must start with a letter");
    has(&errs, "columns[1].words", "from 1 to 100");
    has(
        &errs,
        "columns[2].type",
        "unknown type `foo`; one of: uuid, int, float",
    );
    has(&errs, "columns[3].name", "duplicate column name `OK`");
    has(&errs, "columns[4].name", "is required");
    has(&errs, "columns[4].values", "non-empty array of strings");
    has(&errs, "columns[5].values[1]", "must be a string");
    has(&errs, "columns[6].probability", "from 0 to 1");
    has(&errs, "columns[6].nullable", "from 0 to 1");
    has(&errs, "columns[7].decimals", "no number with 1 decimals");
    has(
        &errs,
        "columns[8].from",
        "must not be after to (2024-01-01)",
    );
    has(&errs, "columns[9].from", "RFC 3339");
    has(&errs, "columns[9].to", "RFC 3339");
    has(&errs, "columns[10].start", "too large");
    has(&errs, "columns[11].min", "unknown key for type `city`");
    has(&errs, "columns[12]", "must be an object");
    has(&errs, "columns[13].type", "is required");
    has(&errs, "columns[14].name", "letters, digits");
    has(&errs, "columns[15].name", "at most 63");
    assert_eq!(errs.errors().len(), 20, "{errs}");
}

#[test]
fn column_count_and_names() {
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"name": format!("c{i}"), "type": "uuid"}))
        .collect();
    has(
        &bad(json!({"columns": many, "rows": 1})),
        "columns",
        "from 1 to 100",
    );
    has(
        &bad(json!({"columns": [], "rows": 1})),
        "columns",
        "from 1 to 100",
    );
    has(&bad(json!({"columns": {}, "rows": 1})), "columns", "array");
    let hundred: Vec<Value> = (0..100)
        .map(|i| json!({"name": format!("c{i}"), "type": "uuid"}))
        .collect();
    assert_eq!(
        ok(json!({"columns": hundred, "rows": 1}))
            .column_names()
            .len(),
        100
    );
    let long = "_".to_string() + &"a".repeat(62);
    ok(json!({"columns": [{"name": long, "type": "uuid"}], "rows": 1}));
}

#[test]
fn sequence_may_end_at_the_largest_integer() {
    let start = i64::MAX - 9;
    let body = json!({"columns": [{"name": "s", "type": "sequence", "start": start}], "rows": 10});
    ok(body);
    let over = json!({"columns": [{"name": "s", "type": "sequence", "start": start}], "rows": 11});
    has(&bad(over), "columns[0].start", "too large");
}
