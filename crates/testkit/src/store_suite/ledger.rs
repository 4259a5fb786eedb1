//! The usage ledger: append, then totals for every grouping and filter,
//! compared with the core's own grouping ([`LedgerGroup::of`],
//! [`LedgerTotal::add`]) and spelled out.

use std::collections::BTreeMap;
use std::sync::Arc;

use switchboard_core::extension::{
    LedgerGroup, LedgerQuery, LedgerRow, LedgerTotal, Store, utc_day,
};

use super::{StoreCase, boxed};

/// 2026-12-02T23:59:59.999Z and the next millisecond, a new UTC day.
const LAST_MS_OF_DEC_2: i64 = 1_796_256_000_000 - 1;
const FIRST_MS_OF_DEC_3: i64 = 1_796_256_000_000;

pub(super) fn cases() -> Vec<StoreCase> {
    vec![
        StoreCase {
            name: "empty_ledger_has_no_totals",
            run: |s, _| boxed(empty_ledger_has_no_totals(s)),
        },
        StoreCase {
            name: "totals_for_every_group",
            run: |s, _| boxed(totals_for_every_group(s)),
        },
        StoreCase {
            name: "from_to_and_key_filters",
            run: |s, _| boxed(from_to_and_key_filters(s)),
        },
        StoreCase {
            name: "days_are_utc_days_before_1970_too",
            run: |s, _| boxed(days_are_utc_days_before_1970_too(s)),
        },
        StoreCase {
            name: "groups_are_in_byte_order",
            run: |s, _| boxed(groups_are_in_byte_order(s)),
        },
        StoreCase {
            name: "huge_token_counts_saturate",
            run: |s, _| boxed(huge_token_counts_saturate(s)),
        },
        StoreCase {
            name: "appends_from_many_tasks_all_count",
            run: |s, _| boxed(appends_from_many_tasks_all_count(s)),
        },
    ]
}

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

/// What the core's own grouping says the totals are.
fn expected(rows: &[LedgerRow], query: &LedgerQuery) -> Vec<LedgerTotal> {
    let mut totals: BTreeMap<String, LedgerTotal> = BTreeMap::new();
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
                    ..LedgerTotal::default()
                })
                .add(row);
        }
    }
    totals.into_values().collect()
}

/// Equal, costs within floating-point error.
fn assert_totals_eq(got: &[LedgerTotal], want: &[LedgerTotal], query: &LedgerQuery) {
    assert_eq!(got.len(), want.len(), "{query:?}: {got:#?} vs {want:#?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g.cost_usd - w.cost_usd).abs() < 1e-9,
            "{query:?}: {g:?} vs {w:?}"
        );
        let g = LedgerTotal {
            cost_usd: 0.0,
            ..g.clone()
        };
        let w = LedgerTotal {
            cost_usd: 0.0,
            ..w.clone()
        };
        assert_eq!(g, w, "{query:?}");
    }
}

async fn fill(store: &Arc<dyn Store>) {
    for row in rows() {
        store.append_usage(&row).await.expect("append");
    }
}

async fn totals(store: &Arc<dyn Store>, query: LedgerQuery) -> Vec<LedgerTotal> {
    store.usage_totals(&query).await.expect("totals")
}

fn by(group_by: LedgerGroup) -> LedgerQuery {
    LedgerQuery {
        group_by,
        ..LedgerQuery::default()
    }
}

async fn empty_ledger_has_no_totals(store: Arc<dyn Store>) {
    for group in [LedgerGroup::All, LedgerGroup::Day, LedgerGroup::Key] {
        let got = totals(&store, by(group)).await;
        assert!(got.is_empty(), "{group:?}: {got:?}");
    }
}

async fn totals_for_every_group(store: Arc<dyn Store>) {
    fill(&store).await;
    let groups = [
        LedgerGroup::All,
        LedgerGroup::Key,
        LedgerGroup::Model,
        LedgerGroup::Instance,
        LedgerGroup::Day,
    ];
    for group_by in groups {
        let query = by(group_by);
        let got = totals(&store, query.clone()).await;
        assert_totals_eq(&got, &expected(&rows(), &query), &query);
    }

    // Spelled out, so the suite does not only compare two implementations.
    let all = totals(&store, LedgerQuery::default()).await;
    assert_eq!(all.len(), 1);
    let t = &all[0];
    assert_eq!(
        (t.group.as_str(), t.requests, t.input_tokens),
        ("all", 4, 307)
    );
    assert_eq!((t.output_tokens, t.cached_input_tokens), (40, 160));
    assert_eq!((t.cache_write_input_tokens, t.reasoning_tokens), (20, 12));
    assert_eq!((t.estimated_requests, t.unpriced_requests), (1, 1));
    // The unpriced row adds nothing to the cost.
    assert!((t.cost_usd - 0.75).abs() < 1e-9, "{t:?}");

    let keys: Vec<(String, u64)> = totals(&store, by(LedgerGroup::Key))
        .await
        .into_iter()
        .map(|t| (t.group, t.requests))
        .collect();
    assert_eq!(
        keys,
        [("-".into(), 1), ("team-a".into(), 2), ("team-b".into(), 1)]
    );
    let days: Vec<(String, u64)> = totals(&store, by(LedgerGroup::Day))
        .await
        .into_iter()
        .map(|t| (t.group, t.requests))
        .collect();
    assert_eq!(days, [("2026-12-02".into(), 2), ("2026-12-03".into(), 2)]);
}

