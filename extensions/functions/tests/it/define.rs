//! `define`, `list`, `get` and `remove`, and the checks `define` makes.

use serde_json::{Value, json};
use switchboard_core::ErrorKind;
use switchboard_ext_functions::FunctionsConfig;

use crate::fakes::{Harness, MemoryStore, greet, summarize};

#[tokio::test]
async fn define_then_list_get_and_methods_show_it() {
    let h = Harness::new(&[]).await;
    assert_eq!(h.method_names(), ["define", "list", "get", "remove"]);

    let defined = h.call("define", summarize()).await.expect("defined");
    assert_eq!(defined["replaced"], false);
    assert_eq!(defined["function"]["name"], "summarize");

    let list = h.call("list", json!({})).await.expect("listed");
    let functions = list["functions"].as_array().expect("an array");
    assert_eq!(functions.len(), 1);
    assert_eq!(functions[0]["parameters"], summarize()["parameters"]);
    assert_eq!(functions[0]["output_schema"], summarize()["output_schema"]);
    assert_eq!(functions[0]["result"], summarize()["output_schema"]);

    let got = h
        .call("get", json!({"name": "summarize"}))
        .await
        .expect("found");
    assert_eq!(got["template"], summarize()["template"]);

    let methods = h.functions_methods();
    let method = methods
        .iter()
        .find(|m| m.name == "summarize")
        .expect("the function is a method");
    assert_eq!(method.arguments, summarize()["parameters"]);
    assert_eq!(method.result, summarize()["output_schema"]);
    assert_eq!(method.description, "Summarizes a text in a few words.");
}

#[tokio::test]
async fn a_function_without_output_schema_returns_text() {
    let h = Harness::new(&[]).await;
    h.call("define", greet()).await.expect("defined");
    let methods = h.functions_methods();
    let method = methods.iter().find(|m| m.name == "greet").expect("listed");
    assert_eq!(method.result["properties"]["text"]["type"], "string");
}

#[tokio::test]
async fn defining_again_replaces() {
    let h = Harness::new(&[]).await;
    h.call("define", greet()).await.expect("defined");
    let mut changed = greet();
    changed["template"] = json!("Say hi to {{who}}!");
    let again = h.call("define", changed).await.expect("redefined");
    assert_eq!(again["replaced"], true);
    let got = h
        .call("get", json!({"name": "greet"}))
        .await
        .expect("found");
    assert_eq!(got["template"], "Say hi to {{who}}!");
    assert_eq!(h.method_names().iter().filter(|n| *n == "greet").count(), 1);
}

/// Defines `def` and expects an invalid_request error about `param`
/// whose message contains `needle`.
async fn refused(def: Value, param: &str, needle: &str) {
    let h = Harness::new(&[]).await;
    let err = h.call("define", def).await.expect_err("refused");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest, "{err}");
    assert_eq!(err.param(), Some(param), "{err}");
    assert!(err.message().contains(needle), "{err}");
    let list = h.call("list", json!({})).await.expect("listed");
    assert_eq!(list["functions"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn an_undeclared_placeholder_is_refused() {
    let mut def = summarize();
    def["template"] = json!("Summarize {{text}} in the style of {{author}}");
    refused(def, "template", "{{author}}").await;
}

#[tokio::test]
async fn a_broken_template_is_refused() {
    let mut def = greet();
    def["template"] = json!("Say hello to {{who");
    refused(def, "template", "never closed").await;
}

#[tokio::test]
async fn invalid_schemas_are_refused() {
    let mut def = greet();
    def["parameters"]["properties"]["who"] = json!({"type": "no-such-type"});
    refused(def, "parameters", "not a valid JSON Schema").await;

    let mut def = summarize();
    def["output_schema"] = json!({"type": "object", "required": "summary"});
    refused(def, "output_schema", "not a valid JSON Schema").await;

    let mut def = greet();
    def["parameters"] = json!({"type": "string"});
    refused(def, "parameters", "\"object\"").await;
}

#[tokio::test]
async fn built_in_and_malformed_names_are_refused() {
    for name in ["define", "list", "remove", "get"] {
        let mut def = greet();
        def["name"] = json!(name);
        refused(def, "name", "built-in").await;
    }
    let mut def = greet();
    def["name"] = json!("Not Valid");
    refused(def, "name", "lowercase").await;
}

#[tokio::test]
async fn a_missing_field_is_named() {
    let mut def = greet();
    def.as_object_mut().expect("object").remove("model");
    let h = Harness::new(&[]).await;
    let err = h.call("define", def).await.expect_err("refused");
    assert_eq!(err.kind(), &ErrorKind::InvalidRequest);
    assert!(err.message().contains("model"), "{err}");
}

#[tokio::test]
async fn limits_apply() {
    let config = FunctionsConfig {
        max_functions: 1,
        max_template_bytes: 32,
        ..FunctionsConfig::default()
    };
    let h = Harness::on_store(MemoryStore::default(), &[], config).await;
    let mut long = greet();
    long["template"] = json!(format!("{} {{{{who}}}}", "x".repeat(40)));
    let err = h.call("define", long).await.expect_err("too long");
    assert_eq!(err.param(), Some("template"), "{err}");

    h.call("define", greet()).await.expect("the first fits");
    let mut second = greet();
    second["name"] = json!("greet-2");
    let err = h.call("define", second).await.expect_err("too many");
    assert!(err.message().contains("max_functions"), "{err}");
    h.call("define", greet())
        .await
        .expect("replacing is not adding");
}

#[tokio::test]
async fn remove_then_everything_is_404() {
    let h = Harness::new(&["unused"]).await;
    h.call("define", greet()).await.expect("defined");
    let removed = h
        .call("remove", json!({"name": "greet"}))
        .await
        .expect("removed");
    assert_eq!(removed, json!({"removed": "greet"}));
    assert!(!h.method_names().contains(&"greet".to_owned()));
    for (method, args) in [
        ("remove", json!({"name": "greet"})),
        ("get", json!({"name": "greet"})),
        ("greet", json!({"who": "Ada"})),
    ] {
        let err = h.call(method, args).await.expect_err("gone");
        assert_eq!(err.kind(), &ErrorKind::NotFound, "{method}: {err}");
        assert!(err.message().contains("greet"), "{err}");
    }
    assert!(h.gateway.requests().is_empty(), "no request was routed");
}

#[tokio::test]
async fn admin_only_define_guards_define_and_remove() {
    let config = FunctionsConfig {
        admin_only_define: true,
        ..FunctionsConfig::default()
    };
    let h = Harness::on_store(MemoryStore::default(), &[], config).await;
    let methods = h.functions_methods();
    let admin = |name: &str| methods.iter().any(|m| m.name == name && m.admin);
    assert!(admin("define") && admin("remove"));
    assert!(!admin("list") && !admin("get"));

    let err = h.call("define", greet()).await.expect_err("not admin");
    assert_eq!(err.kind(), &ErrorKind::Permission);
    h.call_as("define", greet(), true)
        .await
        .expect("the admin may");
    let err = h
        .call("remove", json!({"name": "greet"}))
        .await
        .expect_err("not admin");
    assert_eq!(err.kind(), &ErrorKind::Permission);
    h.call_as("remove", json!({"name": "greet"}), true)
        .await
        .expect("the admin may");

    let open = Harness::new(&[]).await;
    assert!(open.functions_methods().iter().all(|m| !m.admin));
}
