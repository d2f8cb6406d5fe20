//! Realtime: which committed changes a subscriber receives, and as what message. Every
//! message passes the subscriber's own view rule (a record event is a view of the record
//! by the subscriber, so a client never receives a record it could not GET, and hidden
//! fields stay out as in any response). Transports (SSE, WebSocket) live in the HTTP crate
//! and call these.

use std::time::Duration;

use plinth_core::{AppService, Caller, CoreError, Ctx, Event, RecordOp, SESSION_REVOKED};
use plinth_records::{FieldError, Filter, ValidationError};
use serde_json::{json, Value as J};

/// What one client subscribed to: record events of collections, and named events;
/// optionally only those about one record, or about records a filter selects.
#[derive(Debug, Clone, Default)]
pub struct Subscription {
    /// Collections whose record events (create, update, delete) it wants.
    pub collections: Vec<String>,
    /// Named events it wants (`drift:approved`; `*`: all).
    pub events: Vec<String>,
    /// Only events about this record.
    pub record: Option<uuid::Uuid>,
    /// Only events about records this filter selects (by collection; checked on the
    /// record as it is when the event is delivered). A delete passes: its record is gone.
    pub filters: Vec<(String, Filter)>,
}

/// Comma-separated names, blanks dropped.
fn names(raw: &str) -> impl Iterator<Item = String> + '_ {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl Subscription {
    /// From query pairs `collections=drifts,alerts` and `events=drift:created`; unknown
    /// collections, malformed event names and other parameters are refused.
    pub fn from_query(
        app: &AppService,
        query: &[(String, String)],
    ) -> Result<Self, ValidationError> {
        let mut sub = Subscription::default();
        let mut details = Vec::new();
        for (key, raw) in query {
            match key.as_str() {
                "collections" => {
                    for c in names(raw) {
                        match app.collection(&c) {
                            Some(_) => sub.collections.push(c),
                            None => details.push(FieldError::new(
                                "collections",
                                format!("unknown collection `{c}`"),
                            )),
                        }
                    }
                }
                "events" => {
                    for e in names(raw) {
                        match e == "*" || plinth_manifest::is_topic(&e) {
                            true => sub.events.push(e),
                            false => details.push(FieldError::new(
                                "events",
                                format!("`{e}` is not an event name"),
                            )),
                        }
                    }
                }
                "record" => match uuid::Uuid::parse_str(raw.trim()) {
                    Ok(id) => sub.record = Some(id),
                    Err(_) => details.push(FieldError::new("record", "is not a record id")),
                },
                // Compiled below, once the collections are known.
                "filter" => {}
                // The access token, for clients that cannot set headers (EventSource).
                "token" => {}
                other => details.push(FieldError::new(other, "is not a query parameter here")),
            }
        }
        let filter = query
            .iter()
            .find(|(k, _)| k == "filter")
            .map(|(_, v)| v.trim());
        if let Some(raw) = filter.filter(|f| !f.is_empty()) {
            for c in &sub.collections {
                let Some(coll) = app.collection(c) else {
                    continue;
                };
                match app.client_filter(coll, raw) {
                    Ok(f) => sub.filters.push((c.clone(), f)),
                    Err(e) => details.extend(e.details),
                }
            }
        }
        if sub.collections.is_empty() && sub.events.is_empty() && details.is_empty() {
            details.push(FieldError::new(
                "collections",
                "subscribe to at least one collection or event",
            ));
        }
        match details.is_empty() {
            true => Ok(sub),
            false => Err(ValidationError { details }),
        }
    }

    /// From a JSON message (the WebSocket's and Socket.IO's `subscribe`):
    /// `{"collections": [...], "events": [...], "filter": "...", "record": "..."}`, checked
    /// as [`Subscription::from_query`] checks the same names.
    pub fn from_json(app: &AppService, msg: &J) -> Result<Self, ValidationError> {
        let list = |k: &str| {
            let names = msg.get(k).and_then(J::as_array).into_iter().flatten();
            names.filter_map(J::as_str).collect::<Vec<_>>().join(",")
        };
        let text = |k: &str| {
            msg.get(k)
                .and_then(J::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut query = vec![
            ("collections".to_owned(), list("collections")),
            ("events".to_owned(), list("events")),
            ("filter".to_owned(), text("filter")),
        ];
        if msg.get("record").is_some() {
            query.push(("record".to_owned(), text("record")));
        }
        Self::from_query(app, &query)
    }

    /// Whether the event is one this subscription asked for (its filter, if any, is
    /// checked when the record is read: [`message_for`]).
    pub fn wants(&self, e: &Event) -> bool {
        if self.record.is_some_and(|r| r != e.record_id) {
            return false;
        }
        match e.op {
            Some(_) => self.collections.iter().any(|c| **c == *e.collection),
            None => self.events.iter().any(|t| t == "*" || **t == *e.topic),
        }
    }
}

/// The name of an event on the wire: a named event's own, `<collection>:<action>` for a
/// record event.
pub fn event_name(e: &Event) -> String {
    match e.op {
        Some(op) => format!("{}:{}", e.collection, op.as_str()),
        None => e.topic.to_string(),
    }
}

/// The message `ctx`'s caller receives for `event`, or `None` when they may not see its
/// record (read once per event and node, then each subscriber's view rule decided on it in
/// memory) (a record event: `{"action", "collection", "record"}`; a named event:
/// `{"event", "collection", "record"}`). A deleted record is gone, so its event carries
/// only the id and reaches those who may list the collection.
pub async fn message(app: &AppService, ctx: &Ctx, event: &Event) -> Result<Option<J>, CoreError> {
    message_for(app, ctx, event, None).await
}

/// [`message`] for subscription `sub`: also `None` when the record does not satisfy its
/// filter.
pub async fn message_for(
    app: &AppService,
    ctx: &Ctx,
    event: &Event,
    sub: Option<&Subscription>,
) -> Result<Option<J>, CoreError> {
    let Some(coll) = app.collection(&event.collection) else {
        return Ok(None);
    };
    let id = event.record_id.to_string();
    let (key, value) = match event.op {
        Some(op) => ("action", J::String(op.as_str().to_owned())),
        None => ("event", J::String(event.topic.to_string())),
    };
    let record = if event.op == Some(RecordOp::Deleted) {
        match app.may_list(ctx, coll).await? {
            true => json!({ "id": id }),
            false => return Ok(None),
        }
    } else {
        let filter = sub.and_then(|s| {
            let found = s.filters.iter().find(|(c, _)| **c == *event.collection);
            found.map(|(_, f)| f)
        });
        match app.event_view(ctx, coll, event, filter).await? {
            Some(record) => record,
            None => return Ok(None),
        }
    };
    Ok(Some(
        json!({ key: value, "collection": coll.name, "record": record }),
    ))
}

/// Whether `e` ends the streams of `ctx`'s caller: their session (or service token) was
/// revoked.
pub fn ends(ctx: &Ctx, e: &Event) -> bool {
    if &*e.topic != SESSION_REVOKED {
        return false;
    }
    match &ctx.caller {
        Caller::User {
            session: Some(s), ..
        } => *s == e.record_id,
        Caller::Service { id, .. } => *id == e.record_id,
        _ => false,
    }
}

/// How long from now until the caller's access token expires, when it does: a stream
/// signed in with it ends then (the client reconnects with a fresh token).
pub fn expires_in(ctx: &Ctx) -> Option<Duration> {
    match &ctx.caller {
        Caller::User {
            expires: Some(exp), ..
        } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let left = u64::try_from(*exp).unwrap_or(0).saturating_sub(now);
            Some(Duration::from_secs(left))
        }
        _ => None,
    }
}
