//! How every write is answered, in one place: the answer of a POST that creates or
//! transitions is stored under its `Idempotency-Key` in the same transaction as the change,
//! and a retry with the same key and body replays it (`Idempotency-Replayed: true`); the same
//! key with another body is 422 `idempotency_key_reused`. Keys are the caller's own (scoped
//! by principal, method and path) and expire after
//! [`safegrade_store::idempotency::RETENTION_HOURS`] hours.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use safegrade_store::WriteTx;
use safegrade_store::idempotency::{self, Claim, StoredResponse};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, ErrorCode};
use crate::plumbing::extract::IdempotencyKey;

/// The answer of a write: status, `Location`, `ETag` (the record's version) and the JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    status: StatusCode,
    location: Option<String>,
    version: Option<i64>,
    body: String,
}

impl Answer {
    /// An answer with `status` and `body`.
    pub fn new(status: StatusCode, body: &impl Serialize) -> Result<Self, ApiError> {
        Ok(Self {
            status,
            location: None,
            version: None,
            body: serde_json::to_string(body).map_err(ApiError::internal)?,
        })
    }

    /// 201 with `Location`.
    pub fn created(location: String, body: &impl Serialize) -> Result<Self, ApiError> {
        let mut a = Self::new(StatusCode::CREATED, body)?;
        a.location = Some(location);
        Ok(a)
    }

    /// 200.
    pub fn ok(body: &impl Serialize) -> Result<Self, ApiError> {
        Self::new(StatusCode::OK, body)
    }

    /// With `Location` (a 202's job).
    #[must_use]
    pub fn located(mut self, location: String) -> Self {
        self.location = Some(location);
        self
    }

    /// With the record's version as `ETag`.
    #[must_use]
    pub fn versioned(mut self, version: i64) -> Self {
        self.version = Some(version);
        self
    }

    fn stored(&self, request: String) -> StoredResponse {
        StoredResponse {
            request_hash: request,
            status: self.status.as_u16(),
            location: self.location.clone(),
            body: self.body.clone(),
        }
    }

    fn from_stored(r: StoredResponse) -> Result<Self, ApiError> {
        let version = serde_json::from_str::<Value>(&r.body)
            .ok()
            .and_then(|b| b.get("version").and_then(Value::as_i64));
        Ok(Self {
            status: StatusCode::from_u16(r.status).map_err(ApiError::internal)?,
            location: r.location,
            version,
            body: r.body,
        })
    }

    /// The HTTP response.
    pub fn response(self, replayed: bool) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        if let Some(loc) = self.location {
            res.insert_header((header::LOCATION, loc));
        }
        if let Some(v) = self.version {
            res.insert_header((header::ETAG, format!("\"{v}\"")));
        }
        if replayed {
            res.insert_header(("idempotency-replayed", "true"));
        }
        res.content_type("application/json").body(self.body)
    }
}

enum Outcome {
    New(Answer),
    Stored(StoredResponse),
}

/// Runs the write `job` on the writer thread for `thread_key` (the record it changes: its
/// enterprise for everything that touches a grade summary) and answers it, honouring the
/// request's `Idempotency-Key` (see the module).
pub async fn post<F>(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    key: IdempotencyKey,
    body: &Map<String, Value>,
    thread_key: &str,
    job: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut WriteTx<'_>) -> Result<Answer, ApiError> + Send + 'static,
{
    let Some(key) = key.0 else {
        return Ok(state
            .store
            .write_keyed(thread_key, job)
            .await?
            .response(false));
    };
    // Keys are the caller's own: another principal's key never replays to it.
    let scope = format!("{} {} {}", caller.principal.id, req.method(), req.path());
    let request = Value::Object(body.clone()).to_string();
    let asked = request.clone();
    let outcome = state
        .store
        .write_keyed(thread_key, move |tx| {
            match idempotency::claim(tx, &scope, &key, &request)? {
                Claim::Answered(previous) => return Ok(Outcome::Stored(previous)),
                Claim::Claimed => {}
            }
            let answer = job(tx)?;
            idempotency::complete(tx, &scope, &key, &answer.stored(request))?;
            Ok::<_, ApiError>(Outcome::New(answer))
        })
        .await?;
    match outcome {
        Outcome::New(answer) => Ok(answer.response(false)),
        Outcome::Stored(previous) => {
            let same = serde_json::from_str::<Value>(&previous.request_hash).ok()
                == serde_json::from_str::<Value>(&asked).ok();
            if !same {
                return Err(ApiError::new(
                    ErrorCode::IdempotencyKeyReused,
                    "this Idempotency-Key was used with another body; use a new key for a new request",
                ));
            }
            Ok(Answer::from_stored(previous)?.response(true))
        }
    }
}
