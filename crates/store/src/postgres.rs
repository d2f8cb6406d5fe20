//! PostgreSQL executor: a deadpool of tokio-postgres connections whose `search_path` is
//! the app's schema, so one database can hold every app.

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Timeouts};
use std::sync::Arc;

use deadpool_postgres::GenericClient;
use plinth_manifest::FieldType;
use sea_query_postgres::PostgresValue;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value as J;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use plinth_records::{format_timestamp, Record, Shape};

use crate::unit::Sql;
use futures_util::future::{join, join_all};

use crate::unit::{check, Counting, Expect, Step, StepOut, Total, WriteUnit, ESTIMATE_FROM};
use crate::StoreError;

const POOL_SIZE: usize = 16;
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A pool of connections to one schema.
pub(crate) struct PgDb {
    pub(crate) pool: Pool,
    pub(crate) schema: String,
    /// How to connect, for the connection that listens for other nodes' events.
    pub(crate) config: Box<tokio_postgres::Config>,
}

/// The key of a schema's migration lock (`hashtext` of it is the advisory lock's id).
pub(crate) fn migration_lock_key(schema: &str) -> String {
    format!("plinth_migrate:{schema}")
}

/// The session-level advisory lock that serialises schema changes to one app schema across
/// processes (`plinth serve` nodes starting together), held on one pooled connection.
pub(crate) struct MigrationLock {
    client: Option<deadpool_postgres::Object>,
    key: String,
}

impl MigrationLock {
    /// The connection holding the lock, to run statements on while holding it.
    fn client(&self) -> &deadpool_postgres::Object {
        self.client.as_ref().expect("held until released")
    }

