//! The manifest's types, as deserialized from YAML.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// One app: its API base, wire styles and collections.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The app's name (lowercase, used for its mount and database).
    pub name: String,
    /// Path prefix of the app's API below its mount, e.g. `/api`.
    #[serde(default = "default_base")]
    pub base: String,
    /// How successful responses are wrapped.
    #[serde(default)]
    pub envelope: EnvelopeStyle,
    /// How errors are written on the wire.
    #[serde(default)]
    pub errors: ErrorStyle,
    /// How field names are spelled on the wire (storage is always snake_case).
    #[serde(default)]
    pub naming: Naming,
    /// The roles a user of the app can have (empty: not declared, any text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Roles whose users bypass every access rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin_roles: Vec<String>,
    /// Whether anyone may sign up with `POST auth/register` (default: yes).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub registration: bool,
    /// Requests allowed per client and window, per route group (docs/auth.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<crate::RateLimits>,
    /// Collections by name, in declaration order.
    #[serde(default)]
    pub collections: IndexMap<String, Collection>,
    /// Named aggregates (`GET {base}/{path}`), by name (docs/workflows.md).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub aggregates: IndexMap<String, crate::Aggregate>,
    /// Job kinds by name (docs/jobs.md).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub jobs: IndexMap<String, crate::JobDef>,
    /// Per-queue settings by queue name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub queues: IndexMap<String, crate::QueueDef>,
    /// Cron schedules by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub schedules: IndexMap<String, crate::Schedule>,
    /// Extra routes: enqueue a job, report a job's status, health.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<crate::Endpoint>,
}

fn default_base() -> String {
    "/".to_owned()
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

impl Manifest {
    /// The collection with this name, if declared.
    pub fn collection(&self, name: &str) -> Option<&Collection> {
        self.collections.get(name)
    }

    /// The wire name of a field (or system column) of `coll`: its `wire:` name if it has
    /// one, else the stored name in the app's naming.
    pub fn wire_name(&self, coll: &Collection, field: &str) -> String {
        match coll.fields.get(field).and_then(|f| f.wire.as_ref()) {
            Some(w) => w.clone(),
            None => self.naming.apply(field),
        }
    }
}

/// Spelling of field names on the wire.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Naming {
    /// As stored: `created_at`.
    #[default]
    Snake,
    /// `createdAt`.
    Camel,
}

impl Naming {
    /// A snake_case name in this style.
    pub fn apply(self, name: &str) -> String {
        match self {
            Naming::Snake => name.to_owned(),
            Naming::Camel => camel_case(name),
        }
    }
}

/// `first_name` to `firstName`.
pub fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Success envelope style (DESIGN.md, HTTP conventions).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EnvelopeStyle {
    /// `{"success": true, "data": ..., "meta": {...}}`
    #[default]
    Data,
    /// `{"requests": [...]}` / `{"request": {...}}`
    Keyed,
    /// The body as is.
    Bare,
}

/// Error wire style (DESIGN.md, HTTP conventions).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorStyle {
    /// `{"success": false, "error": {"code", "message", "details", ...}}`
    #[default]
    Object,
    /// `{"success": false, "error": "message", "code": ..., "details": [...]}`
    String,
}

/// A collection: a table with typed fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Collection {
    /// Singular name for keyed envelopes; defaults to the name less a trailing `s`.
    #[serde(default)]
    pub singular: Option<String>,
    /// Which system timestamps Plinth maintains.
    #[serde(default)]
    pub timestamps: Timestamps,
    /// Fields by name, in declaration order.
    pub fields: IndexMap<String, Field>,
    /// Secondary indexes.
    #[serde(default)]
    pub indexes: Vec<IndexDef>,
    /// Who may do what (docs/rules.md). Absent: admins and service tokens only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Rules>,
    /// Named state transitions, each an endpoint (docs/workflows.md).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub transitions: IndexMap<String, crate::Transition>,
    /// Named actions, each an endpoint (docs/workflows.md).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub actions: IndexMap<String, crate::Action>,
    /// Related lists a view of one record carries: collection name -> its relation field
    /// pointing here (`comments: request_id` gives Sim-Flow's `{request, comments}`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub include: IndexMap<String, String>,
    /// A record written with every change through the API (create, update, delete,
    /// transitions, actions), in the same unit; `@action` and `@changes` name what changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<crate::Log>,
    /// Records are never changed or deleted through the API (audit trails).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub append_only: bool,
    /// Fields copied from a related record when a record is created, in the create's
    /// unit (`created_by_name: created_by.name`).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub copy: IndexMap<String, String>,
    /// A create equal to a recent record returns that record (docs/workflows.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<crate::Dedupe>,
    /// Records inserted with a create, when it satisfies their rule (docs/workflows.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_create: Vec<crate::Trigger>,
    /// Triggers run after every update, transition and action of a record, on the record
    /// as updated, in the same unit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub on_update: Vec<crate::Trigger>,
}

/// Access rules of a collection, one expression per operation (the `filter=` language
/// with `@auth.id`, `@auth.role`, `@now` and `@request.body.<field>`). An operation without a rule is for admins and
/// service tokens only; an empty rule is open to anyone.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Which records a list shows.
    #[serde(default)]
    pub list: Option<String>,
    /// Which records can be read one by one.
    #[serde(default)]
    pub view: Option<String>,
    /// What a new record must satisfy.
    #[serde(default)]
    pub create: Option<String>,
    /// Which records can be changed.
    #[serde(default)]
    pub update: Option<String>,
    /// Which records can be deleted.
    #[serde(default)]
    pub delete: Option<String>,
}

