//! Test support for SafeGrade (dev-only): a fresh database per test on SQLite (always) and
//! PostgreSQL (when `TEST_DATABASE_URL` is set; with `CI=true` its absence is a failure),
//! and the in-process application over it.
//!
//! Entry points: [`TestDb::sqlite`], [`TestDb::postgres`], [`test_app`] (with a city
//! administrator's token), [`principal`] (a principal of any role and its token), [`send`],
//! [`send_as`], [`json_request`].

use std::sync::Mutex;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::TestRequest;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use safegrade_domain::{Actor, PrincipalId, PrincipalInput, SectorMapping};
use safegrade_http::{AppState, app};
use safegrade_store::{DbUrl, PoolConfig, Store};

/// The variable naming the PostgreSQL server for tests (`postgres://postgres@127.0.0.1:5432/postgres`).
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// Which backend a test database is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A temp-file SQLite database.
    Sqlite,
    /// A database created on the test PostgreSQL server.
    Postgres,
}

/// A migrated, seeded database of its own for one test, removed on drop.
pub struct TestDb {
    /// The open store.
    pub store: Store,
    /// Its URL.
    pub url: String,
    /// The backend.
    pub kind: Kind,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

fn open(url: &str) -> Store {
    let parsed = DbUrl::parse(url).unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(
        &parsed,
        &PoolConfig {
            size: 4,
            ..PoolConfig::default()
        },
    )
    .unwrap_or_else(|e| panic!("open {url}: {e}"));
    store
        .migrate()
        .unwrap_or_else(|e| panic!("migrate {url}: {e:?}"));
    store
        .sync_reference_data(SectorMapping::builtin())
        .unwrap_or_else(|e| panic!("seed {url}: {e:?}"));
    store
}

/// Replaces the database name in a PostgreSQL URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

static TEMPLATE: Mutex<Option<String>> = Mutex::new(None);

/// Name of the migrated template database: one per set of migrations, shared by every test
/// run on this server (created once, atomically by rename).
fn template(admin_url: &str) -> String {
    let mut guard = TEMPLATE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(name) = &*guard {
        return name.clone();
    }
    // The template is named after a hash of the PostgreSQL migrations and the reference
    // data, so a change to either makes a new one.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/migrations/postgres");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .flat_map(|d| {
            std::fs::read_dir(d.path())
                .into_iter()
                .flatten()
                .flatten()
                .map(|f| f.path())
        })
        .collect();
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash = (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for f in &files {
        // The path inside the migrations folder, not the checkout's location.
        feed(
            f.strip_prefix(&dir)
                .unwrap_or(f)
                .to_string_lossy()
                .as_bytes(),
        );
        feed(&std::fs::read(f).unwrap_or_default());
    }
    feed(include_str!("../../domain/data/sector-mapping.csv").as_bytes());
    feed(include_str!("../../domain/data/cn-holidays.csv").as_bytes());
    for standard in safegrade_domain::standards::BUILTIN {
        feed(standard.as_bytes());
    }
    let name = format!("sg_template_{hash:016x}");
    let mut admin =
        PgConnection::establish(admin_url).unwrap_or_else(|e| panic!("{admin_url}: {e}"));
    let exists = diesel::sql_query(format!(
        "SELECT 1 FROM pg_database WHERE datname = '{name}'"
    ))
    .execute(&mut admin)
    .unwrap_or(0)
        > 0;
    if !exists {
        let tmp = format!("sg_tmp_{}", uuid::Uuid::now_v7().simple());
        admin
            .batch_execute(&format!("CREATE DATABASE {tmp}"))
            .unwrap_or_else(|e| panic!("{e}"));
        drop(open(&with_database(admin_url, &tmp)));
        if admin
            .batch_execute(&format!("ALTER DATABASE {tmp} RENAME TO {name}"))
            .is_err()
        {
            // Another process made it first.
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {tmp} WITH (FORCE)"));
        }
    }
    *guard = Some(name.clone());
    name
}

use diesel::RunQueryDsl;

impl TestDb {
    /// A fresh SQLite database in a temp folder.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        Self {
            store: open(&url),
            url,
            kind: Kind::Sqlite,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh PostgreSQL database cloned from the migrated template, or `None` when
    /// `TEST_DATABASE_URL` is unset outside CI. Panics in CI when PostgreSQL is missing.
    pub fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var(TEST_DATABASE_URL) else {
            assert!(
                !is_ci(),
                "CI=true but {TEST_DATABASE_URL} is not set: PostgreSQL tests must run in CI"
            );
            eprintln!("skipping the PostgreSQL variant: {TEST_DATABASE_URL} is not set");
            return None;
        };
        let template = template(&admin_url);
        let name = format!("sg_test_{}", uuid::Uuid::now_v7().simple());
        {
            // Cloning needs the template free of other sessions: one clone at a time.
            static CLONE: Mutex<()> = Mutex::new(());
            let _guard = CLONE.lock().unwrap_or_else(|e| e.into_inner());
            let mut admin =
                PgConnection::establish(&admin_url).unwrap_or_else(|e| panic!("{admin_url}: {e}"));
            let mut attempt = 0;
            loop {
                match admin.batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}")) {
                    Ok(()) => break,
                    Err(e) if attempt < 50 => {
                        // Another test process may be cloning the same template right now.
                        attempt += 1;
                        let _ = e;
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                    Err(e) => panic!("create {name}: {e}"),
                }
            }
        }
        let url = with_database(&admin_url, &name);
        let store = open(&url);
        Some(Self {
            store,
            url,
            kind: Kind::Postgres,
            _dir: None,
            pg: Some((admin_url, name)),
        })
    }
}

