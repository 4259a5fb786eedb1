//! Where finished Responses API responses are kept, for `GET`/`DELETE
//! /v1/responses/{id}` and `previous_response_id`.
//!
//! With an extension store open (see
//! [`Switchboard::store`](switchboard_gateway::Switchboard::store)) records go
//! to its `responses` namespace; otherwise to a bounded in-memory map of the
//! `server.responses.max_in_memory` newest. Records older than
//! `server.responses.retention_secs` are treated as gone (and deleted when
//! read); in the extension store, a put sweeps them out at most once per
//! [`SWEEP_EVERY_SECS`](crate::responses_memory::SWEEP_EVERY_SECS), off the
//! request path. Both settings are read from
//! the live configuration at each use, so a reload applies at once.

use std::sync::Arc;

use switchboard_core::Error;
use switchboard_gateway::config::types::ResponsesConfig;

use crate::response::unix_now;
pub(crate) use crate::responses_memory::StoredResponse;
use crate::state::SharedState;

/// The store namespace of response records.
pub(crate) const NAMESPACE: &str = "responses";

/// The live `[server.responses]` settings.
fn settings(state: &SharedState) -> ResponsesConfig {
    state.sb.config().server.responses.clone()
}

/// Keeps `record` under `id`.
pub(crate) async fn put(
    state: &SharedState,
    id: String,
    record: StoredResponse,
) -> Result<(), Error> {
    let settings = settings(state);
    match state.sb.store() {
        Some(store) => {
            store.put(NAMESPACE, &id, &record.to_value()).await?;
            if state.responses.sweep_due(unix_now()) {
                tokio::spawn(sweep(store, settings.retention_secs));
            }
            Ok(())
        }
        None => {
            state.responses.put(id, record, settings.max_in_memory);
            Ok(())
        }
    }
}

/// Deletes every expired record from `store`'s namespace; returns how many.
/// Records that do not read back as responses are left alone.
pub(crate) async fn sweep(
    store: Arc<dyn switchboard_core::extension::Store>,
    retention_secs: u64,
) -> usize {
    let records = match store.list(NAMESPACE, "").await {
        Ok(records) => records,
        Err(e) => {
            tracing::warn!(error = %e, "could not list stored responses to sweep expired ones");
            return 0;
        }
    };
    let mut swept = 0;
    for (id, value) in records {
        let expired = StoredResponse::from_value(&value).is_some_and(|r| r.expired(retention_secs));
        if expired {
            match store.delete(NAMESPACE, &id).await {
                Ok(true) => swept += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not delete an expired response"),
            }
        }
    }
    if swept > 0 {
        tracing::debug!(swept, "expired responses swept from the store");
    }
    swept
}

/// The record under `id` if `owner` made it and it has not expired.
pub(crate) async fn get(
    state: &SharedState,
    id: &str,
    owner: &str,
) -> Result<Option<Arc<StoredResponse>>, Error> {
    let record = match state.sb.store() {
        Some(store) => store
            .get(NAMESPACE, id)
            .await?
            .and_then(|v| StoredResponse::from_value(&v))
            .map(Arc::new),
        None => state.responses.get(id),
    };
    match record {
        Some(r) if r.expired(settings(state).retention_secs) => {
            delete(state, id).await?;
            Ok(None)
        }
        Some(r) if r.owner == owner => Ok(Some(r)),
        _ => Ok(None),
    }
}

/// Removes `id`; whether it was there.
pub(crate) async fn delete(state: &SharedState, id: &str) -> Result<bool, Error> {
    match state.sb.store() {
        Some(store) => store.delete(NAMESPACE, id).await,
        None => Ok(state.responses.delete(id)),
    }
}
