//! The methods that manage keys (all admin only): `create`, `list`, `get`,
//! `update`, `revoke`.

use serde_json::{Map, Value, json};
use switchboard_core::Error;
use switchboard_core::extension::{MethodCall, MethodInfo};

use crate::record::{self, Budget, KeyRecord};
use crate::registry::Registry;

/// The settings `create` and `update` take (all but `name` optional).
fn settings_schema(name_required: bool) -> Value {
    let mut schema = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "team": {"type": ["string", "null"], "maxLength": 200},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 64},
            "metadata": {"type": ["object", "null"]},
            "models": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 1000,
                       "description": "models and aliases it may use (empty: all)"},
            "rpm": {"type": ["integer", "null"], "minimum": 1, "maximum": 4_294_967_295_u64,
                    "description": "requests per minute"},
            "tpm": {"type": ["integer", "null"], "minimum": 1, "description": "tokens per minute"},
            "max_parallel": {"type": ["integer", "null"], "minimum": 1, "maximum": 4_294_967_295_u64,
                             "description": "requests at once"},
            "budget": {
                "type": ["object", "null"],
                "additionalProperties": false,
                "required": ["amount_usd"],
                "properties": {
                    "amount_usd": {"type": "number", "minimum": 0},
                    "period": {"enum": ["day", "month", "total"]},
                    "soft_amount_usd": {"type": "number", "minimum": 0}
                }
            },
            "expires_at": {"type": ["string", "integer", "null"],
                           "description": "RFC 3339 time or Unix seconds"}
        }
    });
    if name_required {
        schema["required"] = json!(["name"]);
    }
    schema
}

fn id_schema(extra: Option<Value>) -> Value {
    let mut schema = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["id"],
        "properties": {"id": {"type": "string", "minLength": 1}}
    });
    if let Some(Value::Object(settings)) = extra.map(|mut s| s["properties"].take())
        && let Some(props) = schema["properties"].as_object_mut()
    {
        props.extend(settings);
    }
    schema
}

/// The methods' descriptions and schemas.
pub(crate) fn infos() -> Vec<MethodInfo> {
    let key = json!({"type": "object", "required": ["id", "name", "prefix"]});
    vec![
        MethodInfo::new(
            "create",
            "Makes a key. The answer holds the key (`sk-sb-…`) once: only its hash is kept.",
            settings_schema(true),
            key.clone(),
        )
        .admin_only(),
        MethodInfo::new(
            "list",
            "Every key (never the key itself).",
            json!({"type": "object", "additionalProperties": false}),
            json!({"type": "object", "required": ["data"]}),
        )
        .admin_only(),
        MethodInfo::new("get", "One key.", id_schema(None), key.clone()).admin_only(),
        MethodInfo::new(
            "update",
            "Changes a key's settings (a field set to null clears it).",
            id_schema(Some(settings_schema(false))),
            key.clone(),
        )
        .admin_only(),
        MethodInfo::new(
            "revoke",
            "Revokes a key: it is refused from now on (on other nodes, within `cache_ttl_ms`).",
            id_schema(None),
            key,
        )
        .admin_only(),
    ]
}

/// Runs a method.
pub(crate) async fn call(registry: &Registry, call: MethodCall) -> Result<Value, Error> {
    let args = call.arguments.as_object().cloned().unwrap_or_default();
    match call.method.as_str() {
        "create" => create(registry, &args).await,
        "list" => {
            let keys = registry.list().await?;
            Ok(
                json!({"object": "list", "data": keys.iter().map(KeyRecord::public).collect::<Vec<_>>()}),
            )
        }
        "get" => Ok(existing(registry, &args).await?.public()),
        "update" => {
            let mut key = existing(registry, &args).await?;
            apply(&mut key, &args)?;
            registry.save(&key).await?;
            Ok(key.public())
        }
        "revoke" => {
            let mut key = existing(registry, &args).await?;
            key.revoked_at.get_or_insert(record::now_secs());
            registry.save(&key).await?;
            Ok(key.public())
        }
        other => Err(Error::not_found(format!(
            "the keys extension has no method `{other}` (it has: create, list, get, update, revoke)"
        ))),
    }
}

async fn create(registry: &Registry, args: &Map<String, Value>) -> Result<Value, Error> {
    let secret = record::new_key()?;
    let mut key = KeyRecord {
        id: record::new_id()?,
        name: String::new(),
        prefix: record::shown_prefix(&secret),
        key_hash: record::hash_key(&secret),
        team: None,
        tags: Vec::new(),
        metadata: Value::Null,
        models: Vec::new(),
        rpm: None,
        tpm: None,
        max_parallel: None,
        budget: None,
        expires_at: None,
        created_at: record::now_secs(),
        revoked_at: None,
    };
    apply(&mut key, args)?;
    registry.save(&key).await?;
    let mut shown = key.public();
    shown["key"] = Value::String(secret);
    Ok(shown)
}

async fn existing(registry: &Registry, args: &Map<String, Value>) -> Result<KeyRecord, Error> {
    let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
    registry
        .get(id)
        .await?
        .ok_or_else(|| Error::not_found(format!("no API key with id `{id}`")).with_param("id"))
}

/// Sets the fields `args` names (arguments are already schema-valid).
fn apply(key: &mut KeyRecord, args: &Map<String, Value>) -> Result<(), Error> {
    fn opt<T: serde::de::DeserializeOwned>(
        v: &Value,
        field: &'static str,
    ) -> Result<Option<T>, Error> {
        serde_json::from_value(v.clone())
            .map_err(|e| Error::invalid_request(format!("`{field}`: {e}")).with_param(field))
    }
    for (field, v) in args {
        match field.as_str() {
            "name" => key.name = v.as_str().unwrap_or_default().to_owned(),
            "team" => key.team = opt(v, "team")?,
            "tags" => key.tags = opt(v, "tags")?.unwrap_or_default(),
            "metadata" => key.metadata = v.clone(),
            "models" => key.models = opt(v, "models")?.unwrap_or_default(),
            "rpm" => key.rpm = opt(v, "rpm")?,
            "tpm" => key.tpm = opt(v, "tpm")?,
            "max_parallel" => key.max_parallel = opt(v, "max_parallel")?,
            "budget" => key.budget = opt::<Budget>(v, "budget")?,
            "expires_at" => key.expires_at = record::parse_expiry(v)?,
            _ => {}
        }
    }
    if let Some(b) = &key.budget
        && b.soft_amount_usd.is_some_and(|s| s > b.amount_usd)
    {
        return Err(Error::invalid_request(
            "`budget.soft_amount_usd` must not be above `budget.amount_usd`",
        )
        .with_param("budget"));
    }
    Ok(())
}
