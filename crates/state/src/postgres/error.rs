//! What a PostgreSQL store's errors say: the operation, the database (user,
//! host, port, name and schema; never the password), and why. Every
//! message is scrubbed of the URL's password by value.

use std::time::Duration;

use switchboard_core::Error;

/// The context every error of one store carries.
#[derive(Clone)]
pub(super) struct Context {
    /// `app@db.internal:5432/switchboard, schema public`.
    pub(super) target: String,
    /// The password (as written and decoded), scrubbed from every message.
    secrets: Vec<String>,
    /// The bound on each call.
    pub(super) timeout: Duration,
}

impl Context {
    pub(super) fn new(target: String, secrets: Vec<String>, timeout: Duration) -> Self {
        Context {
            target,
            secrets,
            timeout,
        }
    }

    /// `text` with every secret replaced by `***`.
    pub(super) fn scrub(&self, text: String) -> String {
        self.secrets.iter().fold(text, |text, secret| {
            if text.contains(secret.as_str()) {
                text.replace(secret.as_str(), "***")
            } else {
                text
            }
        })
    }

    /// `op` failed with `e`: `unavailable`, naming the database.
    pub(super) fn failed(&self, op: &str, e: &sqlx::Error) -> Error {
        Error::unavailable(self.scrub(format!(
            "state store (postgres {}): {op} failed: {}",
            self.target,
            self.why(e)
        )))
    }

    /// `op` did not finish within the timeout: `unavailable`.
    pub(super) fn timed_out(&self, op: &str, after: Duration) -> Error {
        Error::unavailable(self.scrub(format!(
            "state store (postgres {}): {op} took longer than {} ms (`timeout_ms`); \
             is PostgreSQL up and reachable?",
            self.target,
            after.as_millis()
        )))
    }

    /// A `config` error about this database (a refused migration).
    pub(super) fn config(&self, what: String) -> Error {
        Error::config(self.scrub(format!("state store (postgres {}): {what}", self.target)))
    }

    /// Why `e` happened, in words.
    pub(super) fn why(&self, e: &sqlx::Error) -> String {
        match e {
            sqlx::Error::PoolTimedOut => format!(
                "no connection within {} ms (`timeout_ms`): is PostgreSQL up and reachable?",
                self.timeout.as_millis()
            ),
            sqlx::Error::Database(db) => match db.code() {
                Some(code) => format!("{} (SQLSTATE {code})", db.message()),
                None => db.message().to_owned(),
            },
            other => other.to_string(),
        }
    }
}

/// Runs `fut` within `timeout`; its error or the timeout as an error of `op`.
pub(super) async fn bounded<T>(
    ctx: &Context,
    op: &str,
    timeout: Duration,
    fut: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, Error> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(ctx.failed(op, &e)),
        Err(_) => Err(ctx.timed_out(op, timeout)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_scrubbed_by_value() {
        let ctx = Context::new(
            "u@h:5432/db, schema public".into(),
            vec!["hunter2".into()],
            Duration::from_millis(250),
        );
        let err = ctx.failed(
            "get",
            &sqlx::Error::Configuration("password hunter2 was refused".into()),
        );
        assert_eq!(err.kind(), &switchboard_core::ErrorKind::Unavailable);
        assert!(!err.message().contains("hunter2"), "{}", err.message());
        assert!(err.message().contains("u@h:5432/db"), "{}", err.message());
        let err = ctx.failed("put", &sqlx::Error::PoolTimedOut);
        assert!(err.message().contains("250 ms"), "{}", err.message());
    }
}
