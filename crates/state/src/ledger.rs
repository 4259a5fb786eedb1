//! The usage ledger: blocking SQL on one connection. Token counts are
//! stored as SQLite integers (saturating at `i64::MAX`).

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, params, params_from_iter};
use switchboard_core::Error;
use switchboard_core::extension::{LedgerGroup, LedgerQuery, LedgerRow, LedgerTotal};

use crate::sql_error::sql_error;
use crate::values::{count_from_sql as from_sql, count_to_sql as to_sql};

/// Appends `row`.
pub(crate) fn append(conn: &Connection, row: &LedgerRow) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO usage_ledger (at_ms, request_id, key_id, instance, model, input_tokens,
            output_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens,
            cost_usd, estimated, partial, cost_unknown)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            row.at_ms,
            row.request_id,
            row.key_id,
            row.instance,
            row.model,
            to_sql(row.input_tokens),
            to_sql(row.output_tokens),
            to_sql(row.cached_input_tokens),
            to_sql(row.cache_write_input_tokens),
            to_sql(row.reasoning_tokens),
            row.cost_usd,
            row.estimated,
            row.partial,
            row.cost_unknown,
        ])
    })
    .map_err(|e| sql_error("appending usage", e))?;
    Ok(())
}

/// The SQL expression a [`LedgerGroup`] groups by. Days use floor division
/// so times before 1970 fall on the right day, as `utc_day` does.
fn group_expression(group: LedgerGroup) -> &'static str {
    match group {
        LedgerGroup::All => "'all'",
        LedgerGroup::Key => "COALESCE(key_id, '-')",
        LedgerGroup::Model => "model",
        LedgerGroup::Instance => "instance",
        LedgerGroup::Day => {
            "strftime('%Y-%m-%d', (at_ms - (((at_ms % 1000) + 1000) % 1000)) / 1000, 'unixepoch')"
        }
    }
}

/// Sums the rows `query` selects, one total per group, sorted by group
/// (byte order). Token sums are SQL integers; costs use `TOTAL` (a float).
pub(crate) fn totals(conn: &Connection, query: &LedgerQuery) -> Result<Vec<LedgerTotal>, Error> {
    let mut filters = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    if let Some(from) = query.from_ms {
        args.push(SqlValue::Integer(from));
        filters.push(format!("at_ms >= ?{}", args.len()));
    }
    if let Some(to) = query.to_ms {
        args.push(SqlValue::Integer(to));
        filters.push(format!("at_ms < ?{}", args.len()));
    }
    if let Some(key_id) = &query.key_id {
        args.push(SqlValue::Text(key_id.clone()));
        filters.push(format!("key_id = ?{}", args.len()));
    }
    let filter = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    let sql = format!(
        "SELECT {group} AS grp, COUNT(*), SUM(input_tokens), SUM(output_tokens),
            SUM(cached_input_tokens), SUM(cache_write_input_tokens), SUM(reasoning_tokens),
            TOTAL(cost_usd), SUM(estimated), SUM(cost_unknown)
         FROM usage_ledger {filter} GROUP BY grp ORDER BY grp",
        group = group_expression(query.group_by),
    );
    conn.prepare_cached(&sql)
        .and_then(|mut stmt| {
            stmt.query_map(params_from_iter(args), |row| {
                Ok(LedgerTotal {
                    group: row.get(0)?,
                    requests: from_sql(row.get(1)?),
                    input_tokens: from_sql(row.get(2)?),
                    output_tokens: from_sql(row.get(3)?),
                    cached_input_tokens: from_sql(row.get(4)?),
                    cache_write_input_tokens: from_sql(row.get(5)?),
                    reasoning_tokens: from_sql(row.get(6)?),
                    cost_usd: row.get(7)?,
                    estimated_requests: from_sql(row.get(8)?),
                    unpriced_requests: from_sql(row.get(9)?),
                })
            })?
            .collect()
        })
        .map_err(|e| sql_error("summing usage", e))
}
