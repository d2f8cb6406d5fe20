//! The app service: the one place that does an operation on an app. HTTP, the CLI, demo
//! loading and (later) jobs and realtime all call it with a [`Ctx`]; it owns the manifest,
//! the validator and the store, validates input, builds each write as one
//! [`plinth_store::WriteUnit`] and applies it atomically.
//!
//! It knows no HTTP and writes no SQL: statements come from the store's builders.

mod access;
mod action;
mod aggregate;
mod audit;
mod auth;
mod bus;
mod collection;
mod dedupe;
mod demo;
mod error;
mod events;
pub mod jobs;
mod limits;
mod nested;
mod read;
mod transition;
mod triggers;
mod write;

use std::sync::Arc;

use indexmap::IndexMap;
pub use plinth_context::{Caller, Ctx};
use plinth_manifest::Manifest;
use plinth_records::Validator;
use plinth_store::{MigrationStatus, Store, StoreError, StoreOptions};

pub use auth::{SignedIn, SERVICE_TOKEN_PREFIX, SERVICE_TOKEN_SEEN_FOR};
pub use collection::CollectionHandle;
pub use demo::DemoError;
pub use error::CoreError;
pub use events::{Event, RecordOp, EVENTS_LOST, SESSION_REVOKED};
pub use limits::{Group, Limit, Limits};
pub use plinth_records::Record;
pub use plinth_store::Page;
pub use write::Created;

/// One open app: manifest, validator, store, and its collections resolved once.
pub struct AppService {
    name: Arc<str>,
    /// The app's manifest as declared (what its API and OpenAPI show).
    manifest: Arc<Manifest>,
    /// The manifest with the system collections merged in (what is stored and migrated).
    schema: Manifest,
    validator: Validator,
    store: Store,
    collections: IndexMap<String, Arc<CollectionHandle>>,
    /// Signing keys for access tokens; without them sign-in answers 401.
    keys: Option<plinth_auth::TokenKeys>,
    /// The argon2id cost of new password hashes.
    password_cost: plinth_auth::PasswordCost,
    /// A hash checked when an email is unknown (made at first use, at `password_cost`), so
    /// that failure takes as long as a wrong password.
    dummy_hash: std::sync::OnceLock<String>,
    /// Service tokens found valid lately (`auth/service_tokens.rs`).
    seen_tokens: auth::SeenTokens,
    /// Rate limits in force (the manifest's unless configured otherwise).
    limits: Limits,
    /// Named aggregates by path.
    aggregates: IndexMap<String, aggregate::CompiledAggregate>,
    /// Committed changes, for realtime (docs/realtime.md).
    events: std::sync::Arc<events::Hub>,
    /// Set at shutdown: open realtime streams end.
    closing: tokio::sync::watch::Sender<bool>,
    /// Payloads to send to every node, when nodes share the app (`bus::start`).
    bus: Option<tokio::sync::mpsc::UnboundedSender<String>>,
    /// Capabilities that run jobs, by name.
    runners: jobs::Runners,
    /// Bumped when jobs may be waiting; this node's workers watch it.
    job_wake: bus::Wake,
    /// Where uploads and job outputs are stored.
    files: Option<plinth_files::FileStore>,
}

impl AppService {
    /// Open the app's database (creating a SQLite file if needed); does not migrate.
    pub async fn open(manifest: Arc<Manifest>, options: StoreOptions) -> Result<Self, StoreError> {
        Self::open_with_bus(manifest, options, None).await
    }

    /// [`AppService::open`], with events crossing nodes through NATS at `nats` (a
    /// `nats://` URL) instead of the database.
    pub async fn open_with_bus(
        manifest: Arc<Manifest>,
        options: StoreOptions,
        nats: Option<&str>,
    ) -> Result<Self, StoreError> {
        let schema = plinth_manifest::with_system(&manifest);
        let store = Store::open(&schema, options).await?;
        let validator = Validator::new(&schema);
        let mut collections = IndexMap::new();
        for (name, def) in &schema.collections {
            let table = store
                .table(name)
                .ok_or_else(|| StoreError::UnknownCollection(name.clone()))?
                .clone();
            let handle = CollectionHandle {
                name: name.clone(),
                singular: def.singular_name(name),
                def: def.clone(),
                table,
                public: manifest.collections.contains_key(name),
                rules: access::compile(def.rules.as_ref()),
                own_rules: access::compile_own(def),
                triggers: triggers::parse_when(&validator, name, def, &def.on_create),
                update_triggers: triggers::parse_when(&validator, name, def, &def.on_update),
            };
            collections.insert(name.clone(), Arc::new(handle));
        }
        let limits = Limits::from_manifest(manifest.rate_limits.as_ref());
        // Field names in rules (and relation paths) are checked against the collections
        // here, once, so a typo stops the start instead of failing requests.
        for (name, def) in &schema.collections {
            access::check(&validator, name, def).map_err(StoreError::Config)?;
        }
        let aggregates = aggregate::compile(&schema, &validator)?;
        let events = events::Hub::new();
        let job_wake = Arc::new(tokio::sync::watch::Sender::new(0));
        let bus = bus::start(&store, &events, &job_wake, nats).await?;
        Ok(AppService {
            aggregates,
            events,
            bus,
            closing: tokio::sync::watch::Sender::new(false),
            runners: jobs::Runners::new(),
            job_wake,
            files: None,
            name: manifest.name.as_str().into(),
            validator,
            schema,
            manifest,
            store,
            collections,
            keys: None,
            password_cost: plinth_auth::PasswordCost::default(),
            dummy_hash: std::sync::OnceLock::new(),
            seen_tokens: auth::SeenTokens::default(),
            limits,
        })
    }

