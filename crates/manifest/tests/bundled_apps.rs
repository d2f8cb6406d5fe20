//! The five bundled apps' manifests (`apps/*/app.yaml`) parse, check, and say what their seeds say.

use plinth_manifest::{
    parse, EnvelopeStyle, ErrorStyle, FieldType, Manifest, OnDelete, Timestamps,
};

const SIMFLOW: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../apps/simflow/app.yaml"
));
const CLOUDDRIFT: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../apps/clouddrift/app.yaml"
));
const REVOPS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../apps/revops/app.yaml"
));
const DATAGEN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../apps/datagen/app.yaml"
));
const QUADRAX: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../apps/quadrax/app.yaml"
));

const BUNDLED: [(&str, &str); 5] = [
    ("simflow", SIMFLOW),
    ("clouddrift", CLOUDDRIFT),
    ("revops", REVOPS),
    ("datagen", DATAGEN),
    ("quadrax", QUADRAX),
];

fn load(name: &str, src: &str) -> Manifest {
    parse(src).unwrap_or_else(|e| panic!("apps/{name}/app.yaml:\n{e}"))
}

fn kind(m: &Manifest, coll: &str, field: &str) -> FieldType {
    m.collection(coll)
        .unwrap_or_else(|| panic!("{}: no collection `{coll}`", m.name))
        .fields
        .get(field)
        .unwrap_or_else(|| panic!("{}: no field `{coll}.{field}`", m.name))
        .kind
}

fn values(m: &Manifest, coll: &str, field: &str) -> Vec<String> {
    m.collections[coll].fields[field]
        .values
        .clone()
        .unwrap_or_default()
}

fn collection_names(m: &Manifest) -> Vec<&str> {
    m.collections.keys().map(String::as_str).collect()
}

#[test]
fn every_bundled_manifest_parses_under_its_own_name() {
    for (name, src) in BUNDLED {
        let m = load(name, src);
        assert_eq!(m.name, name);
        assert!(!m.collections.is_empty(), "{name} declares collections");
    }
}

#[test]
fn every_app_folder_is_a_bundled_app() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../apps");
    let entries = std::fs::read_dir(dir).expect("apps/ is readable");
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.join("app.yaml").is_file() {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            assert!(
                BUNDLED.iter().any(|(n, _)| *n == name),
                "apps/{name}/app.yaml is not covered by this test"
            );
        }
    }
}

#[test]
fn simflow() {
    let m = load("simflow", SIMFLOW);
    assert_eq!(m.base, "/api");
    assert_eq!(m.envelope, EnvelopeStyle::Keyed);
    assert_eq!(m.errors, ErrorStyle::Object);
    assert_eq!(
        collection_names(&m),
        ["users", "requests", "comments", "activity_log"]
    );
    assert_eq!(
        m.collections["activity_log"].singular_name("activity_log"),
        "activity"
    );
    assert_eq!(
        values(&m, "requests", "priority"),
        ["Low", "Medium", "High"]
    );
    let request_id = &m.collections["comments"].fields["request_id"];
    assert_eq!(request_id.on_delete, Some(OnDelete::Cascade));
    assert_eq!(m.collections["comments"].timestamps, Timestamps::Created);
}

#[test]
fn clouddrift() {
    let m = load("clouddrift", CLOUDDRIFT);
    assert_eq!(m.base, "/api/v1");
    assert_eq!(m.envelope, EnvelopeStyle::Data);
    assert_eq!(m.errors, ErrorStyle::Object);
    assert_eq!(
        collection_names(&m),
        [
            "users",
            "drifts",
            "alerts",
            "audit_logs",
            "cost_metrics",
            "sessions"
        ]
    );
    assert_eq!(values(&m, "users", "role"), ["admin", "engineer", "viewer"]);
    assert_eq!(
        values(&m, "drifts", "severity"),
        ["critical", "warning", "info"]
    );
    assert_eq!(
        values(&m, "drifts", "status"),
        ["pending", "approved", "rejected"]
    );
    assert_eq!(kind(&m, "drifts", "expected_state"), FieldType::Json);
    assert_eq!(kind(&m, "cost_metrics", "amount"), FieldType::Float);
    assert_eq!(kind(&m, "alerts", "is_read"), FieldType::Bool);
    let drift = &m.collections["cost_metrics"].fields["drift_id"];
    assert_eq!(
        (drift.kind, drift.collection.as_deref()),
        (FieldType::Relation, Some("drifts"))
    );
    assert_eq!(drift.on_delete, Some(OnDelete::Cascade));
    assert!(m.collections["users"].fields["email"].unique);
    // The seed's filtered columns are indexed.
    let drift_indexes: Vec<_> = m.collections["drifts"]
        .indexes
        .iter()
        .map(|i| i.fields.join(","))
        .collect();
    for f in ["status", "severity", "created_at"] {
        assert!(drift_indexes.iter().any(|i| i == f), "drifts index on {f}");
    }
    assert!(!m.collections["users"].fields.contains_key("password_hash"));
}

