//! Records under a record: the lists a collection `include:`s, reached through the parent's
//! path (Sim-Flow's `POST /requests/:id/comments`). The parent must be one the caller may
//! view (else 404, as for the parent itself); the child's own rules then decide.

use std::sync::Arc;

use plinth_context::Ctx;
use plinth_records::{FieldError, ValidationError};
use plinth_store::Page;
use serde_json::Value as J;

use crate::write::Created;
use crate::{AppService, CollectionHandle, CoreError};

impl AppService {
    /// The included collection `child` of `coll` and the wire name of its relation to it.
    fn child_of(
        &self,
        coll: &CollectionHandle,
        child: &str,
    ) -> Result<(&Arc<CollectionHandle>, String), CoreError> {
        let missing = || CoreError::NotFound(format!("No action `{child}`"));
        let relation = coll.def.include.get(child).ok_or_else(missing)?;
        let handle = self.collection(child).ok_or_else(missing)?;
        Ok((handle, handle.wire(relation).to_owned()))
    }

    /// Create a record of `child` under record `id` of `coll`: its relation to `coll` is
    /// the path's id (a body naming another one is a 400).
    pub async fn create_under(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: &str,
        child: &str,
        body: &J,
    ) -> Result<(Arc<CollectionHandle>, Created), CoreError> {
        let (handle, relation) = self.child_of(coll, child)?;
        let parent = self.view(ctx, coll, id, &[]).await?;
        let parent_id = J::String(parent.id().unwrap_or_default().to_owned());
        let mut body = match body {
            J::Object(map) => map.clone(),
            _ => serde_json::Map::new(),
        };
        match body.get(&relation) {
            Some(given) if *given != parent_id => {
                return Err(ValidationError {
                    details: vec![FieldError::new(relation, "is the record of the path")],
                }
                .into())
            }
            _ => {
                body.insert(relation, parent_id);
            }
        }
        let created = self.insert(ctx, handle, &J::Object(body)).await?;
        Ok((handle.clone(), created))
    }

    /// The records of `child` under record `id` of `coll`, as the caller may list them
    /// (`query` as for any list).
    pub async fn list_under(
        &self,
        ctx: &Ctx,
        coll: &CollectionHandle,
        id: &str,
        child: &str,
        query: &[(String, String)],
    ) -> Result<(Arc<CollectionHandle>, Page), CoreError> {
        let (handle, relation) = self.child_of(coll, child)?;
        let parent = self.view(ctx, coll, id, &[]).await?;
        let mut query: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| *k != relation)
            .cloned()
            .collect();
        query.push((relation, parent.id().unwrap_or_default().to_owned()));
        let page = self.list(ctx, handle, &query).await?;
        Ok((handle.clone(), page))
    }
}
