//! The bus between the nodes that share an app's database: one trait, [`EventBus`], and its
//! carriers: PostgreSQL's NOTIFY/LISTEN (the default on PostgreSQL) and NATS (by config).
//! What a node sends comes back to every node, itself included, and goes into its hub; on
//! SQLite (one node) there is no bus and events go straight to the hub.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures_util::StreamExt;
use plinth_store::{Heard, Store, StoreError};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

use crate::events::{Hub, Wire};

/// A boxed future of a send.
type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// Carries an app's event payloads to every node listening.
trait EventBus: Send + Sync + 'static {
    /// Send payloads, in order.
    fn send(&self, payloads: Vec<String>) -> Sending<'_>;
}

/// PostgreSQL: `NOTIFY` on the app schema's channel.
struct Postgres(Store);

impl EventBus for Postgres {
    fn send(&self, payloads: Vec<String>) -> Sending<'_> {
        Box::pin(async move { self.0.notify(&payloads).await.map_err(|e| e.to_string()) })
    }
}

/// NATS: a subject per app database.
struct Nats {
    client: async_nats::Client,
    subject: String,
}

impl EventBus for Nats {
    fn send(&self, payloads: Vec<String>) -> Sending<'_> {
        Box::pin(async move {
            for p in payloads {
                self.client
                    .publish(self.subject.clone(), p.into())
                    .await
                    .map_err(|e| e.to_string())?;
            }
            self.client.flush().await.map_err(|e| e.to_string())
        })
    }
}

/// The payload that tells every node's workers that jobs were enqueued.
pub(crate) const WAKE_JOBS: &str = "{\"wake\":\"jobs\"}";

/// Pass every payload that arrives into `hub`, or to the job workers' wake-up.
fn deliver_into(hub: &Arc<Hub>, wake: &Wake, payload: &[u8]) {
    if payload == WAKE_JOBS.as_bytes() {
        wake.send_modify(|n| *n = n.wrapping_add(1));
    } else if let Ok(w) = serde_json::from_slice::<Wire>(payload) {
        hub.deliver(w.event());
    }
}

/// Events may have been lost on their way to this node: its streams are told so, and its
/// job workers look for work (a wake-up may have been among them).
fn lost(hub: &Hub, wake: &Wake) {
    hub.lost();
    wake.send_modify(|n| *n = n.wrapping_add(1));
}

/// What to do on NATS's connection events: after a reconnect, or when the client dropped
/// messages for a slow subscriber, events may have been lost.
fn nats_losses(
    hub: Arc<Hub>,
    wake: Wake,
) -> impl Fn(async_nats::Event) -> std::future::Ready<()> + Send + Sync + 'static {
    let cut = AtomicBool::new(false);
    move |event| {
        match event {
            async_nats::Event::Disconnected => cut.store(true, Ordering::Relaxed),
            async_nats::Event::Connected if cut.swap(false, Ordering::Relaxed) => {
                tracing::warn!("events bus: connected again; events sent meanwhile are lost");
                lost(&hub, &wake);
            }
            async_nats::Event::SlowConsumer(_) => lost(&hub, &wake),
            _ => {}
        }
        std::future::ready(())
    }
}

/// This node's job workers' wake-up.
pub(crate) type Wake = Arc<tokio::sync::watch::Sender<u64>>;

/// Start the app's bus (`nats`: a `nats://` URL; else the database's, if it has one): its
/// listener is in place when this returns. The answer is where to send payloads: one task
/// sends them in order and in batches. `None`: no bus (SQLite, no NATS).
pub(crate) async fn start(
    store: &Store,
    hub: &Arc<Hub>,
    wake: &Wake,
    nats: Option<&str>,
) -> Result<Option<UnboundedSender<String>>, StoreError> {
    let bus: Box<dyn EventBus> = match nats {
        Some(url) => {
            let down = |e: &dyn std::fmt::Display| {
                StoreError::Unavailable(format!("events bus {url}: {e}"))
            };
            let client = async_nats::ConnectOptions::new()
                .event_callback(nats_losses(hub.clone(), wake.clone()))
                .connect(url)
                .await
                .map_err(|e| down(&e))?;
            let subject = format!("plinth.events.{}", store.bus_id());
            let mut incoming = client
                .subscribe(subject.clone())
                .await
                .map_err(|e| down(&e))?;
            // The subscription is in place on the server before the app serves.
            client.flush().await.map_err(|e| down(&e))?;
            let (hub, wake) = (hub.clone(), wake.clone());
            tokio::spawn(async move {
                while let Some(m) = incoming.next().await {
                    deliver_into(&hub, &wake, &m.payload);
                }
            });
            Box::new(Nats { client, subject })
        }
        None => {
            let Some(mut incoming) = store.listen().await? else {
                return Ok(None);
            };
            let (hub, wake) = (hub.clone(), wake.clone());
            tokio::spawn(async move {
                while let Some(heard) = incoming.recv().await {
                    match heard {
                        Heard::Payload(p) => deliver_into(&hub, &wake, p.as_bytes()),
                        Heard::Relistened => lost(&hub, &wake),
                    }
                }
            });
            Box::new(Postgres(store.clone()))
        }
    };
    let (tx, mut outgoing) = unbounded_channel::<String>();
    let (hub, wake) = (hub.clone(), wake.clone());
    tokio::spawn(async move {
        while let Some(first) = outgoing.recv().await {
            let mut batch = vec![first];
            while batch.len() < 500 {
                match outgoing.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            let sent = batch.len();
            if let Err(e) = bus.send(batch).await {
                tracing::warn!(error = %e, lost = sent, "events not sent to other nodes");
                // Not even this node gets them (what it sends comes back through the bus);
                // the other nodes cannot know.
                lost(&hub, &wake);
            }
        }
    });
    Ok(Some(tx))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The event the hub holds last, if any.
    fn last(hub: &Hub) -> Option<crate::events::Event> {
        hub.recent().pop()
    }

    #[test]
    fn a_nats_reconnect_or_a_dropped_message_tells_of_loss() {
        let hub = Hub::new();
        let wake: Wake = Arc::new(tokio::sync::watch::channel(0).0);
        let on_event = nats_losses(hub.clone(), wake.clone());
        // The first connection is not a loss.
        let () = on_event(async_nats::Event::Connected).into_inner();
        assert!(last(&hub).is_none());
        let () = on_event(async_nats::Event::Disconnected).into_inner();
        assert!(
            last(&hub).is_none(),
            "told once connected again, not before"
        );
        let () = on_event(async_nats::Event::Connected).into_inner();
        assert!(last(&hub).is_some_and(|e| e.tells_of_loss()));
        assert_eq!(*wake.borrow(), 1, "job workers look for work");
        // Connected again without a disconnect in between: nothing new.
        let () = on_event(async_nats::Event::Connected).into_inner();
        assert_eq!(hub.recent().len(), 1);
        let () = on_event(async_nats::Event::SlowConsumer(7)).into_inner();
        assert_eq!(hub.recent().len(), 2);
        assert_eq!(*wake.borrow(), 2);
    }
}
