//! Rows from a [`GenSpec`].

use std::iter::FusedIterator;

use chrono::Days;
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use serde_json::{json, Map, Value};

use crate::params::scaled_bounds;
use crate::rng::{below, chance, in_range, pick, row_rng, unit, weighted, Scramble};
use crate::spec::{format_instant, Column, GenSpec, Kind};
use crate::words::{
    COMPANY_PREFIXES, COMPANY_SUFFIXES, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, LOREM, PLACES,
    PRODUCT_ADJECTIVES, PRODUCT_MATERIALS, PRODUCT_NOUNS,
};

/// The rows of `spec`, in order: `spec.rows()` JSON objects whose keys are the columns
/// in order. The same spec (same seed) always gives the same rows.
///
/// Row `n` does not depend on the rows before it, so skipping is free:
/// `rows(&spec).skip(offset).take(batch)` produces one batch without producing the
/// rows before it.
pub fn rows(spec: &GenSpec) -> Generator {
    Generator::new(spec)
}

/// An iterator over the rows of a [`GenSpec`]; see [`rows`].
#[derive(Debug, Clone)]
pub struct Generator {
    columns: Vec<Column>,
    seed: u64,
    shape: u64,
    next: u64,
    end: u64,
    unique: Scramble,
}

/// The people, places and products one row describes, drawn when a column first needs
/// them so that e.g. a row's `email` is made from the row's `first_name` and `last_name`.
#[derive(Default)]
struct RowCtx {
    people: Vec<Option<(&'static str, &'static str)>>,
    places: Vec<Option<usize>>,
    products: Vec<Option<(usize, usize, usize)>>,
}

/// Slot `slot` of `items`, drawn with `draw` the first time.
fn slot<T: Copy>(items: &mut Vec<Option<T>>, slot: usize, draw: impl FnOnce() -> T) -> T {
    if items.len() <= slot {
        items.resize(slot + 1, None);
    }
    *items[slot].get_or_insert_with(draw)
}

impl Generator {
    /// A generator positioned at the first row of `spec`.
    pub fn new(spec: &GenSpec) -> Self {
        let shape = spec.shape_key();
        Generator {
            columns: spec.columns.clone(),
            seed: spec.seed,
            shape,
            next: 0,
            end: spec.rows,
            unique: Scramble::new(spec.seed ^ shape, spec.rows),
        }
    }

    /// The index of the row [`Iterator::next`] returns next.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// Row `index` (from 0), the same value the iterator gives at that position.
    pub fn row(&self, index: u64) -> Map<String, Value> {
        let mut rng = row_rng(self.seed, self.shape, index);
        let mut ctx = RowCtx::default();
        let mut row = Map::new();
        for column in &self.columns {
            let value = if chance(&mut rng, column.nullable) {
                Value::Null
            } else {
                self.value(&column.kind, index, &mut rng, &mut ctx, &row)
            };
            row.insert(column.name.clone(), value);
        }
        row
    }

    /// One value of `kind` for row `index`; `row` holds the row's earlier columns.
    fn value(
        &self,
        kind: &Kind,
        index: u64,
        rng: &mut ChaCha8Rng,
        ctx: &mut RowCtx,
        row: &Map<String, Value>,
    ) -> Value {
        match kind {
            Kind::Uuid => {
                let mut bytes = [0u8; 16];
                rng.fill_bytes(&mut bytes);
                json!(uuid::Builder::from_random_bytes(bytes)
                    .into_uuid()
                    .to_string())
            }
            Kind::Int { min, max } => json!(in_range(rng, *min, *max)),
            Kind::Float { min, max, decimals } => float(rng, *min, *max, *decimals),
            Kind::Bool { probability } => json!(chance(rng, *probability)),
            Kind::Text { words } => json!(text(rng, *words)),
            Kind::Name { slot: s } => {
                let (first, last) = person(rng, ctx, *s);
                json!(format!("{first} {last}"))
            }
            Kind::FirstName { slot: s } => json!(person(rng, ctx, *s).0),
            Kind::LastName { slot: s } => json!(person(rng, ctx, *s).1),
            Kind::Email { slot: s, unique } => {
                let who = person(rng, ctx, *s);
                let number = if *unique {
                    self.unique.apply(index)
                } else {
                    below(rng, 100_000)
                };
                json!(email(rng, who, number))
            }
            Kind::City { slot: s } => json!(PLACES[place(rng, ctx, *s)].0),
            Kind::Country { slot: s } => json!(PLACES[place(rng, ctx, *s)].1),
            Kind::Company => json!(company(rng)),
            Kind::Date { from, to } => {
                let days = (*to - *from).num_days().max(0) as u64;
                let day = from.checked_add_days(Days::new(below(rng, days + 1)));
                day.map_or(Value::Null, |d| json!(d.format("%Y-%m-%d").to_string()))
            }
            Kind::Timestamp { from, to } => {
                let secs = in_range(rng, from.timestamp(), to.timestamp());
                chrono::DateTime::from_timestamp(secs, 0)
                    .map_or(Value::Null, |t| json!(format_instant(&t)))
            }
            Kind::Enum { values } => json!(pick(rng, values)),
            Kind::Sequence { start } => i64::try_from(index)
                .ok()
                .and_then(|i| start.checked_add(i))
                .map_or(Value::Null, |n| json!(n)),
            Kind::ProductName { slot: s } => {
                let (adjective, material, noun) = product(rng, ctx, *s);
                let (adjective, material) =
                    (PRODUCT_ADJECTIVES[adjective], PRODUCT_MATERIALS[material]);
                json!(format!("{adjective} {material} {}", PRODUCT_NOUNS[noun].0))
            }
            Kind::Category { slot: s } => json!(PRODUCT_NOUNS[product(rng, ctx, *s).2].1),
            Kind::Sku { unique: true } => {
                let width = self.unique.digits;
                json!(format!("SKU-{:0width$}", self.unique.apply(index)))
            }
            Kind::Sku { unique: false } => json!(format!("SKU-{:05}", below(rng, 100_000))),
            Kind::Weighted { values, weights } => json!(values[weighted(rng, weights)]),
            Kind::Total {
                quantity,
                unit_price,
            } => {
                let get = |i: usize| self.columns.get(i).and_then(|c| row.get(&c.name));
                let quantity = get(*quantity).and_then(Value::as_i64);
                let price = get(*unit_price).and_then(Value::as_f64);
                match (quantity, price) {
                    (Some(q), Some(p)) => json!((q * (p * 100.0).round() as i64) as f64 / 100.0),
                    _ => Value::Null,
                }
            }
        }
    }
}

