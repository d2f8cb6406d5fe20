//! Committed changes announced to realtime: record events (a record created, updated or
//! deleted through the app service) and named events (the rows a unit wrote to the
//! outbox, as the unit's own output gives them). Both are sent only after the unit
//! commits, so a rolled-back change never reaches a subscriber. One in-process channel per
//! app; a subscriber that falls too far behind is told it lagged.

use std::sync::Arc;

use plinth_context::Ctx;
use plinth_store::{StepOut, StoreError, WriteUnit};
use serde_json::Value as J;

use crate::access::{Access, Op};
use crate::read::by_id;
use crate::CollectionHandle;
use crate::CoreError;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::AppService;

/// Events kept for subscribers that are behind, per app, before they count as lagging.
pub(crate) const BUFFER: usize = 1024;

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOp {
    /// Inserted.
    Created,
    /// Changed (an update, a transition or an action).
    Updated,
    /// Removed.
    Deleted,
}

impl RecordOp {
    /// The word clients see (`create`, `update`, `delete`, as PocketBase names them).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordOp::Created => "create",
            RecordOp::Updated => "update",
            RecordOp::Deleted => "delete",
        }
    }
}

/// A committed change.
#[derive(Debug, Clone)]
pub struct Event {
    /// Unique and time-ordered (the outbox row's id for named events).
    pub id: Uuid,
    /// A record event, or `None` for a named one.
    pub op: Option<RecordOp>,
    /// A named event's name (`drift:approved`); empty for record events.
    pub topic: Arc<str>,
    /// The collection of the record it is about.
    pub collection: Arc<str>,
    /// The record it is about.
    pub record_id: Uuid,
    /// The record as read once for every subscriber of this node, and its JSON.
    pub(crate) loaded: Arc<tokio::sync::OnceCell<Option<(plinth_records::Record, J)>>>,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Event {}

/// Recent events kept for clients that reconnect (`Last-Event-ID`).
pub(crate) const RECENT: usize = 10_000;

/// The name of the internal event that ends the streams of a revoked session.
pub const SESSION_REVOKED: &str = "_plinth:session-revoked";

/// The name of the internal event that tells this node's streams that events may have
/// been lost on their way here (the link to the other nodes was cut, or a send failed):
/// a stream that gets it ends as if it had lagged, and its client reloads.
pub const EVENTS_LOST: &str = "_plinth:events-lost";

impl Event {
    /// An internal named event (Plinth's own topics, such as [`SESSION_REVOKED`]), new now.
    fn internal(topic: &str, collection: &str, record_id: Uuid) -> Event {
        Event {
            id: Uuid::now_v7(),
            op: None,
            topic: topic.into(),
            collection: collection.into(),
            record_id,
            loaded: Default::default(),
        }
    }

    /// Whether this tells of lost events ([`EVENTS_LOST`]).
    pub fn tells_of_loss(&self) -> bool {
        &*self.topic == EVENTS_LOST
    }
}

/// An app's events on this node: the live channel and the most recent ones.
pub(crate) struct Hub {
    tx: broadcast::Sender<Event>,
    recent: std::sync::Mutex<std::collections::VecDeque<Event>>,
}

impl Hub {
    pub(crate) fn new() -> Arc<Hub> {
        Arc::new(Hub {
            tx: broadcast::channel(BUFFER).0,
            recent: std::sync::Mutex::new(std::collections::VecDeque::with_capacity(RECENT)),
        })
    }

    /// Keep the event for resumers, then send it live (in this order, so a resumer that
    /// subscribes and then reads the recent ones misses nothing).
    pub(crate) fn deliver(&self, e: Event) {
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(e.clone());
        }
        let _ = self.tx.send(e);
    }

