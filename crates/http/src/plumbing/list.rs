//! List responses and opaque cursors (docs/API-DESIGN.md, Lists).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use utoipa::ToSchema;

use actix_web::ResponseError;

use crate::plumbing::error::{ApiError, ErrorCode};

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
pub const MAX_LIMIT: u32 = 200;

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse<T: ToSchema> {
    /// The items of this page, in the list's documented order.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> ListResponse<T> {
    /// A list small enough to be answered whole: one page, no cursor.
    pub fn whole(items: Vec<T>) -> Self {
        Self {
            items,
            next_cursor: None,
        }
    }
}

/// Bytes reserved per item for a page's JSON: about what an enterprise takes, so a page
/// is written into one buffer instead of one that doubles a dozen times.
const BYTES_PER_ITEM: usize = 1024;

impl<T: ToSchema + Serialize> ListResponse<T> {
    /// The page as a 200 response, written into a buffer sized for it.
    pub fn into_response(self) -> actix_web::HttpResponse {
        let mut body = Vec::with_capacity(64 + self.items.len() * BYTES_PER_ITEM);
        match serde_json::to_writer(&mut body, &self) {
            Ok(()) => actix_web::HttpResponse::Ok()
                .content_type(actix_web::http::header::ContentType::json())
                .body(body),
            Err(e) => ApiError::new(
                ErrorCode::Internal,
                format!("the page could not be written as JSON: {e}"),
            )
            .error_response(),
        }
    }
}

/// Checks `limit` (1–200, default 50).
pub fn limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        n => Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("limit must be between 1 and {MAX_LIMIT}, got {n}"),
        )),
    }
}

/// Encodes a position as an opaque cursor.
pub fn encode_cursor(kind: &str, position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{position}"))
}

/// Decodes a cursor issued by [`encode_cursor`] for the same `kind`.
pub fn decode_cursor(kind: &str, cursor: &str) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::new(
            ErrorCode::InvalidQuery,
            "cursor is not one this list issued; start again without it",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix(kind)
        .and_then(|r| r.strip_prefix(':'))
        .map(str::to_owned)
        .ok_or_else(invalid)
}

/// Checks an `area_code` query filter: a supervision area (normalised), or 400.
pub fn area_filter(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    match raw.map(str::trim) {
        Some(code) => safegrade_domain::find_area(code)
            .map(|a| Some(a.code.to_owned()))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("area_code '{code}' is not a supervision area"),
                )
            }),
        None => Ok(None),
    }
}

/// Decodes a cursor of `kind` holding a record id, parsed with `parse`.
pub fn id_cursor<T>(
    kind: &str,
    cursor: Option<&str>,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    let Some(c) = cursor else { return Ok(None) };
    parse(&decode_cursor(kind, c)?).map(Some).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidQuery,
            "cursor is not one this list issued",
        )
    })
}

/// The `next_cursor` of a page: the position of its last item when more follow.
pub fn next_cursor(kind: &str, has_more: bool, last: Option<String>) -> Option<String> {
    if has_more {
        last.map(|position| encode_cursor(kind, &position))
    } else {
        None
    }
}

/// One page out of `rows`, read with a limit of `limit + 1`: at most `limit` items and the
/// `next_cursor` (of `kind`, at the last item's `position`) when more follow.
pub fn page<T: ToSchema>(
    mut rows: Vec<T>,
    limit: u32,
    kind: &str,
    position: impl Fn(&T) -> String,
) -> ListResponse<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = next_cursor(kind, more, rows.last().map(position));
    ListResponse {
        items: rows,
        next_cursor,
    }
}

/// The page size and the position after which a page starts, from a list's `limit` and
/// `cursor` (of `kind`).
pub fn paging(
    limit: Option<u32>,
    cursor: Option<&str>,
    kind: &str,
) -> Result<(u32, Option<String>), ApiError> {
    Ok((
        self::limit(limit)?,
        cursor.map(|c| decode_cursor(kind, c)).transpose()?,
    ))
}

/// Every record a paged store read gives, a page of 1,000 at a time: `fetch` reads the page
/// after a position (`None`: the first), `position` says where a record stands.
pub fn all_pages<T, E>(
    mut fetch: impl FnMut(Option<String>, i64) -> Result<Vec<T>, E>,
    position: impl Fn(&T) -> String,
) -> Result<Vec<T>, E> {
    const PAGE: i64 = 1000;
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = fetch(after, PAGE)?;
        let done = i64::try_from(page.len()).unwrap_or(PAGE) < PAGE;
        after = page.last().map(&position);
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

/// The paging parameters of a list: the whole query of a list without filters, or with
/// [`Paged`] the paging of one with filters (`params(Filters, PageParams)` in the spec).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A list's query: its filters `F` (which refuse unknown parameters) and the paging, so an
/// export of the same list takes `F` alone and the two cannot drift apart.
#[derive(Debug)]
pub struct Paged<F> {
    /// The filters.
    pub filters: F,
    /// `limit`.
    pub limit: Option<u32>,
    /// `cursor`.
    pub cursor: Option<String>,
}

impl<F: serde::de::DeserializeOwned> Paged<F> {
    /// Splits `query` into the paging and the filters.
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut rest = url::form_urlencoded::Serializer::new(String::new());
        let (mut limit, mut cursor) = (None, None);
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "limit" => {
                    limit = Some(v.parse::<u32>().map_err(|_| {
                        ApiError::new(
                            ErrorCode::InvalidQuery,
                            format!("limit must be a whole number, got '{v}'"),
                        )
                    })?);
                }
                "cursor" => cursor = Some(v.into_owned()),
                _ => {
                    rest.append_pair(&k, &v);
                }
            }
        }
        let filters = actix_web::web::Query::<F>::from_query(&rest.finish())
            .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.to_string()))?
            .into_inner();
        Ok(Self {
            filters,
            limit,
            cursor,
        })
    }
}

impl<F: serde::de::DeserializeOwned> actix_web::FromRequest for Paged<F> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &actix_web::HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Self::parse(req.query_string()))
    }
}
