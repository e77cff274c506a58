//! The docs site at `/book/`: the book built from the sources embedded in the binary, on the
//! first request for it (so API-only nodes never spend the memory), so the problem `type`
//! links (`/book/errors.html#…`) resolve on every server. `/` leads to it.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::plumbing::app::AppState;
use crate::plumbing::error::{ApiError, ErrorCode};

/// Builds the site: path inside the site → bytes.
pub type Builder = Box<dyn Fn() -> Result<HashMap<String, Vec<u8>>, String> + Send + Sync>;

/// The site: built once, on first use, by the builder the server gives it (none in tests that
/// do not need it: `/book/` then answers 404).
#[derive(Default)]
pub struct Site {
    builder: Option<Builder>,
    files: OnceLock<Result<HashMap<String, Vec<u8>>, String>>,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site")
            .field("built", &self.files.get().is_some())
            .finish_non_exhaustive()
    }
}

impl Site {
    /// A site built by `builder` when first asked for.
    pub fn new(builder: Builder) -> Self {
        Self {
            builder: Some(builder),
            files: OnceLock::new(),
        }
    }

    /// The built files (building them on the first call; concurrent callers wait for it).
    fn files(&self) -> Option<&Result<HashMap<String, Vec<u8>>, String>> {
        let builder = self.builder.as_ref()?;
        Some(self.files.get_or_init(|| {
            let built = builder();
            match &built {
                Ok(files) => tracing::info!(files = files.len(), "docs site built"),
                Err(e) => tracing::error!(error = %e, "building the docs site failed"),
            }
            built
        }))
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
    let site = state.site.clone();
    let wanted = path.clone();
    let found = web::block(move || match site.files() {
        None => Err(None),
        Some(Err(e)) => Err(Some(e.clone())),
        Some(Ok(files)) => Ok(files.get(&wanted).cloned()),
    })
    .await
    .map_err(ApiError::internal)?;
    let bytes = match found {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(ApiError::new(
                ErrorCode::RouteNotFound,
                format!("no page /book/{path}; the contents are at /book/"),
            ));
        }
        Err(None) => {
            return Err(ApiError::new(
                ErrorCode::RouteNotFound,
                "this server does not publish the docs site",
            ));
        }
        Err(Some(e)) => return Err(ApiError::internal(e)),
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
        .body(bytes))
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
