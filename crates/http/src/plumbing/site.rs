//! The docs site at `/book/`: the book built from the sources embedded in the binary (the
//! server builds it in the background at start and publishes it here), so the problem `type`
//! links (`/book/errors.html#…`) resolve on every server. `/` leads to it.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::plumbing::app::AppState;
use crate::plumbing::error::{ApiError, ErrorCode};

/// The published site: empty until the server has built it.
#[derive(Debug, Default)]
pub struct Site {
    files: OnceLock<HashMap<String, Vec<u8>>>,
}

impl Site {
    /// Publishes the built site (path inside the site → bytes). Only the first call counts.
    pub fn publish(&self, files: HashMap<String, Vec<u8>>) {
        let _ = self.files.set(files);
    }

    fn file(&self, path: &str) -> Option<&[u8]> {
        self.files.get()?.get(path).map(Vec::as_slice)
    }

    fn ready(&self) -> bool {
        self.files.get().is_some()
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `GET /book/{path}`: a page or asset of the site.
pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let path = req.match_info().get("path").unwrap_or_default();
    let path = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path.to_owned()
    };
    if !state.site.ready() {
        return Err(ApiError::new(
            ErrorCode::ServiceUnavailable,
            "the docs site is being built; retry in a few seconds",
        )
        .with_header(header::RETRY_AFTER, "2"));
    }
    let Some(bytes) = state.site.file(&path) else {
        return Err(ApiError::new(
            ErrorCode::RouteNotFound,
            format!("no page /book/{path}; the contents are at /book/"),
        ));
    };
    // Pages change with each release; assets carry a content hash in their names.
    let cache = if path.ends_with(".html") {
        "public, max-age=300"
    } else {
        "public, max-age=86400"
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type(&path))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(bytes.to_vec()))
}

/// A permanent redirect to `to`.
pub fn redirect(to: &'static str) -> impl Fn() -> std::future::Ready<HttpResponse> + Clone {
    move || {
        std::future::ready(
            HttpResponse::PermanentRedirect()
                .insert_header((header::LOCATION, to))
                .finish(),
        )
    }
}
