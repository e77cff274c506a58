//! The committed contract (`api/openapi.json`) is what the code generates, and it documents
//! what integrators rely on.

use serde_json::Value;

const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/api/openapi.json");

#[test]
fn committed_spec_matches_the_code() {
    let generated = safegrade_http::openapi_json();
    let committed = std::fs::read_to_string(SPEC_PATH).unwrap_or_default();
    assert!(
        committed == generated,
        "api/openapi.json is stale: run `cargo run -p safegrade -- openapi --book book/src/api > api/openapi.json`"
    );
}

#[test]
fn every_operation_is_documented_with_problems() {
    let spec: Value = serde_json::from_str(&safegrade_http::openapi_json()).unwrap_or_default();
    assert_eq!(spec["openapi"], "3.1.0");
    let mut ids = Vec::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "{method} {path} has no operationId");
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{id} has no tag"
            );
            assert!(
                op["description"]
                    .as_str()
                    .or(op["summary"].as_str())
                    .is_some_and(|d| !d.is_empty()),
                "{id} has no description"
            );
            let responses = op["responses"].as_object().cloned().unwrap_or_default();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{id} has no success response"
            );
            assert!(responses.contains_key("500"), "{id} does not document 500");
            for (status, r) in responses
                .iter()
                .filter(|(s, _)| s.starts_with('4') || s.starts_with('5'))
            {
                assert!(
                    r["content"]["application/problem+json"]["schema"]["$ref"]
                        == "#/components/schemas/Problem",
                    "{id} {status} is not a problem"
                );
            }
            ids.push(id.to_owned());
        }
    }
    for id in [
        "create_enterprise",
        "get_enterprise",
        "update_enterprise",
        "list_enterprises",
        "list_areas",
        "list_reference_lists",
        "list_reference",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} missing");
    }
    let codes = &spec["components"]["schemas"]["ErrorCode"]["x-extensible-enum"];
    assert!(
        codes
            .as_array()
            .is_some_and(|c| c.iter().any(|v| v == "duplicate_credit_code")),
        "ErrorCode values are published"
    );
}

/// The lists that grow within `/api/v1` are published open (`x-extensible-enum`, no `enum`),
/// so a generated client accepts a value added later; the fixed ones stay closed.
#[test]
fn growing_lists_are_open_and_fixed_lists_closed() {
    let spec: Value = serde_json::from_str(&safegrade_http::openapi_json()).unwrap_or_default();
    let schemas = &spec["components"]["schemas"];
    for name in safegrade_http::OPEN_LISTS {
        assert!(schemas[name].get("enum").is_none(), "{name} is closed");
        assert!(
            schemas[name]["x-extensible-enum"]
                .as_array()
                .is_some_and(|v| !v.is_empty()),
            "{name} publishes no values"
        );
    }
    for name in ["AlertKind", "EventType", "ErrorCode"] {
        assert!(
            safegrade_http::OPEN_LISTS.contains(&name),
            "{name} grows with the API and must be open"
        );
    }
    for name in ["Grade", "Sector", "Role"] {
        assert!(schemas[name]["enum"].is_array(), "{name} is a fixed list");
    }
}

#[test]
fn schema_limits_match_the_domain() {
    use safegrade_domain::limits;
    let spec: Value = serde_json::from_str(&safegrade_http::openapi_json()).unwrap_or_default();
    for schema in ["EnterpriseCreate", "EnterprisePatch"] {
        let props = &spec["components"]["schemas"][schema]["properties"];
        let max = |field: &str| props[field]["maxLength"].as_u64().unwrap_or(0);
        let n = |v: usize| u64::try_from(v).unwrap_or(0);
        assert_eq!(max("name"), n(limits::NAME), "{schema}.name");
        assert_eq!(max("address"), n(limits::ADDRESS), "{schema}.address");
        assert_eq!(
            max("principal_name"),
            n(limits::PERSON),
            "{schema}.principal_name"
        );
        assert_eq!(
            max("safety_manager_name"),
            n(limits::PERSON),
            "{schema}.safety_manager_name"
        );
        assert_eq!(
            props["employees"]["maximum"].as_i64(),
            Some(limits::EMPLOYEES),
            "{schema}.employees"
        );
        assert_eq!(
            props["latitude"]["minimum"].as_f64(),
            Some(limits::LATITUDE.0),
            "{schema}.latitude"
        );
        assert_eq!(
            props["latitude"]["maximum"].as_f64(),
            Some(limits::LATITUDE.1),
            "{schema}.latitude"
        );
        assert_eq!(
            props["longitude"]["minimum"].as_f64(),
            Some(limits::LONGITUDE.0),
            "{schema}.longitude"
        );
        assert_eq!(
            props["longitude"]["maximum"].as_f64(),
            Some(limits::LONGITUDE.1),
            "{schema}.longitude"
        );
    }
}

#[test]
fn every_event_type_has_a_payload_schema() {
    use safegrade_domain::{CodeList, EventType};
    let spec: Value = serde_json::from_str(&safegrade_http::openapi_json()).unwrap_or_default();
    let data = &spec["components"]["schemas"]["EventData"];
    assert_eq!(data["discriminator"]["propertyName"], "type");
    let mapped: Vec<&str> = data["discriminator"]["mapping"]
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut mapped = mapped;
    mapped.sort_unstable();
    let mut types: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    types.sort_unstable();
    assert_eq!(mapped, types, "one payload schema per event type");
    for reference in data["discriminator"]["mapping"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(_, r)| r.as_str())
    {
        let schema = spec.pointer(&reference.replacen('#', "", 1));
        assert!(
            schema.is_some_and(|s| s["properties"]["data"].is_object()),
            "{reference}"
        );
    }
}

#[test]
fn every_list_has_the_one_list_shape() {
    let spec: Value = serde_json::from_str(&safegrade_http::openapi_json()).unwrap_or_default();
    let mut bare = Vec::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
            if schema["type"] == "array" {
                bare.push(format!("{method} {path}"));
            }
        }
    }
    assert!(
        bare.is_empty(),
        "bare arrays instead of {{items, next_cursor}}: {bare:?}"
    );
    let page = |name: &str| spec["components"]["schemas"][name]["required"].clone();
    let events = page("EventPage");
    assert!(
        events.as_array().is_some_and(
            |r| r.contains(&Value::from("items")) && r.contains(&Value::from("next_cursor"))
        ),
        "the feed has the list shape too: {events}"
    );
}
