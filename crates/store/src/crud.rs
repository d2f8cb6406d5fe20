//! Record reads and writes for any collection.

use chrono::{SubsecRound, Utc};
use plinth_manifest::FieldType;
use plinth_records::{ListQuery, Row, Value};
use sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Order, Query, SelectStatement, Values};
use uuid::Uuid;

use crate::bind::to_sea;
use crate::table::Table;
use crate::{Store, StoreError};

/// A record as clients see it: field name to JSON value.
pub type Record = serde_json::Map<String, serde_json::Value>;

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page {
    /// The records on this page.
    pub items: Vec<Record>,
    /// How many records match, over all pages.
    pub total: u64,
    /// Page size used.
    pub limit: u32,
    /// Rows skipped.
    pub offset: u64,
}

fn col(name: &str) -> Alias {
    Alias::new(name)
}

impl Store {
    pub(crate) fn bind(&self, table: &Table, field: &str, v: &Value) -> sea_query::Value {
        let kind = table.column(field).map_or(FieldType::Text, |c| c.kind);
        to_sea(v, kind, self.dialect())
    }

    /// `SELECT <all columns> FROM <table> WHERE id = ?`, built once per collection at open.
    pub(crate) fn by_id_sql(db: &crate::executor::Db, table: &Table) -> String {
        let mut q = Self::select_all_of(table);
        q.and_where(Expr::col(col("id")).eq(sea_query::Value::String(None)));
        db.build(&q).0
    }

    pub(crate) fn select_all_of(table: &Table) -> SelectStatement {
        let mut q = Query::select();
        q.columns(table.columns.iter().map(|c| col(&c.name)))
            .from(col(&table.name));
        q
    }

    /// One record by id.
    pub async fn get(&self, collection: &str, id: Uuid) -> Result<Option<Record>, StoreError> {
        let table = self.table(collection)?;
        let sql = table.by_id_sql.clone();
        let values = Values(vec![self.bind(table, "id", &Value::Uuid(id))]);
        let rows = self
            .inner
            .db
            .query((sql, values), table.columns.clone())
            .await?;
        Ok(rows.into_iter().next())
    }

    /// A page of records with the total count.
    pub async fn list(&self, collection: &str, lq: &ListQuery) -> Result<Page, StoreError> {
        let table = self.table(collection)?;
        let mut rows = Self::select_all_of(table);
        let mut count = Query::select();
        count
            .expr(Func::count(Expr::col(Asterisk)))
            .from(col(&table.name));
        for (field, v) in &lq.equals {
            let cond = match v {
                Value::Null => Expr::col(col(field)).is_null(),
                v => Expr::col(col(field)).eq(self.bind(table, field, v)),
            };
            rows.and_where(cond.clone());
            count.and_where(cond);
        }
        if let Some(f) = &lq.filter {
            let cond = self.condition(table, f);
            rows.cond_where(cond.clone());
            count.cond_where(cond);
        }
        for key in &lq.sort {
            let order = if key.desc { Order::Desc } else { Order::Asc };
            rows.order_by(col(&key.field), order);
        }
        rows.limit(u64::from(lq.limit)).offset(lq.offset);
        let db = &self.inner.db;
        let (items, total) = db
            .page(db.build(&rows), db.build(&count), table.columns.clone())
            .await?;
        Ok(Page {
            items,
            total: u64::try_from(total).unwrap_or_default(),
            limit: lq.limit,
            offset: lq.offset,
        })
    }

    /// Insert a validated row; the stored record comes back.
    pub async fn create(&self, collection: &str, row: Row) -> Result<Record, StoreError> {
        let table = self.table(collection)?;
        let now = Value::Timestamp(Utc::now().trunc_subsecs(3));
        let mut names = vec![col("id")];
        let mut values: Vec<Expr> =
            vec![self.bind(table, "id", &Value::Uuid(Uuid::now_v7())).into()];
        for (field, v) in &row {
            names.push(col(field));
            values.push(self.bind(table, field, v).into());
        }
        for ts in ["created_at", "updated_at"] {
            if table.column(ts).is_some() {
                names.push(col(ts));
                values.push(self.bind(table, ts, &now).into());
            }
        }
        let mut q = Query::insert();
        q.into_table(col(&table.name))
            .columns(names)
            .values(values)
            .map_err(|e| StoreError::Database(e.to_string()))?
            .returning(Query::returning().columns(table.columns.iter().map(|c| col(&c.name))));
        let db = &self.inner.db;
        match db
            .write_returning(db.build(&q), table.columns.clone())
            .await
        {
            Ok(rows) => rows
                .into_iter()
                .next()
                .ok_or_else(|| StoreError::Database("insert returned no row".into())),
            Err(StoreError::InvalidReference { .. }) => {
                Err(self.missing_references(table, &row).await)
            }
            Err(e) => Err(e),
        }
    }

    /// Apply a validated partial row; `None` when no record has this id.
    pub async fn update(
        &self,
        collection: &str,
        id: Uuid,
        row: Row,
    ) -> Result<Option<Record>, StoreError> {
        let table = self.table(collection)?;
        let mut sets: Vec<(Alias, Expr)> = row
            .iter()
            .map(|(f, v)| (col(f), self.bind(table, f, v).into()))
            .collect();
        if table.has_updated_at {
            let now = Value::Timestamp(Utc::now().trunc_subsecs(3));
            sets.push((
                col("updated_at"),
                self.bind(table, "updated_at", &now).into(),
            ));
        }
        if sets.is_empty() {
            return self.get(collection, id).await;
        }
        let mut q = Query::update();
        q.table(col(&table.name))
            .values(sets)
            .and_where(Expr::col(col("id")).eq(self.bind(table, "id", &Value::Uuid(id))))
            .returning(Query::returning().columns(table.columns.iter().map(|c| col(&c.name))));
        let db = &self.inner.db;
        match db
            .write_returning(db.build(&q), table.columns.clone())
            .await
        {
            Ok(rows) => Ok(rows.into_iter().next()),
            Err(StoreError::InvalidReference { .. }) => {
                Err(self.missing_references(table, &row).await)
            }
            Err(e) => Err(e),
        }
    }

    /// Delete by id; false when no record has this id.
    pub async fn delete(&self, collection: &str, id: Uuid) -> Result<bool, StoreError> {
        let table = self.table(collection)?;
        let mut q = Query::delete();
        q.from_table(col(&table.name))
            .and_where(Expr::col(col("id")).eq(self.bind(table, "id", &Value::Uuid(id))));
        let db = &self.inner.db;
        match db.execute(db.build(&q)).await {
            Ok(n) => Ok(n > 0),
            Err(StoreError::InvalidReference { .. }) => Err(StoreError::StillReferenced),
            Err(e) => Err(e),
        }
    }

    /// After a foreign-key failure, find which relation fields point at nothing, so the
    /// client is told which field is wrong. Runs only on that error path.
    async fn missing_references(&self, table: &Table, row: &Row) -> StoreError {
        let mut fields = Vec::new();
        for (field, target) in &table.relations {
            let Some((_, Value::Uuid(id))) = row.iter().find(|(f, _)| f == field) else {
                continue;
            };
            match self.get(target, *id).await {
                Ok(None) => fields.push(field.clone()),
                Ok(Some(_)) => {}
                Err(e) => return e,
            }
        }
        StoreError::InvalidReference { fields }
    }
}
