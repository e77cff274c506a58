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

diesel::table! {
    principals (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        area_codes -> Text,
        enterprise_id -> Nullable<Text>,
        read_only -> Bool,
        disabled -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        review_org_id -> Nullable<Text>,
        review_org_name -> Nullable<Text>,
    }
}

diesel::table! {
    tokens (id) {
        id -> Text,
        principal_id -> Text,
        secret_hash -> Text,
        hint -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    events (seq) {
        seq -> BigInt,
        event_type -> Text,
        occurred_at -> Timestamp,
        actor_principal_id -> Nullable<Text>,
        actor_role -> Nullable<Text>,
        request_id -> Nullable<Text>,
        resource_type -> Text,
        resource_id -> Text,
        area_code -> Nullable<Text>,
        enterprise_id -> Nullable<Text>,
        data -> Text,
        reason -> Nullable<Text>,
        prev_hash -> Nullable<Text>,
        hash -> Nullable<Text>,
    }
}

diesel::table! {
    attainment_counts (area_code, sector, status, grade, expiring, stripe) {
        area_code -> Text,
        sector -> Text,
        status -> Text,
        grade -> Text,
        expiring -> Bool,
        stripe -> Integer,
        n -> BigInt,
    }
}

diesel::table! {
    attainment_anchor (id) {
        id -> Integer,
        day -> Date,
        window_end -> Date,
    }
}

diesel::table! {
    credit_codes (credit_code) {
        credit_code -> Text,
        enterprise_id -> Text,
        area_code -> Text,
    }
}

diesel::table! {
    event_chains (chain) {
        chain -> Text,
        last_seq -> BigInt,
        last_hash -> Text,
        length -> BigInt,
    }
}

diesel::joinable!(tokens -> principals (principal_id));

diesel::table! {
    certificates (id) {
        id -> Text,
        enterprise_id -> Text,
        regime -> Text,
        grade -> Text,
        number -> Text,
        authority_level -> Text,
        authority_name -> Text,
        issued_on -> Date,
        valid_until -> Date,
        standard -> Text,
        revoked_on -> Nullable<Date>,
        revocation_trigger -> Nullable<Text>,
        revocation_legal_basis -> Nullable<Text>,
        revocation_reason -> Nullable<Text>,
        superseded_by -> Nullable<Text>,
        superseded_on -> Nullable<Date>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        rules_version -> Text,
        revocation_rules_version -> Nullable<Text>,
        area_code -> Text,
    }
}

diesel::joinable!(certificates -> enterprises (enterprise_id));

diesel::table! {
    accidents (id) {
        id -> Text,
        enterprise_id -> Text,
        occurred_on -> Date,
        kind -> Text,
        deaths -> Integer,
        seriously_injured -> Integer,
        direct_loss_cny -> BigInt,
        concealed -> Bool,
        source -> Nullable<Text>,
        created_at -> Timestamp,
        rules_version -> Text,
        area_code -> Text,
    }
}

diesel::joinable!(accidents -> enterprises (enterprise_id));

diesel::table! {
    grade_summaries (enterprise_id) {
        enterprise_id -> Text,
        current_certificate_id -> Nullable<Text>,
        current_grade -> Nullable<Text>,
        grade_valid_until -> Nullable<Date>,
        restart_required -> Bool,
        creating -> Bool,
        revoked_on -> Nullable<Date>,
        area_code -> Text,
        sector -> Text,
        current_number -> Nullable<Text>,
        current_issued_on -> Nullable<Date>,
    }
}

diesel::joinable!(grade_summaries -> enterprises (enterprise_id));

diesel::allow_columns_to_appear_in_same_group_by_clause!(
    enterprises::area_code,
    enterprises::sector,
    certificates::grade,
);

diesel::table! {
    drives (enterprise_id) {
        enterprise_id -> Text,
        supervision_focus -> Bool,
        focus_reason -> Nullable<Text>,
        focus_since -> Nullable<Date>,
        creation_stage -> Text,
        stage_since -> Nullable<Date>,
        model_enterprise -> Bool,
        model_note -> Nullable<Text>,
        upgrade_target_grade -> Nullable<Text>,
        upgrade_target_year -> Nullable<Integer>,
        version -> BigInt,
        updated_at -> Timestamp,
        area_code -> Text,
    }
}

diesel::table! {
    guidance_visits (id) {
        id -> Text,
        enterprise_id -> Text,
        visited_on -> Date,
        visitor -> Text,
        findings -> Text,
        follow_up_on -> Nullable<Date>,
        created_at -> Timestamp,
        area_code -> Text,
    }
}

diesel::joinable!(drives -> enterprises (enterprise_id));
diesel::joinable!(guidance_visits -> enterprises (enterprise_id));

diesel::table! {
    calendar_years (year) {
        year -> Integer,
        origin -> Text,
        source -> Nullable<Text>,
        version -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    calendar_days (year, date) {
        year -> Integer,
        date -> Date,
        kind -> Text,
        name -> Text,
    }
}

diesel::joinable!(calendar_days -> calendar_years (year));

diesel::table! {
    standards (id) {
        id -> Text,
        code -> Text,
        version -> Text,
        title -> Text,
        full_points -> Integer,
        item_count -> Integer,
        tree -> Text,
        builtin -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    assessments (id) {
        id -> Text,
        enterprise_id -> Text,
        standard_id -> Text,
        kind -> Text,
        state -> Text,
        assessors -> Nullable<Text>,
        results -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        submitted_on -> Nullable<Date>,
        grading_id -> Nullable<Text>,
        area_code -> Text,
    }
}

diesel::joinable!(assessments -> enterprises (enterprise_id));

diesel::table! {
    gradings (id) {
        id -> Text,
        enterprise_id -> Text,
        kind -> Text,
        grade -> Text,
        self_assessment_id -> Text,
        state -> Text,
        since -> Date,
        applied_on -> Date,
        corrected -> Bool,
        extended_by -> Nullable<Integer>,
        false_commitment -> Bool,
        certificate_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        review_org_id -> Nullable<Text>,
        review_org_name -> Nullable<Text>,
        review_assessment_id -> Nullable<Text>,
        area_code -> Text,
    }
}

diesel::table! {
    grading_steps (grading_id, seq) {
        grading_id -> Text,
        seq -> Integer,
        step -> Text,
        taken_on -> Date,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        area_code -> Text,
    }
}

diesel::joinable!(gradings -> enterprises (enterprise_id));

diesel::table! {
    hazards (id) {
        id -> Text,
        enterprise_id -> Text,
        found_on -> Date,
        found_by -> Text,
        source -> Text,
        hazard_type -> Text,
        management_class -> Text,
        description -> Text,
        cause -> Nullable<Text>,
        location -> Nullable<Text>,
        grade -> Text,
        criterion -> Nullable<Text>,
        criteria_version -> Nullable<Text>,
        major_reason -> Nullable<Text>,
        state -> Text,
        deadline -> Nullable<Date>,
        listed -> Bool,
        progress -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        risk_id -> Nullable<Text>,
        measure_id -> Nullable<Text>,
        record_id -> Nullable<Text>,
        closed_on -> Nullable<Date>,
        area_code -> Text,
    }
}

diesel::joinable!(hazards -> enterprises (enterprise_id));

diesel::table! {
    risk_units (id) {
        id -> Text,
        enterprise_id -> Text,
        kind -> Text,
        name -> Text,
        location -> Nullable<Text>,
        department -> Text,
        responsible -> Text,
        control_level -> Text,
        installation -> Nullable<Text>,
        stops -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        area_code -> Text,
    }
}

diesel::table! {
    risks (id) {
        id -> Text,
        unit_id -> Text,
        enterprise_id -> Text,
        name -> Text,
        accident_kinds -> Text,
        inherent_level -> Text,
        residual_level -> Nullable<Text>,
        assessment -> Text,
        criterion -> Nullable<Text>,
        criteria_version -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        area_code -> Text,
    }
}

diesel::table! {
    risk_measures (id) {
        id -> Text,
        risk_id -> Text,
        enterprise_id -> Text,
        description -> Text,
        mode -> Text,
        class -> Text,
        subclass -> Nullable<Text>,
        check_content -> Nullable<Text>,
        owner -> Text,
        created_at -> Timestamp,
        area_code -> Text,
    }
}

diesel::joinable!(risk_units -> enterprises (enterprise_id));
diesel::joinable!(risks -> enterprises (enterprise_id));
diesel::joinable!(risk_measures -> enterprises (enterprise_id));

diesel::table! {
    inspection_tasks (id) {
        id -> Text,
        enterprise_id -> Text,
        unit_id -> Text,
        measure_id -> Nullable<Text>,
        content -> Text,
        every -> Integer,
        cycle_unit -> Text,
        day_type -> Text,
        window_start -> Nullable<Text>,
        window_end -> Nullable<Text>,
        task_type -> Text,
        item_no -> Nullable<Integer>,
        assignee -> Text,
        starts_on -> Date,
        ends_on -> Nullable<Date>,
        version -> BigInt,
        created_at -> Timestamp,
        area_code -> Text,
    }
}

diesel::table! {
    inspection_records (id) {
        id -> Text,
        task_id -> Text,
        enterprise_id -> Text,
        performed_at -> Timestamp,
        performed_by -> Text,
        result -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        area_code -> Text,
    }
}

diesel::joinable!(inspection_tasks -> enterprises (enterprise_id));
diesel::joinable!(inspection_records -> enterprises (enterprise_id));

diesel::table! {
    checklists (id) {
        id -> Text,
        checklist_type -> Text,
        owner_scope -> Text,
        enterprise_id -> Nullable<Text>,
        area_code -> Text,
        title -> Text,
        owner -> Text,
        items -> Text,
        version -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    checklist_records (id) {
        id -> Text,
        checklist_id -> Text,
        item_code -> Text,
        performed_on -> Date,
        performed_by -> Text,
        note -> Nullable<Text>,
        created_at -> Timestamp,
        area_code -> Text,
    }
}

diesel::table! {
    hazard_month_counts (area_code, sector, grade, month) {
        area_code -> Text,
        sector -> Text,
        grade -> Text,
        month -> Date,
        found -> BigInt,
        closed -> BigInt,
        overdue_from -> BigInt,
        overdue_to -> BigInt,
    }
}

diesel::table! {
    risk_level_counts (area_code, sector, level) {
        area_code -> Text,
        sector -> Text,
        level -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        state -> Text,
        subject -> Nullable<Text>,
        principal_id -> Nullable<Text>,
        params -> Text,
        progress_done -> BigInt,
        progress_total -> BigInt,
        checkpoint -> Nullable<Text>,
        report -> Nullable<Text>,
        attempts -> Integer,
        run_after -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    job_inputs (job_id) {
        job_id -> Text,
        bytes -> Binary,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        principal_id -> Text,
        url -> Text,
        event_types -> Text,
        description -> Nullable<Text>,
        secret -> Text,
        enabled -> Bool,
        status -> Text,
        cursor -> BigInt,
        failing_since -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        position -> Text,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event_seq -> BigInt,
        attempt -> Integer,
        manual -> Bool,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        latency_ms -> BigInt,
        succeeded -> Bool,
        error -> Nullable<Text>,
    }
}

// Any two tables may meet in one query (joins, and the subqueries of a review
// organisation's jurisdiction, which name `gradings` inside queries of other tables).
diesel::allow_tables_to_appear_in_same_query!(
    areas,
    reference_versions,
    enterprises,
    idempotency_keys,
    principals,
    tokens,
    events,
    event_chains,
    attainment_counts,
    attainment_anchor,
    certificates,
    accidents,
    grade_summaries,
    drives,
    guidance_visits,
    calendar_years,
    calendar_days,
    standards,
    assessments,
    gradings,
    grading_steps,
    hazards,
    risk_units,
    risks,
    risk_measures,
    inspection_tasks,
    inspection_records,
    checklists,
    checklist_records,
    hazard_month_counts,
    risk_level_counts,
    jobs,
    job_inputs,
    webhooks,
    webhook_deliveries,
);
