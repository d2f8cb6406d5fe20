//! Events between nodes on one PostgreSQL: `NOTIFY` on a channel per app schema, and a
//! connection per node that `LISTEN`s to it. SQLite is one node: nothing to cross.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;

use crate::executor::Db;
use crate::postgres::PgDb;
use crate::{Store, StoreError};

/// The channel of a schema's events (an identifier of at most 63 bytes).
pub(crate) fn channel_of(schema: &str) -> String {
    let mut c = format!("plinth_events_{schema}");
    c.truncate(63);
    c
}

impl PgDb {
    /// The channel of this schema's events.
    fn channel(&self) -> String {
        channel_of(&self.schema)
    }

    async fn notify(&self, payloads: &[String]) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        // Cached: a text statement is parsed, described and closed on every batch, which
        // under write load is a round trip more per batch than the send itself.
        let stmt = client
            .prepare_cached(
                "SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n",
            )
            .await?;
        client.execute(&stmt, &[&self.channel(), &payloads]).await?;
        Ok(())
    }

    /// Listen on a connection of its own, reconnecting after a failure, until `tx` has no
    /// receiver left. Returns once the first `LISTEN` is in place, so no event committed
    /// after the app opened is missed; after a reconnect it says so ([`Heard::Relistened`]),
    /// since payloads sent while it was cut off are gone.
    async fn listen(&self, tx: mpsc::UnboundedSender<Heard>) -> Result<(), StoreError> {
        let (config, channel) = (*self.config.clone(), self.channel());
        let first = Listening::start(&config, &channel).await?;
        tokio::spawn(async move {
            let mut current = Some(first);
            while !tx.is_closed() {
                let listening = match current.take() {
                    Some(l) => l,
                    None => {
                        match Listening::start(&config, &channel).await {
                            Ok(l) => {
                                tracing::warn!("event listener: listening again; events sent meanwhile are lost");
                                if tx.send(Heard::Relistened).is_err() {
                                    break;
                                }
                                l
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "event listener: reconnecting");
                                tokio::time::sleep(Duration::from_secs(1)).await;
                                continue;
                            }
                        }
                    }
                };
                listening.forward(&tx).await;
            }
        });
        Ok(())
    }
}

/// What an events listener hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// A payload a node (this one included) sent.
    Payload(String),
    /// The listener was cut off and listens again: whatever was sent meanwhile is lost.
    Relistened,
}

/// A connection that has run `LISTEN`, and its notifications.
struct Listening {
    /// Kept open: the session is the subscription.
    _client: tokio_postgres::Client,
    msgs: mpsc::UnboundedReceiver<String>,
    driver: tokio::task::JoinHandle<()>,
}

impl Listening {
    async fn start(config: &tokio_postgres::Config, channel: &str) -> Result<Self, StoreError> {
        let (client, mut conn) = config.connect(tokio_postgres::NoTls).await?;
        let (msgs_tx, msgs) = mpsc::unbounded_channel();
        // The connection delivers notifications as it is polled.
        let driver = tokio::spawn(async move {
            let mut stream = futures_util::stream::poll_fn(move |cx| conn.poll_message(cx));
            while let Some(m) = stream.next().await {
                match m {
                    Ok(AsyncMessage::Notification(n)) => {
                        if msgs_tx.send(n.payload().to_owned()).is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        });
        client
            .batch_execute(&format!("LISTEN \"{channel}\""))
            .await?;
        Ok(Listening {
            _client: client,
            msgs,
            driver,
        })
    }

    /// Pass notifications on until the connection ends or nobody receives them.
    async fn forward(mut self, tx: &mpsc::UnboundedSender<Heard>) {
        while let Some(p) = self.msgs.recv().await {
            if tx.send(Heard::Payload(p)).is_err() {
                break;
            }
        }
        self.driver.abort();
    }
}

impl Store {
    /// Whether several nodes may share this database, so events must cross through it.
    pub fn shared(&self) -> bool {
        matches!(self.inner.db, Db::Postgres(_))
    }

    /// A name for this database that every node opening it computes alike (the schema on
    /// PostgreSQL; the file on SQLite), for naming its events channel on an outside bus.
    pub fn bus_id(&self) -> String {
        match &self.inner.db {
            Db::Postgres(pg) => format!("pg_{}", pg.schema),
            Db::Sqlite(db) => {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                db.path().hash(&mut h);
                format!("sqlite_{:016x}", h.finish())
            }
        }
    }

    /// Send payloads, in order, to every node listening (PostgreSQL); nothing on SQLite.
    pub async fn notify(&self, payloads: &[String]) -> Result<(), StoreError> {
        match &self.inner.db {
            Db::Postgres(pg) => pg.notify(payloads).await,
            Db::Sqlite(_) => Ok(()),
        }
    }

    /// Every node's payloads, as they arrive, from when this returns, and word of each time
    /// the listener was cut off (PostgreSQL); `None` on SQLite.
    pub async fn listen(&self) -> Result<Option<mpsc::UnboundedReceiver<Heard>>, StoreError> {
        let Db::Postgres(pg) = &self.inner.db else {
            return Ok(None);
        };
        let (tx, rx) = mpsc::unbounded_channel();
        pg.listen(tx).await?;
        Ok(Some(rx))
    }
}
