//! Synthetic data: a JSON request (a built-in entity or a list of typed columns) turned
//! into a repeatable stream of realistic-looking rows.
//!
//! A leaf crate with no other Plinth dependency, used by the DataGen app's generation job:
//! the `POST /generate` body goes through [`parse`], which checks it and reports every
//! problem at once ([`SpecErrors`]), and [`rows`] yields the rows, which the job writes in
//! batches. The same [`GenSpec`] (same seed) always gives the same rows, whatever the batch
//! size; [`GenSpec::to_json`] is the normal form to store with the job to repeat it.
//!
//! ```
//! let spec = plinth_generators::parse(&serde_json::json!({
//!     "columns": [
//!         {"name": "id", "type": "sequence"},
//!         {"name": "score", "type": "int", "min": 0, "max": 100},
//!         {"name": "label", "type": "enum", "values": ["a", "b"], "nullable": 0.1}
//!     ],
//!     "rows": 3,
//!     "seed": 7
//! }))?;
//! let rows: Vec<_> = plinth_generators::rows(&spec).collect();
//! assert_eq!(rows.len(), 3);
//! assert_eq!(rows[2]["id"], 3);
//! # Ok::<(), plinth_generators::SpecErrors>(())
//! ```

mod columns;
mod entities;
mod errors;
mod generate;
mod params;
mod parse;
mod rng;
mod spec;
mod words;

pub use errors::SpecErrors;
pub use generate::{rows, Generator};
pub use parse::parse;
pub use spec::{GenSpec, COLUMN_TYPES, ENTITIES, MAX_COLUMNS, MAX_ROWS};