impl TestDb {
    /// Another store on the same database, as a second API node has (its own pools and
    /// writer threads).
    pub fn second_node(&self) -> Store {
        open(&self.url)
    }

    /// Cuts every server-side connection to this PostgreSQL database, as a server restart
    /// would (no-op on SQLite). The store's pooled connections are then dead.
    pub fn cut_connections(&self) {
        if let Some((admin_url, name)) = &self.pg {
            let mut admin = PgConnection::establish(admin_url).unwrap_or_else(|e| panic!("{e}"));
            admin
                .batch_execute(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                ))
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// The application in process, with a city administrator's token that [`send`] uses unless
/// the request carries its own `Authorization`.
pub struct TestApp<S> {
    /// The actix service.
    pub service: S,
    /// The store under it.
    pub store: Store,
    /// A `city_admin` token.
    pub admin_token: String,
}

/// The whole application over a store (`db.store.clone()`), in process, with a fresh city
/// administrator (default token cache).
pub async fn test_app(
    store: Store,
) -> TestApp<
    impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
> {
    test_app_from(AppState::new(store)).await
}

/// [`test_app`] whose "today" is pinned to `today` (as `SAFEGRADE_TODAY` does).
pub async fn test_app_at(
    store: Store,
    today: chrono::NaiveDate,
) -> TestApp<
    impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
> {
    let mut state = AppState::new(store);
    state.pinned_today = Some(today);
    test_app_from(state).await
}

/// [`test_app`] whose token checks are cached for `ttl`: a second app on the same store
/// stands for a second API node.
pub async fn test_app_with_cache(
    store: Store,
    ttl: std::time::Duration,
) -> TestApp<
    impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
> {
    test_app_from(AppState::with_auth_cache(store, ttl)).await
}

/// The application over a prepared state (a pinned today, a small rate limit, ...), with a
/// fresh city administrator.
pub async fn test_app_from(
    state: AppState,
) -> TestApp<
    impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    >,
> {
    let store = state.store.clone();
    let (_, admin_token) = principal(
        &store,
        serde_json::json!({"name": "测试管理员", "role": "city_admin"}),
    );
    let service = actix_web::test::init_service(app(state)).await;
    TestApp {
        service,
        store,
        admin_token,
    }
}

/// Verifies every audit chain of `store` from the first event, fails the test at a break,
/// and returns what was verified.
pub fn verified_chains(store: &Store) -> safegrade_store::events::chain::Verification {
    let verified = store.verify_chain(1).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(verified.first_break, None, "the audit chains are intact");
    verified
}

#[derive(diesel::QueryableByName)]
struct Agreement {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    rows: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    differ: i64,
}

/// Checks that every row of the area-owned tables (`ledger::area_owned::AREA_OWNED`) carries
/// its owner's supervision area (the enterprise's; a grading step its application's, a
/// checklist record its checklist's), fails the test naming the tables that differ, and
/// returns how many rows were checked.
pub fn area_copies_agree(store: &Store) -> i64 {
    use diesel::RunQueryDsl;
    let mut conn = store.read().unwrap_or_else(|e| panic!("{e}"));
    let mut checked = 0;
    let mut wrong = Vec::new();
    for table in safegrade_store::ledger::area_owned::AREA_OWNED {
        let owner = match table {
            "grading_steps" => "gradings o ON o.id = t.grading_id",
            "checklist_records" => "checklists o ON o.id = t.checklist_id",
            // An area's own checklists have no enterprise (the inner join leaves them out).
            _ => "enterprises o ON o.id = t.enterprise_id",
        };
        let found: Agreement = diesel::sql_query(format!(
            "SELECT COUNT(*) AS rows, \
             COALESCE(SUM(CASE WHEN t.area_code = o.area_code THEN 0 ELSE 1 END), 0) AS differ \
             FROM {table} t JOIN {owner}"
        ))
        .get_result(&mut conn)
        .unwrap_or_else(|e| panic!("{table}: {e}"));
        checked += found.rows;
        if found.differ > 0 {
            wrong.push(format!("{table}: {} of {}", found.differ, found.rows));
        }
    }
    assert!(
        wrong.is_empty(),
        "rows with another area than their owner's: {wrong:?}"
    );
    checked
}

/// Creates a principal from a JSON description (`name`, `role`, `area_codes`,
/// `enterprise_id`, `read_only`, `review_organisation`) straight in the store, and issues a token for it. Panics
/// if the description is invalid.
pub fn principal(store: &Store, spec: serde_json::Value) -> (PrincipalId, String) {
    let text = |k: &str| spec.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let input = PrincipalInput {
        name: text("name"),
        role: text("role"),
        area_codes: spec.get("area_codes").and_then(|v| v.as_array()).map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        }),
        enterprise_id: text("enterprise_id"),
        read_only: spec.get("read_only").and_then(serde_json::Value::as_bool),
        review_organisation: spec.get("review_organisation").map(|o| {
            let member = |k: &str| o.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            (member("id"), member("name"))
        }),
        disabled: None,
    };
    let data = input.validate().unwrap_or_else(|e| panic!("{spec}: {e:?}"));
    let actor = Actor::command_line();
    let p = store
        .create_principal(&data, &actor)
        .unwrap_or_else(|e| panic!("create principal: {e:?}"));
    let token = store
        .issue_token(p.id, None, &actor)
        .unwrap_or_else(|e| panic!("issue token: {e:?}"));
    (p.id, token.secret)
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body as JSON (`Null` when empty or not JSON; a `text/*` answer as one string).
    pub body: serde_json::Value,
    /// The body's bytes (a file an export or a template sends).
    pub raw: actix_web::web::Bytes,
}

