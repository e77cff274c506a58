//! Statements written as query types of their own, for the hottest PostgreSQL statements of
//! a write: diesel caches a query type whose SQL text depends on nothing but the type, and
//! prepares it once per connection. A `sql_query`, an upsert or a multi-row insert is
//! parsed and planned by PostgreSQL on every call instead (measured under the create
//! load: most of the database's work per write, docs/BENCHMARKS.md). Rows travel as one
//! array per column (`unnest`), so one text serves any number of rows.

/// Marks `$t` (a `QueryFragment` whose SQL is fixed by its type) as cached by type, and
/// runnable with `execute` and `load`; generic parameters go in brackets first:
/// `cached_by_type!([const SHARED: bool] Take<SHARED>)`.
macro_rules! cached_by_type {
    ([$($generics:tt)*] $t:ty) => {
        impl<$($generics)*> diesel::query_builder::QueryId for $t {
            type QueryId = Self;
            const HAS_STATIC_QUERY_ID: bool = true;
        }
        impl<Conn, $($generics)*> diesel::RunQueryDsl<Conn> for $t {}
    };
    ($t:ty) => {
        $crate::plumbing::prepared::cached_by_type!([] $t);
    };
}

pub(crate) use cached_by_type;

/// Pushes binds onto `$out`, separated by commas: `push_binds!(out, Array<Text> => &self.a,
/// Array<BigInt> => &self.b)`.
macro_rules! push_binds {
    ($out:expr, $first_ty:ty => $first:expr $(, $ty:ty => $value:expr)* $(,)?) => {{
        $out.push_bind_param::<$first_ty, _>($first)?;
        $(
            $out.push_sql(", ");
            $out.push_bind_param::<$ty, _>($value)?;
        )*
    }};
}

pub(crate) use push_binds;