/// The row's person `slot`: (first name, last name).
fn person(rng: &mut ChaCha8Rng, ctx: &mut RowCtx, s: usize) -> (&'static str, &'static str) {
    slot(&mut ctx.people, s, || {
        (*pick(rng, FIRST_NAMES), *pick(rng, LAST_NAMES))
    })
}

/// The row's place `slot`, an index into [`PLACES`].
fn place(rng: &mut ChaCha8Rng, ctx: &mut RowCtx, s: usize) -> usize {
    slot(&mut ctx.places, s, || {
        below(rng, PLACES.len() as u64) as usize
    })
}

/// The row's product `slot`: indices of adjective, material and noun.
fn product(rng: &mut ChaCha8Rng, ctx: &mut RowCtx, s: usize) -> (usize, usize, usize) {
    slot(&mut ctx.products, s, || {
        let mut index = |n: usize| below(rng, n as u64) as usize;
        (
            index(PRODUCT_ADJECTIVES.len()),
            index(PRODUCT_MATERIALS.len()),
            index(PRODUCT_NOUNS.len()),
        )
    })
}

/// A float in `min..=max`, with `decimals` decimals if given (an integer for 0).
fn float(rng: &mut ChaCha8Rng, min: f64, max: f64, decimals: Option<u32>) -> Value {
    match decimals {
        None => {
            let u = unit(rng);
            json!((min * (1.0 - u) + max * u).clamp(min, max))
        }
        Some(0) => {
            let (lo, hi) = scaled_bounds(min, max, 0);
            json!(in_range(rng, lo, hi))
        }
        Some(d) => {
            let (lo, hi) = scaled_bounds(min, max, d);
            json!(in_range(rng, lo, hi) as f64 / 10f64.powi(d as i32))
        }
    }
}

/// An address made from a person's name and `number`. The name part ends in a letter, so
/// distinct numbers give distinct addresses.
fn email(rng: &mut ChaCha8Rng, (first, last): (&str, &str), number: u64) -> String {
    let letters = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphabetic)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let (first, last) = (letters(first), letters(last));
    let initial = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    let local = match below(rng, 4) {
        0 => format!("{first}.{last}{number}"),
        1 => format!("{}{last}{number}", initial(&first)),
        2 => format!("{first}_{last}{number}"),
        _ => format!("{first}{}{number}", initial(&last)),
    };
    format!("{local}@{}", pick(rng, EMAIL_DOMAINS))
}

/// A company name such as "Garcia Holdings", "Lee & Novak" or "Summit Logistics".
fn company(rng: &mut ChaCha8Rng) -> String {
    match below(rng, 3) {
        0 => format!("{} {}", pick(rng, LAST_NAMES), pick(rng, COMPANY_SUFFIXES)),
        1 => format!("{} & {}", pick(rng, LAST_NAMES), pick(rng, LAST_NAMES)),
        _ => format!(
            "{} {}",
            pick(rng, COMPANY_PREFIXES),
            pick(rng, COMPANY_SUFFIXES)
        ),
    }
}

/// `words` filler words, the first capitalised.
fn text(rng: &mut ChaCha8Rng, words: u32) -> String {
    let mut out = String::new();
    for i in 0..words {
        let word = *pick(rng, LOREM);
        if i == 0 {
            let mut chars = word.chars();
            if let Some(c) = chars.next() {
                out.push(c.to_ascii_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(word);
        }
    }
    out
}

impl Iterator for Generator {
    type Item = Map<String, Value>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.end {
            return None;
        }
        let row = self.row(self.next);
        self.next += 1;
        Some(row)
    }

    /// Jumps straight to the row: rows do not depend on the ones before them.
    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        self.next = self.next.saturating_add(n as u64).min(self.end);
        self.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.end - self.next).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Generator {}

impl FusedIterator for Generator {}
