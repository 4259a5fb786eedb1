//! The usage ledger: append, then totals for every grouping and filter.

use switchboard_core::extension::{
    LedgerGroup, LedgerQuery, LedgerRow, LedgerTotal, Store, utc_day,
};

use crate::memory_store;

/// 2026-12-02T23:59:59.999Z and the next millisecond, a new UTC day.
const LAST_MS_OF_DEC_2: i64 = 1_796_256_000_000 - 1;
const FIRST_MS_OF_DEC_3: i64 = 1_796_256_000_000;

fn row(at_ms: i64, key_id: Option<&str>, instance: &str, model: &str) -> LedgerRow {
    LedgerRow {
        at_ms,
        request_id: format!("req-{at_ms}"),
        key_id: key_id.map(str::to_owned),
        instance: instance.to_owned(),
        model: model.to_owned(),
        input_tokens: 100,
        output_tokens: 10,
        cached_input_tokens: 40,
        cache_write_input_tokens: 5,
        reasoning_tokens: 3,
        cost_usd: 0.25,
        cost_unknown: false,
        estimated: false,
        partial: false,
    }
}

fn rows() -> Vec<LedgerRow> {
    vec![
        row(LAST_MS_OF_DEC_2 - 1000, Some("team-a"), "openai", "gpt-4o"),
        LedgerRow {
            estimated: true,
            partial: true,
            input_tokens: 7,
            cost_usd: 0.0,
            cost_unknown: true,
            ..row(LAST_MS_OF_DEC_2, None, "anthropic", "claude")
        },
        row(FIRST_MS_OF_DEC_3, Some("team-b"), "openai", "gpt-4o"),
        row(
            FIRST_MS_OF_DEC_3 + 5000,
            Some("team-a"),
            "openai",
            "gpt-4o-mini",
        ),
    ]
}

/// What the core's in-memory grouping says the totals are.
fn expected(rows: &[LedgerRow], query: &LedgerQuery) -> Vec<LedgerTotal> {
    let mut totals: std::collections::BTreeMap<String, LedgerTotal> = Default::default();
    for row in rows {
        let selected = query.from_ms.is_none_or(|from| row.at_ms >= from)
            && query.to_ms.is_none_or(|to| row.at_ms < to)
            && query
                .key_id
                .as_ref()
                .is_none_or(|k| row.key_id.as_ref() == Some(k));
        if selected {
            let group = query.group_by.of(row);
            totals
                .entry(group.clone())
                .or_insert_with(|| LedgerTotal {
                    group,
                    ..Default::default()
                })
                .add(row);
        }
    }
    totals.into_values().collect()
}

fn assert_totals_eq(got: &[LedgerTotal], want: &[LedgerTotal]) {
    assert_eq!(got.len(), want.len(), "{got:#?} vs {want:#?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g.cost_usd - w.cost_usd).abs() < 1e-9, "{g:?} vs {w:?}");
        let g = LedgerTotal {
            cost_usd: 0.0,
            ..g.clone()
        };
        let w = LedgerTotal {
            cost_usd: 0.0,
            ..w.clone()
        };
        assert_eq!(g, w);
    }
}

async fn filled_store() -> switchboard_state::SqliteStore {
    let store = memory_store().await;
    for row in rows() {
        store.append_usage(&row).await.expect("append");
    }
    store
}

#[tokio::test]
async fn empty_ledger_has_no_totals() {
    let store = memory_store().await;
    let totals = store
        .usage_totals(&LedgerQuery::default())
        .await
        .expect("totals");
    assert!(totals.is_empty(), "{totals:?}");
}