impl Rules {
    /// The rules by operation name, in a fixed order.
    pub fn all(&self) -> [(&'static str, &Option<String>); 5] {
        [
            ("list", &self.list),
            ("view", &self.view),
            ("create", &self.create),
            ("update", &self.update),
            ("delete", &self.delete),
        ]
    }
}

impl Collection {
    /// The singular name used for one record in keyed envelopes.
    pub fn singular_name(&self, name: &str) -> String {
        match &self.singular {
            Some(s) => s.clone(),
            None => name.strip_suffix('s').unwrap_or(name).to_owned(),
        }
    }

    /// Whether Plinth keeps a `created_at` column.
    pub fn has_created_at(&self) -> bool {
        self.timestamps != Timestamps::None
    }

    /// Whether Plinth keeps an `updated_at` column.
    pub fn has_updated_at(&self) -> bool {
        self.timestamps == Timestamps::Both
    }
}

/// System timestamps kept on each record.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Timestamps {
    /// `created_at` and `updated_at`.
    #[default]
    Both,
    /// Only `created_at` (append-only records such as comments).
    Created,
    /// Neither.
    None,
}

/// One typed field.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The field's type.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// A value must be given on create (unless a default exists) and may not be null.
    #[serde(default)]
    pub required: bool,
    /// No two records may share a value.
    #[serde(default)]
    pub unique: bool,
    /// Value used on create when the field is absent.
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// Minimum length (text, email, url) or value (int, float).
    #[serde(default)]
    pub min: Option<f64>,
    /// Maximum length (text, email, url) or value (int, float).
    #[serde(default)]
    pub max: Option<f64>,
    /// Regular expression a text value must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Allowed values of an enum.
    #[serde(default)]
    pub values: Option<Vec<String>>,
    /// Target collection of a relation.
    #[serde(default)]
    pub collection: Option<String>,
    /// What happens to this record when the related one is deleted.
    #[serde(default)]
    pub on_delete: Option<OnDelete>,
    /// The field's name on the wire when it differs from the app's naming (a seed that
    /// mixes styles, e.g. `userId` beside `wizard_step`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire: Option<String>,
    /// Kept by the server and never shown or written through the API (password hashes).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    /// Set by the server (its default, workflows, demo data, the CLI), shown but never
    /// written by an API client: sending it is a 400.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub readonly: bool,
}

impl Field {
    /// The caller value a `default: "@auth.id"` (or `"@auth.role"`) names, without the `@`.
    pub fn caller_default(&self) -> Option<&str> {
        self.default
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .and_then(|s| s.strip_prefix('@'))
    }

    /// The default to store when a value is absent, unless it comes from the caller.
    pub fn literal_default(&self) -> Option<&serde_json::Value> {
        self.default
            .as_ref()
            .filter(|_| self.caller_default().is_none())
    }

    /// A field of `kind` with every option at its default.
    pub fn of(kind: FieldType) -> Self {
        Field {
            kind,
            required: false,
            unique: false,
            default: None,
            min: None,
            max: None,
            pattern: None,
            values: None,
            collection: None,
            on_delete: None,
            wire: None,
            hidden: false,
            readonly: false,
        }
    }
}

/// Field types a manifest may declare.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// UTF-8 text.
    Text,
    /// 64-bit integer.
    Int,
    /// 64-bit float.
    Float,
    /// true / false.
    Bool,
    /// Instant in time (RFC 3339 on the wire, UTC).
    Timestamp,
    /// Calendar date (YYYY-MM-DD).
    Date,
    /// UUID.
    Uuid,
    /// E-mail address.
    Email,
    /// http(s) URL.
    Url,
    /// One of `values`.
    Enum,
    /// Any JSON value.
    Json,
    /// UUID of a record in `collection`.
    Relation,
}

impl FieldType {
    /// The name used in the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Int => "int",
            FieldType::Float => "float",
            FieldType::Bool => "bool",
            FieldType::Timestamp => "timestamp",
            FieldType::Date => "date",
            FieldType::Uuid => "uuid",
            FieldType::Email => "email",
            FieldType::Url => "url",
            FieldType::Enum => "enum",
            FieldType::Json => "json",
            FieldType::Relation => "relation",
        }
    }

    /// Whether values are kept as text in storage and compared as strings.
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            FieldType::Text | FieldType::Email | FieldType::Url | FieldType::Enum
        )
    }
}

/// Referential action of a relation.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnDelete {
    /// Delete this record too.
    Cascade,
    /// Clear the reference.
    SetNull,
    /// Refuse to delete the referenced record.
    Restrict,
}

/// A secondary index over one or more fields.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IndexDef {
    /// Indexed fields, in order.
    pub fields: Vec<String>,
    /// Enforce uniqueness over the tuple.
    #[serde(default)]
    pub unique: bool,
    /// A partial index: only rows whose text or enum fields equal these values are in it
    /// (`where: { status: pending }`), so changes of other rows cost it nothing.
    #[serde(default, rename = "where", skip_serializing_if = "BTreeMap::is_empty")]
    pub only: BTreeMap<String, String>,
}
