//! API and storage tests. Each `both!` test runs once on SQLite and once on PostgreSQL (when
//! `TEST_DATABASE_URL` is set; required with `CI=true`).

/// Writes `mod <name> { sqlite, postgres }` test functions that call `<name>(db)`.
macro_rules! both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                super::$name(safegrade_testkit::TestDb::sqlite()).await;
            }

            #[actix_web::test]
            async fn postgres() {
                if let Some(db) = safegrade_testkit::TestDb::postgres() {
                    super::$name(db).await;
                }
            }
        }
    )+};
}

mod enterprises;
mod errors;
mod openapi;
mod redact;
mod reference;
mod schema;
