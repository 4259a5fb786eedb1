//! A real Redis to test against: the testkit's (`switchboard_testkit::redis`),
//! and a connection of the test's own to look at what the limits wrote.

pub(crate) use switchboard_testkit::redis::{
    TestRedis, closed_port, silent_server, test_redis as redis, unique_prefix as prefix,
};

/// A connection of the test's own, to look at what the limits wrote.
pub(crate) async fn conn(redis: &TestRedis) -> redis::aio::MultiplexedConnection {
    ::redis::Client::open(redis.url.as_str())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connects")
}
