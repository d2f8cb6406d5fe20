//! The plinth server as a library: configuration, app resolution and serving, so the
//! binary and the integration tests start the same thing.

pub mod admin;
pub mod apps;
pub mod backup;
pub mod banner;
pub mod config;
pub mod reference;
pub mod serve;
pub mod tls;
mod token_secret;

pub use config::Config;
pub use serve::{start, Running};