    /// The events kept for resumers, oldest first.
    #[cfg(test)]
    pub(crate) fn recent(&self) -> Vec<Event> {
        self.recent
            .lock()
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Tell this node's streams, and its resumers, that events may have been lost.
    pub(crate) fn lost(&self) {
        self.deliver(Event::internal(EVENTS_LOST, "", Uuid::nil()));
    }
}

/// An event as it crosses between nodes (a `NOTIFY` payload, well under its 8000 bytes).
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Wire {
    id: Uuid,
    op: Option<String>,
    topic: String,
    collection: String,
    record_id: Uuid,
}

impl From<&Event> for Wire {
    fn from(e: &Event) -> Self {
        Wire {
            id: e.id,
            op: e.op.map(|o| o.as_str().to_owned()),
            topic: e.topic.to_string(),
            collection: e.collection.to_string(),
            record_id: e.record_id,
        }
    }
}

impl Wire {
    pub(crate) fn event(self) -> Event {
        let op = match self.op.as_deref() {
            Some("create") => Some(RecordOp::Created),
            Some("update") => Some(RecordOp::Updated),
            Some("delete") => Some(RecordOp::Deleted),
            _ => None,
        };
        Event {
            id: self.id,
            op,
            topic: self.topic.into(),
            collection: self.collection.into(),
            record_id: self.record_id,
            loaded: Default::default(),
        }
    }
}

impl AppService {
    /// Receive the app's committed changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.tx.subscribe()
    }

    /// Receive the changes after event `last` (those still kept, then live ones), or `None`
    /// when `last` is no longer among the recent events (the client must reload).
    pub fn resume(&self, last: Uuid) -> Option<(Vec<Event>, broadcast::Receiver<Event>)> {
        let rx = self.events.tx.subscribe();
        let recent = self.events.recent.lock().ok()?;
        let at = recent.iter().position(|e| e.id == last)?;
        Some((recent.iter().skip(at + 1).cloned().collect(), rx))
    }

    /// Apply a unit that may revoke sessions or service tokens, then announce each one it
    /// revoked (the rows it returns with `revoked_at` set), so their streams end.
    pub(crate) async fn apply_revoking(
        &self,
        ctx: &Ctx,
        unit: WriteUnit,
    ) -> Result<Vec<StepOut>, StoreError> {
        let outs = self.store.apply(ctx, unit).await?;
        let rows = outs.iter().filter_map(|o| match o {
            StepOut::Rows(rows) => Some(rows),
            StepOut::Count(_) => None,
        });
        for r in rows.flatten() {
            let revoked = r.get("revoked_at").is_some_and(|v| !v.is_null());
            if let Some(id) = r
                .id()
                .and_then(|s| Uuid::parse_str(s).ok())
                .filter(|_| revoked)
            {
                self.announce_revoked(id);
            }
        }
        Ok(outs)
    }

    /// Announce that session or service token `id` was revoked: streams signed in with it
    /// end.
    fn announce_revoked(&self, id: Uuid) {
        self.publish(Event::internal(SESSION_REVOKED, "_plinth_sessions", id));
    }

    /// Becomes true when the server shuts down, so open streams can end (a graceful
    /// shutdown waits for every response to finish).
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Tell open streams to end.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Send a committed change on: through the database to every node, or straight to
    /// this node's subscribers.
    fn publish(&self, e: Event) {
        match &self.bus {
            Some(bus) => {
                if let Ok(payload) = serde_json::to_string(&Wire::from(&e)) {
                    let _ = bus.send(payload);
                }
            }
            None => self.events.deliver(e),
        }
    }

    /// Apply `unit`, then announce the outbox rows it wrote.
    pub(crate) async fn commit(
        &self,
        ctx: &Ctx,
        unit: WriteUnit,
    ) -> Result<Vec<StepOut>, StoreError> {
        let outs = self.store.apply(ctx, unit).await?;
        // Always, listeners or not: the recent events are kept for clients that resume.
        if let Some(outbox) = self.any_collection("_plinth_outbox") {
            let shape = outbox.table.shape();
            let rows = outs.iter().filter_map(|o| match o {
                StepOut::Rows(rows) => Some(rows),
                StepOut::Count(_) => None,
            });
            for r in rows.flatten().filter(|r| Arc::ptr_eq(r.shape(), shape)) {
                if let Some(e) = named_event(r) {
                    self.publish(e);
                }
            }
        }
        Ok(outs)
    }

