//! Diesel table definitions, kept by hand; `tests/api/schema.rs` round-trips every table on
//! both backends so a drift from the migrations fails a test.
#![expect(missing_docs, reason = "diesel::table! generates undocumented items")]

diesel::table! {
    areas (code) {
        code -> Text,
        name_zh -> Text,
        kind -> Text,
        gb2260_code -> Nullable<Text>,
        parent_code -> Nullable<Text>,
        sort_order -> Integer,
    }
}

diesel::table! {
    reference_versions (name) {
        name -> Text,
        version -> Text,
    }
}

diesel::table! {
    enterprises (id) {
        id -> Text,
        credit_code -> Text,
        name -> Text,
        area_code -> Text,
        address -> Nullable<Text>,
        industry_code -> Text,
        sector -> Text,
        mine_kind -> Nullable<Text>,
        scale -> Text,
        ownership -> Text,
        operating_status -> Text,
        principal_name -> Text,
        principal_phone -> Nullable<Text>,
        safety_manager_name -> Nullable<Text>,
        safety_manager_phone -> Nullable<Text>,
        employees -> Nullable<Integer>,
        latitude -> Nullable<Double>,
        longitude -> Nullable<Double>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (scope, key) {
        scope -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        location -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(enterprises -> areas (area_code));
diesel::allow_tables_to_appear_in_same_query!(areas, enterprises);