async fn from_to_and_key_filters(store: Arc<dyn Store>) {
    fill(&store).await;
    let queries = [
        LedgerQuery {
            from_ms: Some(FIRST_MS_OF_DEC_3),
            ..LedgerQuery::default()
        },
        LedgerQuery {
            to_ms: Some(FIRST_MS_OF_DEC_3),
            group_by: LedgerGroup::Model,
            ..LedgerQuery::default()
        },
        LedgerQuery {
            from_ms: Some(LAST_MS_OF_DEC_2),
            to_ms: Some(FIRST_MS_OF_DEC_3 + 5000),
            group_by: LedgerGroup::Day,
            ..LedgerQuery::default()
        },
        LedgerQuery {
            key_id: Some("team-a".to_owned()),
            group_by: LedgerGroup::Instance,
            ..LedgerQuery::default()
        },
        LedgerQuery {
            key_id: Some("team-a".to_owned()),
            from_ms: Some(FIRST_MS_OF_DEC_3),
            group_by: LedgerGroup::Key,
            ..LedgerQuery::default()
        },
        LedgerQuery {
            key_id: Some("nobody".to_owned()),
            ..LedgerQuery::default()
        },
    ];
    for query in queries {
        let got = totals(&store, query.clone()).await;
        assert_totals_eq(&got, &expected(&rows(), &query), &query);
    }

    // `from` is inclusive and `to` exclusive.
    let window = totals(
        &store,
        LedgerQuery {
            from_ms: Some(LAST_MS_OF_DEC_2),
            to_ms: Some(FIRST_MS_OF_DEC_3 + 5000),
            ..LedgerQuery::default()
        },
    )
    .await;
    assert_eq!(window[0].requests, 2);
    let nobody = LedgerQuery {
        key_id: Some("nobody".to_owned()),
        ..LedgerQuery::default()
    };
    assert!(totals(&store, nobody).await.is_empty());
}

async fn days_are_utc_days_before_1970_too(store: Arc<dyn Store>) {
    let times = [-86_400_001, -1, 0, 951_782_400_000, LAST_MS_OF_DEC_2];
    for at_ms in times {
        store
            .append_usage(&row(at_ms, None, "i", "m"))
            .await
            .expect("append");
    }
    let days: Vec<String> = totals(&store, by(LedgerGroup::Day))
        .await
        .into_iter()
        .map(|t| t.group)
        .collect();
    let mut want: Vec<String> = times.iter().map(|&t| utc_day(t)).collect();
    want.sort();
    assert_eq!(days, want);
    assert_eq!(want[0], "1969-12-30");
}

async fn groups_are_in_byte_order(store: Arc<dyn Store>) {
    let models = ["b", "B", "a", "A", "a-b", "ab", "é", "e", "_", "中"];
    for (i, model) in models.iter().enumerate() {
        let key = format!("K{model}");
        let at_ms = i64::try_from(i).unwrap_or(0);
        store
            .append_usage(&row(at_ms, Some(&key), model, model))
            .await
            .expect("append");
    }
    let mut want: Vec<String> = models.iter().map(|m| (*m).to_owned()).collect();
    want.sort();
    for group in [LedgerGroup::Model, LedgerGroup::Instance] {
        let got: Vec<String> = totals(&store, by(group))
            .await
            .into_iter()
            .map(|t| t.group)
            .collect();
        assert_eq!(got, want, "{group:?}");
    }
    let mut keys: Vec<String> = models.iter().map(|m| format!("K{m}")).collect();
    keys.sort();
    let got: Vec<String> = totals(&store, by(LedgerGroup::Key))
        .await
        .into_iter()
        .map(|t| t.group)
        .collect();
    assert_eq!(got, keys);
}

async fn huge_token_counts_saturate(store: Arc<dyn Store>) {
    let big = LedgerRow {
        input_tokens: u64::MAX,
        ..row(0, None, "i", "m")
    };
    store.append_usage(&big).await.expect("append");
    let all = totals(&store, LedgerQuery::default()).await;
    // SQL stores count as signed 64-bit integers, saturating at i64::MAX;
    // memory keeps u64. Either way: no error, no wrap-around.
    assert!(
        all[0].input_tokens >= i64::MAX as u64,
        "{}",
        all[0].input_tokens
    );
    assert_eq!(all[0].output_tokens, 10);
}

async fn appends_from_many_tasks_all_count(store: Arc<dyn Store>) {
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..16_i64 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            for i in 0..10_i64 {
                store
                    .append_usage(&LedgerRow {
                        at_ms: task * 10 + i,
                        input_tokens: 1,
                        cost_usd: 0.5,
                        ..LedgerRow::default()
                    })
                    .await
                    .expect("append");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a task finished without panicking");
    }
    let all = totals(&store, LedgerQuery::default()).await;
    assert_eq!((all[0].requests, all[0].input_tokens), (160, 160));
    assert!((all[0].cost_usd - 80.0).abs() < 1e-9, "{:?}", all[0]);
}
