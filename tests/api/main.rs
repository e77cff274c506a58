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

mod access;
mod assessments;
mod audit;
mod bulk;
mod calendar;
mod certificates;
mod checklists;
mod conventions;
mod counters;
mod defects;
mod enterprises;
mod errors;
mod examples;
mod exports;
mod gradings;
mod hazards;
mod imports;
mod inspections;
mod openapi;
mod operations;
mod redact;
mod reference;
mod replica;
mod risks;
mod schema;
mod standards;
mod status;
mod transport;
mod webhooks;

/// Runs futures concurrently on the current (actix) runtime.
pub async fn futures_join_all<F: std::future::Future + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: 'static,
{
    let handles: Vec<_> = futures.map(actix_web::rt::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        if let Ok(v) = h.await {
            out.push(v);
        }
    }
    out
}