    /// Announce a record event (after its unit committed).
    pub(crate) fn announce(&self, collection: &str, id: Uuid, op: RecordOp) {
        self.publish(Event {
            id: Uuid::now_v7(),
            op: Some(op),
            topic: "".into(),
            collection: collection.into(),
            record_id: id,
            loaded: Default::default(),
        });
    }

    /// [`AppService::announce`] for a record as returned by a write.
    pub(crate) fn announce_record(
        &self,
        collection: &str,
        rec: &plinth_records::Record,
        op: RecordOp,
    ) {
        if let Some(id) = rec.id().and_then(|s| Uuid::parse_str(s).ok()) {
            self.announce(collection, id, op);
        }
    }
}

/// The event an outbox row tells of.
fn named_event(row: &plinth_records::Record) -> Option<Event> {
    let text = |k: &str| row.get(k).and_then(J::as_str).map(str::to_owned);
    Some(Event {
        id: Uuid::parse_str(&text("id")?).ok()?,
        op: None,
        topic: text("topic")?.into(),
        collection: text("collection")?.into(),
        record_id: Uuid::parse_str(&text("record_id")?).ok()?,
        loaded: Default::default(),
    })
}

/// Whether a filter reads a related record (those are settled by a query, not in memory).
fn reads_related(f: &plinth_records::Filter) -> bool {
    use plinth_records::Filter;
    match f {
        Filter::Related { .. } => true,
        Filter::And(parts) | Filter::Or(parts) => parts.iter().any(reads_related),
        Filter::Not(inner) => reads_related(inner),
        _ => false,
    }
}

impl AppService {
    /// The record `e` is about, as `ctx`'s caller may see it (its JSON: wire names, hidden
    /// fields out), or `None` (also when it does not satisfy the subscriber's `filter`). The record is read once per event on this node, shared by
    /// every subscriber; each one's view rule is then decided on it in memory (a rule that
    /// reads a related record is one point read).
    pub async fn event_view(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        e: &Event,
        filter: Option<&plinth_records::Filter>,
    ) -> Result<Option<J>, CoreError> {
        let loaded = e
            .loaded
            .get_or_try_init(|| async {
                let rec = self.store.get(ctx, &coll.table, e.record_id).await?;
                Ok::<_, CoreError>(rec.map(|r| {
                    let json = serde_json::to_value(&r).unwrap_or_default();
                    (r, json)
                }))
            })
            .await?;
        let Some((rec, json)) = loaded else {
            return Ok(None);
        };
        // The subscriber's own filter (client filters have no relation paths).
        if filter.is_some_and(|f| !f.matches(&|name| rec.value(name))) {
            return Ok(None);
        }
        let visible = match self.access(ctx, coll, Op::View, None).await? {
            Access::All => true,
            Access::Denied => false,
            Access::Only(rule) if !reads_related(&rule) => rule.matches(&|f| rec.value(f)),
            Access::Only(rule) => self
                .store
                .find(ctx, &coll.table, by_id(e.record_id, Some(rule)))
                .await?
                .is_some(),
        };
        Ok(visible.then(|| json.clone()))
    }
}

impl AppService {
    /// A client's `filter=` expression checked against `coll` (as for lists).
    pub fn client_filter(
        &self,
        coll: &CollectionHandle,
        raw: &str,
    ) -> Result<plinth_records::Filter, plinth_records::ValidationError> {
        plinth_rules::parse(raw)
            .map_err(|e| e.to_string())
            .and_then(|expr| self.validator.filter(&coll.name, &coll.def, &expr))
            .map_err(|msg| plinth_records::ValidationError {
                details: vec![plinth_records::FieldError::new("filter", msg)],
            })
    }
}