#[tokio::test]
async fn totals_for_every_group() {
    let store = filled_store().await;
    let groups = [
        LedgerGroup::All,
        LedgerGroup::Key,
        LedgerGroup::Model,
        LedgerGroup::Instance,
        LedgerGroup::Day,
    ];
    for group_by in groups {
        let query = LedgerQuery {
            group_by,
            ..Default::default()
        };
        let got = store.usage_totals(&query).await.expect("totals");
        assert_totals_eq(&got, &expected(&rows(), &query));
    }

    // Spelled out, so the test does not only compare two implementations.
    let all = store
        .usage_totals(&LedgerQuery::default())
        .await
        .expect("all");
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].group.as_str(), all[0].requests, all[0].input_tokens),
        ("all", 4, 307)
    );
    assert_eq!(
        (all[0].output_tokens, all[0].cached_input_tokens),
        (40, 160)
    );
    assert_eq!(
        (all[0].cache_write_input_tokens, all[0].reasoning_tokens),
        (20, 12)
    );
    assert_eq!(all[0].estimated_requests, 1);
    assert_eq!(all[0].unpriced_requests, 1);
    // The unpriced row adds nothing to the cost.
    assert!((all[0].cost_usd - 0.75).abs() < 1e-9);

    let by_key = store
        .usage_totals(&LedgerQuery {
            group_by: LedgerGroup::Key,
            ..Default::default()
        })
        .await
        .expect("by key");
    let keys: Vec<(&str, u64)> = by_key
        .iter()
        .map(|t| (t.group.as_str(), t.requests))
        .collect();
    assert_eq!(keys, [("-", 1), ("team-a", 2), ("team-b", 1)]);

    let by_day = store
        .usage_totals(&LedgerQuery {
            group_by: LedgerGroup::Day,
            ..Default::default()
        })
        .await
        .expect("by day");
    let days: Vec<(&str, u64)> = by_day
        .iter()
        .map(|t| (t.group.as_str(), t.requests))
        .collect();
    assert_eq!(days, [("2026-12-02", 2), ("2026-12-03", 2)]);
}

#[tokio::test]
async fn from_to_and_key_filters() {
    let store = filled_store().await;
    let queries = [
        LedgerQuery {
            from_ms: Some(FIRST_MS_OF_DEC_3),
            ..Default::default()
        },
        LedgerQuery {
            to_ms: Some(FIRST_MS_OF_DEC_3),
            group_by: LedgerGroup::Model,
            ..Default::default()
        },
        LedgerQuery {
            from_ms: Some(LAST_MS_OF_DEC_2),
            to_ms: Some(FIRST_MS_OF_DEC_3 + 5000),
            group_by: LedgerGroup::Day,
            ..Default::default()
        },
        LedgerQuery {
            key_id: Some("team-a".to_owned()),
            group_by: LedgerGroup::Instance,
            ..Default::default()
        },
        LedgerQuery {
            key_id: Some("nobody".to_owned()),
            ..Default::default()
        },
    ];
    for query in &queries {
        let got = store.usage_totals(query).await.expect("totals");
        assert_totals_eq(&got, &expected(&rows(), query));
    }

    // `from` is inclusive and `to` exclusive.
    let window = store
        .usage_totals(&LedgerQuery {
            from_ms: Some(LAST_MS_OF_DEC_2),
            to_ms: Some(FIRST_MS_OF_DEC_3 + 5000),
            ..Default::default()
        })
        .await
        .expect("window");
    assert_eq!(window[0].requests, 2);
    let none = store
        .usage_totals(&LedgerQuery {
            key_id: Some("nobody".to_owned()),
            ..Default::default()
        })
        .await
        .expect("no rows");
    assert!(none.is_empty());
}

#[tokio::test]
async fn days_match_the_core_utc_day_including_before_1970() {
    let store = memory_store().await;
    let times = [-86_400_001, -1, 0, 951_782_400_000, LAST_MS_OF_DEC_2];
    for at_ms in times {
        store
            .append_usage(&row(at_ms, None, "i", "m"))
            .await
            .expect("append");
    }
    let days = store
        .usage_totals(&LedgerQuery {
            group_by: LedgerGroup::Day,
            ..Default::default()
        })
        .await
        .expect("by day");
    let mut want: Vec<String> = times.iter().map(|&t| utc_day(t)).collect();
    want.sort();
    assert_eq!(
        days.iter().map(|t| t.group.clone()).collect::<Vec<_>>(),
        want
    );
    assert_eq!(want[0], "1969-12-30");
}

#[tokio::test]
async fn huge_token_counts_saturate_instead_of_failing() {
    let store = memory_store().await;
    let big = LedgerRow {
        input_tokens: u64::MAX,
        ..row(0, None, "i", "m")
    };
    store.append_usage(&big).await.expect("append");
    let all = store
        .usage_totals(&LedgerQuery::default())
        .await
        .expect("totals");
    assert_eq!(all[0].input_tokens, i64::MAX as u64);
}