    /// Sign access tokens with `keys` (the app's secret; see the README's configuration).
    pub fn with_token_keys(mut self, keys: plinth_auth::TokenKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Run jobs with these capabilities (besides the built-in `noop`). Every job kind of
    /// the manifest must name one of them.
    pub fn with_runners(mut self, runners: jobs::Runners) -> Result<Self, StoreError> {
        for (name, job) in &self.manifest.jobs {
            if runners.get(&job.run).is_none() {
                return Err(StoreError::Config(format!(
                    "job `{name}`: no capability `{}` is built in",
                    job.run
                )));
            }
        }
        self.runners = runners;
        Ok(self)
    }

    /// Store uploads and job outputs in `files`.
    pub fn with_files(mut self, files: plinth_files::FileStore) -> Self {
        self.files = Some(files);
        self
    }

    /// Where uploads and job outputs are stored, if configured.
    pub fn files(&self) -> Option<&plinth_files::FileStore> {
        self.files.as_ref()
    }

    /// The capabilities that run this app's jobs.
    pub fn runners(&self) -> &jobs::Runners {
        &self.runners
    }

    /// Hash new passwords at `cost` (default: OWASP's argon2id minimum).
    pub fn with_password_cost(mut self, cost: plinth_auth::PasswordCost) -> Self {
        self.password_cost = cost;
        self
    }

    /// A new password's stored hash, at the app's cost.
    pub(crate) fn hash_password(&self, password: &str) -> Result<String, CoreError> {
        plinth_auth::hash_password(&self.password_cost, password)
            .map_err(|e| CoreError::Store(StoreError::Config(e.to_string())))
    }

    /// The app's name.
    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// The app's manifest.
    pub fn manifest(&self) -> &Arc<Manifest> {
        &self.manifest
    }

    /// A collection the app declares (served by the generic API), by name.
    pub fn collection(&self, name: &str) -> Option<&Arc<CollectionHandle>> {
        self.collections.get(name).filter(|c| c.public)
    }

    /// Any collection, system ones included (`_plinth_jobs`, ...), for Plinth's own work.
    pub fn any_collection(&self, name: &str) -> Option<&Arc<CollectionHandle>> {
        self.collections.get(name)
    }

    /// [`AppService::any_collection`], or the store's unknown-collection error (for names
    /// the manifest's checks already vouched for: system collections, log targets).
    pub(crate) fn collection_or_err(
        &self,
        name: &str,
    ) -> Result<&Arc<CollectionHandle>, CoreError> {
        self.any_collection(name)
            .ok_or_else(|| CoreError::Store(StoreError::UnknownCollection(name.to_owned())))
    }

    /// Every collection, system ones included, in declaration order.
    pub fn collections(&self) -> impl Iterator<Item = &Arc<CollectionHandle>> {
        self.collections.values()
    }

    /// The app's store, for capabilities that build their own write units.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// What the caller may do with `coll`; `body` is the request's (for `@request.body.*`).
    pub(crate) async fn access(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        op: access::Op,
        body: Option<&serde_json::Value>,
    ) -> Result<access::Access, CoreError> {
        let user = if access::Request::needs_user(coll, op) {
            self.caller_user(ctx).await?
        } else {
            None
        };
        let caller = access::Request {
            ctx,
            body,
            user: user.as_ref(),
        };
        access::access(
            &self.validator,
            &self.manifest.admin_roles,
            &caller,
            coll,
            op,
        )
    }

    /// The signed-in caller's user record in wire names (hidden fields left out), for
    /// `@auth.<field>` in rules and defaults; `None` for other callers or a deleted user.
    pub(crate) async fn caller_user(
        &self,
        ctx: &Ctx,
    ) -> Result<Option<serde_json::Value>, CoreError> {
        let plinth_context::Caller::User { id, .. } = &ctx.caller else {
            return Ok(None);
        };
        let Some(users) = self.any_collection(plinth_manifest::USERS) else {
            return Ok(None);
        };
        let found = self.store.get(ctx, &users.table, *id).await?;
        Ok(found.map(|r| serde_json::to_value(&r).unwrap_or_default()))
    }

    /// A context for Plinth's own work on this app.
    pub fn system_ctx(&self) -> Ctx {
        Ctx::system(self.name.clone())
    }

    /// Check the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }

    /// Bring the database up to the manifest; the names of the migrations applied.
    pub async fn migrate_up(&self, ctx: &Ctx) -> Result<Vec<String>, StoreError> {
        self.store.migrate_up(ctx, &self.schema.collections).await
    }

    /// Roll back the last migration; its name.
    pub async fn migrate_down(&self, ctx: &Ctx) -> Result<String, StoreError> {
        self.store.migrate_down(ctx).await
    }

    /// What is applied and what is pending.
    pub async fn migration_status(&self, ctx: &Ctx) -> Result<MigrationStatus, StoreError> {
        self.store
            .migration_status(ctx, &self.schema.collections)
            .await
    }
}