impl Reply {
    /// A header as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// Sends a request as the app's city administrator (unless it has its own `Authorization`)
/// and reads the whole response.
pub async fn send<S, B>(app: &TestApp<S>, req: TestRequest) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut req = req.to_request();
    if !req.headers().contains_key("authorization") {
        let value = format!("Bearer {}", app.admin_token);
        if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&value) {
            req.headers_mut()
                .insert(actix_web::http::header::AUTHORIZATION, v);
        }
    }
    send_raw(&app.service, req).await
}

/// Sends a request with `token` (`None`: without any `Authorization`).
pub async fn send_as<S, B>(app: &TestApp<S>, token: Option<&str>, req: TestRequest) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = match token {
        Some(t) => req.insert_header(("authorization", format!("Bearer {t}"))),
        None => req,
    };
    send_raw(&app.service, req.to_request()).await
}

/// Sends a request exactly as given and reads the whole response.
pub async fn send_raw<S, B>(service: &S, req: actix_http::Request) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = actix_web::test::call_service(service, req).await;
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = actix_web::test::read_body(res).await;
    let content_type = headers
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let text = content_type.starts_with("text/");
    let body = match serde_json::from_slice(&bytes) {
        // Newline-delimited JSON (the audit chain's export) as an array of its lines.
        _ if content_type == "application/x-ndjson" => String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(serde_json::Value::Null))
            .collect(),
        Ok(v) => v,
        // A text answer (CSV) as one string.
        Err(_) if text => serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        Err(_) => serde_json::Value::Null,
    };
    Reply {
        status,
        headers,
        body,
        raw: bytes,
    }
}

/// A request with a JSON body.
pub fn json_request(
    method: actix_web::http::Method,
    uri: &str,
    body: &serde_json::Value,
) -> TestRequest {
    TestRequest::default()
        .method(method)
        .uri(uri)
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_string())
}

/// A valid enterprise body with the given credit code; change fields with `json!` merges.
pub fn enterprise_body(credit_code: &str) -> serde_json::Value {
    serde_json::json!({
        "credit_code": credit_code,
        "name": "绵阳市示例建材有限公司",
        "area_code": "510703",
        "address": "绵阳市涪城区示例路1号",
        "industry_code": "C3011",
        "scale": "small",
        "ownership": "other",
        "operating_status": "operating",
        "principal_name": "张三",
        "principal_phone": "13800000000",
        "safety_manager_name": "李四",
        "safety_manager_phone": "0816-2345678",
        "employees": 120,
        "latitude": 31.4675,
        "longitude": 104.6796
    })
}

/// Registers the enterprise with the `n`-th test credit code through the API and returns the
/// answer and the record's URI. Panics unless it was created.
pub async fn post_enterprise<S, B>(app: &TestApp<S>, n: u32) -> (Reply, String)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = json_request(
        actix_web::http::Method::POST,
        "/api/v1/enterprises",
        &enterprise_body(&credit_code(n)),
    );
    let reply = send(app, req).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let uri = format!(
        "/api/v1/enterprises/{}",
        reply.body["id"].as_str().unwrap_or_default()
    );
    (reply, uri)
}

/// The `n`-th valid synthetic credit code of a test (region 510703).
pub fn credit_code(n: u32) -> String {
    let first17 = format!("91510703{n:09}");
    let check = safegrade_domain::credit::check_character(&first17).unwrap_or('0');
    format!("{first17}{check}")
}