#[test]
fn revops() {
    let m = load("revops", REVOPS);
    assert_eq!(m.base, "/api");
    assert_eq!(m.envelope, EnvelopeStyle::Data);
    assert_eq!(m.errors, ErrorStyle::String);
    for c in [
        "datasets",
        "mappings",
        "tags",
        "wizard_session_states",
        "data_snapshots",
    ] {
        assert!(m.collection(c).is_some(), "revops declares {c}");
    }
    assert_eq!(
        kind(&m, "wizard_session_states", "state_data"),
        FieldType::Json
    );
    assert_eq!(
        kind(&m, "wizard_session_states", "wizard_step"),
        FieldType::Int
    );
    let state_index = &m.collections["wizard_session_states"].indexes[0];
    assert_eq!(
        (state_index.fields.as_slice(), state_index.unique),
        (&["user_id".to_owned(), "session_id".to_owned()][..], true)
    );
    assert!(m.collections["data_snapshots"].fields["data"].required);
    assert_eq!(
        m.collections["mappings"].fields["dataset_id"].on_delete,
        Some(OnDelete::Cascade)
    );
}

#[test]
fn datagen() {
    let m = load("datagen", DATAGEN);
    assert_eq!(m.base, "/");
    assert_eq!(m.envelope, EnvelopeStyle::Bare);
    assert_eq!(m.errors, ErrorStyle::Object);
    assert_eq!(
        collection_names(&m),
        ["jobs", "uploaded_files", "generated_data"]
    );
    assert_eq!(
        values(&m, "jobs", "type"),
        ["generation", "export", "upload"]
    );
    assert_eq!(
        values(&m, "jobs", "status"),
        ["pending", "in-progress", "completed", "failed"]
    );
    assert_eq!(
        values(&m, "uploaded_files", "status"),
        ["pending", "completed", "failed"]
    );
    assert_eq!(kind(&m, "jobs", "params"), FieldType::Json);
    assert_eq!(kind(&m, "uploaded_files", "size_bytes"), FieldType::Int);
    assert_eq!(
        kind(&m, "uploaded_files", "uploaded_at"),
        FieldType::Timestamp
    );
    let job = &m.collections["uploaded_files"].fields["job_id"];
    assert_eq!(
        (job.collection.as_deref(), job.on_delete),
        (Some("jobs"), Some(OnDelete::Cascade))
    );
    assert_eq!(m.collections["jobs"].timestamps, Timestamps::Both);
    assert_eq!(m.collections["uploaded_files"].timestamps, Timestamps::None);
    assert_eq!(
        m.collections["generated_data"].timestamps,
        Timestamps::Created
    );
}

#[test]
fn quadrax() {
    let m = load("quadrax", QUADRAX);
    assert_eq!(m.base, "/api");
    assert_eq!(m.envelope, EnvelopeStyle::Data);
    assert_eq!(m.errors, ErrorStyle::String);
    assert_eq!(
        collection_names(&m),
        [
            "users",
            "workstations",
            "datakits",
            "models",
            "pipelines",
            "codesheets",
            "virtual_machines",
            "chat_messages"
        ]
    );
    assert_eq!(values(&m, "users", "role"), ["ADMIN", "USER", "VIEWER"]);
    assert_eq!(
        values(&m, "workstations", "function"),
        ["DEVELOPMENT", "TRAINING", "PROCESSING"]
    );
    let name = &m.collections["workstations"].fields["name"];
    assert_eq!((name.min, name.max), (Some(3.0), Some(50.0)));
    assert_eq!(kind(&m, "workstations", "resources"), FieldType::Json);
    assert_eq!(kind(&m, "users", "email"), FieldType::Email);
    let ws = &m.collections["models"].fields["workstation_id"];
    assert_eq!(
        (ws.collection.as_deref(), ws.on_delete),
        (Some("workstations"), Some(OnDelete::SetNull))
    );
    let chat_index = &m.collections["chat_messages"].indexes[0];
    assert_eq!(chat_index.fields, ["session_id", "created_at"]);
}
