//! The usage ledger's SQL on PostgreSQL: the insert, and totals summed in
//! SQL with SQLite's semantics (the same groups, `from` inclusive, `to`
//! exclusive, sums saturating at `i64::MAX`, unpriced and estimated
//! requests counted apart).

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{Postgres, Row};
use switchboard_core::extension::{LedgerGroup, LedgerQuery, LedgerRow, LedgerTotal, utc_day};

use crate::values::{count_from_sql, count_to_sql};

/// The insert of one row into `table` (qualified).
pub(super) fn insert_sql(table: &str) -> String {
    format!(
        "INSERT INTO {table} (at_ms, request_id, key_id, instance, model, input_tokens,
            output_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens,
            cost_usd, estimated, partial, cost_unknown)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    )
}

/// PostgreSQL text cannot hold NUL; a ledger row keeps the rest of the
/// string (NUL becomes U+FFFD) rather than losing the row.
fn text(s: &str) -> String {
    s.replace('\0', "\u{FFFD}")
}

/// Binds `row` to the insert of [`insert_sql`].
pub(super) fn bind_row<'q>(
    query: Query<'q, Postgres, PgArguments>,
    row: &LedgerRow,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(row.at_ms)
        .bind(text(&row.request_id))
        .bind(row.key_id.as_deref().map(text))
        .bind(text(&row.instance))
        .bind(text(&row.model))
        .bind(count_to_sql(row.input_tokens))
        .bind(count_to_sql(row.output_tokens))
        .bind(count_to_sql(row.cached_input_tokens))
        .bind(count_to_sql(row.cache_write_input_tokens))
        .bind(count_to_sql(row.reasoning_tokens))
        .bind(row.cost_usd)
        .bind(row.estimated)
        .bind(row.partial)
        .bind(row.cost_unknown)
}

/// What a [`LedgerGroup`] groups by. A day is grouped by its number since
/// the epoch (floor division, so times before 1970 fall on the right day)
/// and named by the core's [`utc_day`] after, which every `i64` time has.
fn group_expression(group: LedgerGroup) -> &'static str {
    match group {
        LedgerGroup::All => "'all'::TEXT",
        LedgerGroup::Key => "COALESCE(key_id, '-')",
        LedgerGroup::Model => "model",
        LedgerGroup::Instance => "instance",
        LedgerGroup::Day => "floor(at_ms::NUMERIC / 86400000)::BIGINT",
    }
}

/// A sum of a `BIGINT` column, saturating at `i64::MAX` (SUM of `BIGINT`
/// is `NUMERIC`, which never overflows).
fn saturating_sum(column: &str) -> String {
    format!("LEAST(SUM({column}), 9223372036854775807)::BIGINT")
}

/// The totals statement for `query` on `table`; its parameters are, in
/// order, the `from`, `to` and key filters `query` has.
pub(super) fn totals_sql(table: &str, query: &LedgerQuery) -> String {
    let mut filters = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    if query.from_ms.is_some() {
        filters.push(format!("at_ms >= ${}", next()));
    }
    if query.to_ms.is_some() {
        filters.push(format!("at_ms < ${}", next()));
    }
    if query.key_id.is_some() {
        filters.push(format!("key_id = ${}", next()));
    }
    let filter = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    format!(
        "SELECT {group} AS grp, COUNT(*), {input}, {output}, {cached}, {cache_write},
            {reasoning}, COALESCE(SUM(cost_usd), 0)::DOUBLE PRECISION,
            COUNT(*) FILTER (WHERE estimated), COUNT(*) FILTER (WHERE cost_unknown)
         FROM {table} {filter} GROUP BY 1 ORDER BY 1",
        group = group_expression(query.group_by),
        input = saturating_sum("input_tokens"),
        output = saturating_sum("output_tokens"),
        cached = saturating_sum("cached_input_tokens"),
        cache_write = saturating_sum("cache_write_input_tokens"),
        reasoning = saturating_sum("reasoning_tokens"),
    )
}

/// Binds `query`'s filters to the statement of [`totals_sql`].
pub(super) fn bind_filters<'q>(
    mut sql: Query<'q, Postgres, PgArguments>,
    query: &LedgerQuery,
) -> Query<'q, Postgres, PgArguments> {
    if let Some(from) = query.from_ms {
        sql = sql.bind(from);
    }
    if let Some(to) = query.to_ms {
        sql = sql.bind(to);
    }
    if let Some(key_id) = &query.key_id {
        sql = sql.bind(text(key_id));
    }
    sql
}

/// One row of the totals statement.
pub(super) fn decode(group: LedgerGroup, row: &PgRow) -> Result<LedgerTotal, sqlx::Error> {
    let group = match group {
        LedgerGroup::Day => {
            let day: i64 = row.try_get(0)?;
            // Exact for every `i64` time: a product below `i64::MIN` only
            // happens for the day holding `i64::MIN` itself.
            utc_day(day.saturating_mul(86_400_000))
        }
        _ => row.try_get(0)?,
    };
    let count = |i: usize| row.try_get::<i64, _>(i).map(count_from_sql);
    Ok(LedgerTotal {
        group,
        requests: count(1)?,
        input_tokens: count(2)?,
        output_tokens: count(3)?,
        cached_input_tokens: count(4)?,
        cache_write_input_tokens: count(5)?,
        reasoning_tokens: count(6)?,
        cost_usd: row.try_get(7)?,
        estimated_requests: count(8)?,
        unpriced_requests: count(9)?,
    })
}

/// Totals sorted by group in byte order (days are grouped by number, so
/// their names are sorted here, as SQLite sorts them).
pub(super) fn sorted(mut totals: Vec<LedgerTotal>) -> Vec<LedgerTotal> {
    totals.sort_by(|a, b| a.group.cmp(&b.group));
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_in_binding_order() {
        let sql = totals_sql(
            "\"s\".usage_ledger",
            &LedgerQuery {
                to_ms: Some(5),
                key_id: Some("k".into()),
                ..LedgerQuery::default()
            },
        );
        assert!(sql.contains("WHERE at_ms < $1 AND key_id = $2"), "{sql}");
        let all = totals_sql("t", &LedgerQuery::default());
        assert!(all.contains("FROM t  GROUP BY 1"), "no filter: {all}");
    }

    #[test]
    fn nul_is_replaced_in_ledger_text() {
        assert_eq!(text("a\0b"), "a\u{FFFD}b");
    }
}
