//! [`Validated`]: a request that passed its `validate()` once, at the entry.
//!
//! The router only routes `Validated` requests, so no retry or fallback
//! validates again, and a [`Provider`](switchboard_core::Provider) always
//! receives a request that passed `validate()`.

use switchboard_core::{ChatRequest, EmbeddingsRequest, Error, ForwardRequest};

/// A request the router can route: it checks itself and names its model.
pub(crate) trait Routable {
    /// The request's own `validate()`.
    fn validate(&self) -> Result<(), Error>;
    /// The model asked for: an alias, `instance/model` or a bare model.
    fn model(&self) -> &str;
    /// Points the request at `model` (the model id at one target).
    fn set_model(&mut self, model: &str);
}

impl Routable for ChatRequest {
    fn validate(&self) -> Result<(), Error> {
        ChatRequest::validate(self)
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn set_model(&mut self, model: &str) {
        model.clone_into(&mut self.model);
    }
}

/// A forwarded request is its parsed request: checked, named and pointed
/// at a target as that is (its bytes follow the parsed `model`).
impl Routable for ForwardRequest {
    fn validate(&self) -> Result<(), Error> {
        self.request.validate()
    }

    fn model(&self) -> &str {
        &self.request.model
    }

    fn set_model(&mut self, model: &str) {
        model.clone_into(&mut self.request.model);
    }
}

impl Routable for EmbeddingsRequest {
    fn validate(&self) -> Result<(), Error> {
        EmbeddingsRequest::validate(self)
    }

    fn model(&self) -> &str {
        &self.model
    }

    fn set_model(&mut self, model: &str) {
        model.clone_into(&mut self.model);
    }
}

/// A request that passed its `validate()`. Only [`Validated::new`] makes
/// one, and only [`Validated::retarget`] changes it.
#[derive(Debug)]
pub(crate) struct Validated<R>(R);

impl<R: Routable> Validated<R> {
    /// Validates `request`: the one validation it gets.
    pub(crate) fn new(request: R) -> Result<Self, Error> {
        request.validate()?;
        Ok(Validated(request))
    }

    /// The request.
    pub(crate) fn get(&self) -> &R {
        &self.0
    }

    /// Points the request at one target's `model`, the only field the router
    /// changes. `validate()` requires a model, so an empty one (a target
    /// written `instance/`) is refused with the error `validate()` gives,
    /// without validating the rest again.
    pub(crate) fn retarget(&mut self, model: &str) -> Result<(), Error> {
        self.0.set_model(model);
        if model.trim().is_empty() {
            return Err(Error::invalid_param("model", "`model` must not be empty"));
        }
        Ok(())
    }
}

impl Validated<ForwardRequest> {
    /// The parsed request of a forwarded one, for the full path: it passed
    /// the same `validate()`. Its model is the one the client sent.
    pub(crate) fn into_parsed(self) -> Validated<ChatRequest> {
        let ForwardRequest {
            mut request,
            sent_model,
            ..
        } = self.0;
        request.model = sent_model;
        Validated(request)
    }
}

#[cfg(test)]
mod tests {
    use switchboard_core::{ErrorKind, Message};

    use super::*;

    #[test]
    fn only_valid_requests_are_validated() {
        let bad = ChatRequest::new("m", vec![Message::user("hi")]).temperature(9.0);
        let err = Validated::new(bad).expect_err("out of range");
        assert_eq!(err.param(), Some("temperature"));
        let ok = Validated::new(ChatRequest::new("m", vec![Message::user("hi")]));
        assert_eq!(ok.expect("valid").get().model, "m");
    }

    #[test]
    fn retargeting_to_an_empty_model_fails_as_validate_would() {
        let mut req =
            Validated::new(EmbeddingsRequest::new("alias", vec!["a".into()])).expect("valid");
        req.retarget("text-1").expect("a model");
        assert_eq!(req.get().model, "text-1");
        let err = req.retarget(" ").expect_err("no model");
        let mut direct = EmbeddingsRequest::new(" ", vec!["a".into()]);
        let expected = direct.validate().expect_err("validate agrees");
        assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
        assert_eq!(err.to_string(), expected.to_string());
        direct.model = String::new();
        assert_eq!(
            direct.validate().expect_err("empty").to_string(),
            err.to_string()
        );
    }
}