    /// Release the lock and return its connection to the pool.
    pub async fn release(mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        let unlocked = client
            .execute("SELECT pg_advisory_unlock(hashtext($1))", &[&self.key])
            .await;
        if unlocked.is_err() {
            // Never put a connection that may still hold the lock back in the pool.
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

impl Drop for MigrationLock {
    /// Not released (an error on the way, a cancelled start): close the connection, which
    /// ends its session and so the lock.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

fn params(values: &sea_query::Values) -> Vec<PostgresValue> {
    values.0.iter().cloned().map(PostgresValue).collect()
}

fn refs(p: &[PostgresValue]) -> Vec<&(dyn ToSql + Sync)> {
    p.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// Timestamps leave PostgreSQL as `DateTime`s; give them the same text form as SQLite's.
fn timestamp_json(t: chrono::DateTime<chrono::Utc>) -> J {
    J::String(format_timestamp(&t))
}

fn decode(row: &Row, shape: &Arc<Shape>) -> Result<Record, StoreError> {
    let mut values = Vec::with_capacity(shape.columns.len());
    for (i, col) in shape.columns.iter().enumerate() {
        let v = match col.kind {
            FieldType::Int => row.try_get::<_, Option<i64>>(i)?.map(J::from),
            FieldType::Float => row
                .try_get::<_, Option<f64>>(i)?
                .and_then(serde_json::Number::from_f64)
                .map(J::Number),
            FieldType::Bool => row.try_get::<_, Option<bool>>(i)?.map(J::Bool),
            FieldType::Timestamp => row
                .try_get::<_, Option<chrono::DateTime<chrono::Utc>>>(i)?
                .map(timestamp_json),
            FieldType::Date => row
                .try_get::<_, Option<chrono::NaiveDate>>(i)?
                .map(|d| J::String(d.format("%Y-%m-%d").to_string())),
            FieldType::Uuid | FieldType::Relation => row
                .try_get::<_, Option<uuid::Uuid>>(i)?
                .map(|u| J::String(u.to_string())),
            FieldType::Json => row.try_get::<_, Option<J>>(i)?,
            FieldType::Text | FieldType::Email | FieldType::Url | FieldType::Enum => {
                row.try_get::<_, Option<String>>(i)?.map(J::String)
            }
        };
        values.push(v.unwrap_or(J::Null));
    }
    Ok(Record::new(shape.clone(), values))
}

/// Run one step on a client or transaction and check its expectation.
async fn run_step(c: &impl GenericClient, step: &Step) -> Result<StepOut, StoreError> {
    let out = run_unchecked(c, step).await?;
    check(step, &out)?;
    Ok(out)
}

/// Run one step on a client or transaction.
async fn run_unchecked(c: &impl GenericClient, step: &Step) -> Result<StepOut, StoreError> {
    if step.script {
        c.batch_execute(&step.sql.0).await?;
        return Ok(StepOut::Count(0));
    }
    let stmt = c.prepare_cached(&step.sql.0).await?;
    run_prepared(c, step, &stmt).await
}

/// Run a step whose statement is prepared. The request is sent when the future is first
/// polled, before it waits for anything, so futures polled in order are run in order.
async fn run_prepared(
    c: &impl GenericClient,
    step: &Step,
    stmt: &tokio_postgres::Statement,
) -> Result<StepOut, StoreError> {
    let values = &step.sql.1;
    let out = {
        let p = params(values);
        match &step.returning {
            Some(shape) => StepOut::Rows(
                c.query(stmt, &refs(&p))
                    .await?
                    .iter()
                    .map(|r| decode(r, shape))
                    .collect::<Result<_, _>>()?,
            ),
            None => StepOut::Count(c.execute(stmt, &refs(&p)).await?),
        }
    };
    Ok(out)
}

impl PgDb {
    pub async fn open(url: &SecretString, schema: &str) -> Result<Self, StoreError> {
        let mut cfg = tokio_postgres::Config::from_str(url.expose_secret())
            .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?;
        // NOTICEs (`schema ... already exists, skipping` on every start) are not worth a
        // log line; tokio-postgres would log each at INFO.
        cfg.options(format!(
            "-c search_path={schema} -c client_min_messages=warning"
        ));
        // The event listener connects with this config too: never wait on it forever.
        cfg.connect_timeout(CONNECT_TIMEOUT);
        let mgr = Manager::from_config(
            cfg.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let wait = Some(CONNECT_TIMEOUT);
        let pool = Pool::builder(mgr)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts {
                wait,
                create: wait,
                recycle: wait,
            })
            .build()
            .map_err(|e| StoreError::Config(e.to_string()))?;
        let db = PgDb {
            pool,
            schema: schema.to_owned(),
            config: Box::new(cfg),
        };
        // Under the lock: two nodes creating the schema at once can both miss it and one
        // then fails on the catalog's unique index.
        let lock = db.lock_migrations().await?;
        // Identifier checked by DbUrl::parse.
        lock.client()
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .await?;
        lock.release().await;
        Ok(db)
    }

    /// Wait for, then take, the lock on changing this schema (see [`MigrationLock`]).
    pub async fn lock_migrations(&self) -> Result<MigrationLock, StoreError> {
        // The guard exists before the lock is asked for: should the wait fail or be cancelled,
        // its drop closes the connection instead of pooling one that may yet get the lock.
        let lock = MigrationLock {
            client: Some(self.pool.get().await?),
            key: migration_lock_key(&self.schema),
        };
        lock.client()
            .execute("SELECT pg_advisory_lock(hashtext($1))", &[&lock.key])
            .await?;
        Ok(lock)
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        client.simple_query("SELECT 1").await?;
        Ok(())
    }

    pub async fn query(
        &self,
        (sql, values): Sql,
        shape: Arc<Shape>,
    ) -> Result<Vec<Record>, StoreError> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&sql).await?;
        let p = params(&values);
        let rows = client.query(&stmt, &refs(&p)).await?;
        rows.iter().map(|r| decode(r, &shape)).collect()
    }

    pub async fn page(
        &self,
        (rows_sql, rows_values): Sql,
        counting: Counting,
        shape: Arc<Shape>,
    ) -> Result<(Vec<Record>, Option<Total>), StoreError> {
        let client = self.pool.get().await?;
        let rows_stmt = client.prepare_cached(&rows_sql).await?;
        let rp = params(&rows_values);
        let rr = refs(&rp);
        let exact = |n: i64| Total {
            count: u64::try_from(n).unwrap_or_default(),
            estimated: false,
        };
        // Pipelined on one connection: the rows and the count go out before either answer
        // is read.
        let (rows, total) = match counting {
            Counting::Skip => (client.query(&rows_stmt, &rr).await?, None),
            Counting::Exact((sql, values)) => {
                let stmt = client.prepare_cached(&sql).await?;
                let cp = params(&values);
                let cr = refs(&cp);
                let (rows, count) =
                    tokio::try_join!(client.query(&rows_stmt, &rr), client.query_one(&stmt, &cr))?;
                (rows, Some(exact(count.try_get(0)?)))
            }
            Counting::Estimate {
                table,
                exact: (sql, values),
            } => {
                let stmt = client
                    .prepare_cached("SELECT pg_stat_get_live_tuples(to_regclass($1))::bigint")
                    .await?;
                let name: [&(dyn ToSql + Sync); 1] = [&table];
                let (rows, live) = tokio::try_join!(
                    client.query(&rows_stmt, &rr),
                    client.query_one(&stmt, &name)
                )?;
                let live: Option<i64> = live.try_get(0)?;
                match live {
                    Some(n) if n >= ESTIMATE_FROM => (
                        rows,
                        Some(Total {
                            count: u64::try_from(n).unwrap_or_default(),
                            estimated: true,
                        }),
                    ),
                    _ => {
                        let stmt = client.prepare_cached(&sql).await?;
                        let cp = params(&values);
                        let n: i64 = client.query_one(&stmt, &refs(&cp)).await?.try_get(0)?;
                        (rows, Some(exact(n)))
                    }
                }
            }
        };
        let items = rows
            .iter()
            .map(|r| decode(r, &shape))
            .collect::<Result<_, _>>()?;
        Ok((items, total))
    }

    /// A unit in one transaction; a unit that is one statement once folded (`pg_merge`) is
    /// atomic alone and skips BEGIN and COMMIT when a miss of it changes nothing.
    pub async fn apply(&self, unit: WriteUnit) -> Result<Vec<StepOut>, StoreError> {
        let mut client = self.pool.get().await?;
        if unit.steps.iter().any(|s| s.script) {
            // DDL: a later statement may name a table an earlier one creates, so each is
            // sent only once the one before it has run.
            let tx = client.transaction().await?;
            let mut outs = Vec::with_capacity(unit.steps.len());
            for step in &unit.steps {
                // An error drops `tx`, which rolls the whole unit back.
                outs.push(run_step(&tx, step).await?);
            }
            tx.commit().await?;
            return Ok(outs);
        }
        let merged = crate::pg_merge::merge(unit.steps);
        if let [one] = merged.as_slice() {
            if one.step.by_key || one.step.expect == Expect::Any {
                let out = run_step(&client, &one.step).await?;
                return Ok(crate::pg_merge::expand(&merged, vec![out]));
            }
        }
        // Statements are prepared first (a prepare that waits for its answer would let
        // later steps overtake it); preparing is not part of any transaction.
        let prepared = join_all(merged.iter().map(|m| client.prepare_cached(&m.step.sql.0))).await;
        let stmts = prepared.into_iter().collect::<Result<Vec<_>, _>>()?;
        let open = Open(Some(client));
        let c = open.client();
        // Pipelined: BEGIN and every statement are sent at once and the server runs them in
        // order, one round trip instead of one per step (and one for BEGIN). A failed
        // statement aborts the transaction, so the ones after it change nothing;
        // expectations are checked in order afterwards.
        let runs = merged
            .iter()
            .zip(&stmts)
            .map(|(m, stmt)| run_prepared(c, &m.step, stmt));
        let (began, ran) = join(c.batch_execute("BEGIN"), join_all(runs)).await;
        let checked = began.map_err(StoreError::from).and_then(|()| {
            let mut outs = Vec::with_capacity(ran.len());
            for (m, out) in merged.iter().zip(ran) {
                let out = out?;
                check(&m.step, &out)?;
                outs.push(out);
            }
            Ok(crate::pg_merge::expand(&merged, outs))
        });
        let end = if checked.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        let ended = c.batch_execute(end).await;
        if ended.is_ok() {
            // Committed or rolled back: the connection is outside any transaction again.
            open.close();
        }
        let outs = checked?;
        ended?;
        Ok(outs)
    }
}

/// A connection inside a transaction that [`PgDb::apply`] began without tokio-postgres'
/// `Transaction` (which waits for BEGIN's answer before anything else is sent). Dropped
/// before the transaction ended (an error on the way, a request cancelled because its
/// client went away), it rolls the transaction back before the connection is pooled again.
struct Open(Option<deadpool_postgres::Object>);

impl Open {
    /// The connection.
    fn client(&self) -> &deadpool_postgres::Object {
        self.0.as_ref().expect("held until closed or dropped")
    }

    /// The transaction ended (committed or rolled back): pool the connection again.
    fn close(mut self) {
        drop(self.0.take());
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let Some(client) = self.0.take() else {
            return;
        };
        // Whatever was sent still runs in order; a ROLLBACK queued behind it ends the
        // transaction (after a COMMIT already sent it is a no-op with a warning).
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if client.batch_execute("ROLLBACK").await.is_err() {
                        drop(deadpool_postgres::Object::take(client));
                    }
                });
            }
            // No runtime to wait on the rollback: end the session, which ends the transaction.
            Err(_) => drop(deadpool_postgres::Object::take(client)),
        }
    }
}
