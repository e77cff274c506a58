//! API tokens: issued once, stored only as a SHA-256 hash, optionally expiring, revocable.
//!
//! A token is `sg_` followed by 43 base64url characters (32 random bytes from the operating
//! system). With 256 random bits a plain SHA-256 is enough to store it: there is nothing to
//! guess, so a slow password hash would only cost time on every cache miss.

use crate::plumbing::digest::sha256_hex;
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::prelude::*;
use safegrade_domain::Refusal;
use safegrade_domain::{Actor, Principal, PrincipalId, TokenId};

use crate::now;
use crate::plumbing::events::payload::TokenFields;
use crate::plumbing::events::{EventData, NewEvent};
use crate::plumbing::instant::utc;
use crate::plumbing::schema::tokens;
use crate::{DbConn, Store, StoreError, WriteTx};

/// Every token starts with this.
pub const TOKEN_PREFIX: &str = "sg_";
/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;
/// Length of a token in characters.
pub const TOKEN_LEN: usize = 3 + 43;
/// Characters of a token kept as its hint.
const HINT_LEN: usize = 7;
/// What is kept of a token: never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Id.
    pub id: TokenId,
    /// The principal it authenticates.
    pub principal_id: PrincipalId,
    /// The first characters of the token, to recognise it.
    pub hint: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (kept to within the authentication cache's lifetime).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token just issued: the only time its secret exists outside the caller's hands.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// What is stored.
    pub info: TokenInfo,
    /// The token itself.
    pub secret: String,
}

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = tokens)]
// An absent value is NULL, not DEFAULT: the insert's text is then the same for every row,
// and diesel prepares a single-row insert once per connection.
#[diesel(treat_none_as_default_value = false)]
struct TokenRow {
    id: String,
    principal_id: String,
    secret_hash: String,
    hint: String,
    #[diesel(deserialize_as = crate::plumbing::instant::StoredInstant)]
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
}

impl TokenRow {
    fn into_info(self) -> Result<TokenInfo, StoreError> {
        let corrupt =
            |c: &str| StoreError::Other(format!("a stored tokens.{c} is not valid").into());
        Ok(TokenInfo {
            id: TokenId::parse(&self.id).ok_or_else(|| corrupt("id"))?,
            principal_id: PrincipalId::parse(&self.principal_id)
                .ok_or_else(|| corrupt("principal_id"))?,
            hint: self.hint,
            created_at: utc(self.created_at),
            expires_at: self.expires_at.map(utc),
            revoked_at: self.revoked_at.map(utc),
            last_used_at: self.last_used_at.map(utc),
        })
    }
}

/// The stored form of a token: SHA-256, lower-case hex.
pub fn hash_secret(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

/// Whether `text` has the shape of a token (so obvious garbage costs no lookup).
pub fn looks_like_token(text: &str) -> bool {
    text.len() == TOKEN_LEN
        && text.starts_with(TOKEN_PREFIX)
        && text[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn generate() -> Result<String, StoreError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Other(format!("no randomness for a token: {e}").into()))?;
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

fn event(
    kind: fn(TokenFields) -> EventData,
    t: &TokenInfo,
    actor: &Actor,
    reason: Option<String>,
) -> NewEvent {
    NewEvent {
        actor: actor.clone(),
        resource_id: t.id.to_string(),
        area_code: None,
        enterprise_id: None,
        data: kind(TokenFields {
            principal_id: t.principal_id.to_string(),
            expires_at: t.expires_at.map(|a| a.to_rfc3339()),
        }),
        reason,
    }
}

/// Issues a token for `principal` (`NotFound` if there is none) and records
/// `token.created`.
pub fn issue(
    tx: &mut WriteTx<'_>,
    principal: PrincipalId,
    expires_at: Option<DateTime<Utc>>,
    actor: &Actor,
) -> Result<IssuedToken, StoreError> {
    crate::access::principals::find(tx, principal)?;
    let secret = generate()?;
    let row = TokenRow {
        id: TokenId::new().to_string(),
        principal_id: principal.to_string(),
        secret_hash: hash_secret(&secret),
        hint: secret[..HINT_LEN].to_owned(),
        created_at: now(),
        // Microseconds, as both backends keep them.
        expires_at: expires_at.map(|a| a.naive_utc().trunc_subsecs(6)),
        revoked_at: None,
        last_used_at: None,
    };
    diesel::insert_into(tokens::table)
        .values(&row)
        .execute(&mut **tx)?;
    let info = row.into_info()?;
    tx.record(event(EventData::TokenCreated, &info, actor, None))?;
    Ok(IssuedToken { info, secret })
}

fn find(conn: &mut DbConn, id: TokenId) -> Result<TokenInfo, StoreError> {
    tokens::table
        .find(id.to_string())
        .first::<TokenRow>(conn)?
        .into_info()
}

impl Store {
    /// Issues a token for `principal`.
    pub fn issue_token(
        &self,
        principal: PrincipalId,
        expires_at: Option<DateTime<Utc>>,
        actor: &Actor,
    ) -> Result<IssuedToken, StoreError> {
        let actor = actor.clone();
        self.with_write_tx(move |tx| issue(tx, principal, expires_at, &actor))
    }

    /// The tokens of `principal`, newest last (`NotFound` if there is no such principal).
    pub fn list_tokens(&self, principal: PrincipalId) -> Result<Vec<TokenInfo>, StoreError> {
        self.with_read(|conn| {
            crate::access::principals::find(conn, principal)?;
            tokens::table
                .filter(tokens::principal_id.eq(principal.to_string()))
                .order(tokens::id.asc())
                .load::<TokenRow>(conn)?
                .into_iter()
                .map(TokenRow::into_info)
                .collect()
        })
    }

    /// Loads one token's record.
    pub fn get_token(&self, id: TokenId) -> Result<TokenInfo, StoreError> {
        self.with_read(|conn| find(conn, id))
    }

    /// Revokes a token ([`revoke`] in a transaction of its own).
    pub fn revoke_token(
        &self,
        id: TokenId,
        actor: Actor,
        reason: Option<String>,
    ) -> impl Future<Output = Result<TokenInfo, StoreError>> + use<> {
        self.write_keyed(&id.to_string(), move |tx| {
            revoke(tx, id, &actor, None, reason)
        })
    }

    /// The token with this hash and its principal, if any (revoked, expired and disabled
    /// ones included: the caller decides and says why).
    pub fn find_token(
        &self,
        secret_hash: &str,
    ) -> Result<Option<(TokenInfo, Principal)>, StoreError> {
        self.with_read(|conn| {
            let Some(row) = tokens::table
                .filter(tokens::secret_hash.eq(secret_hash))
                .first::<TokenRow>(conn)
                .optional()?
            else {
                return Ok(None);
            };
            let info = row.into_info()?;
            let principal = crate::access::principals::find(conn, info.principal_id)?;
            Ok(Some((info, principal)))
        })
    }

    /// Notes that a token was used at `at`. Queued on the writer and not awaited: the
    /// authentication cache calls it once per cache refresh, not once per request.
    pub fn touch_token(&self, id: TokenId, at: DateTime<Utc>) {
        let at = at.naive_utc();
        drop(
            self.write_keyed(&id.to_string(), move |tx| -> Result<(), StoreError> {
                diesel::update(tokens::table.find(id.to_string()))
                    .set(tokens::last_used_at.eq(Some(at)))
                    .execute(&mut **tx)?;
                Ok(())
            }),
        );
    }
}

impl TokenInfo {
    /// The token's version for `If-Match`: 1 while live, 2 once revoked (its only change).
    pub fn version(&self) -> i64 {
        if self.revoked_at.is_some() { 2 } else { 1 }
    }
}

/// Revokes a token in the caller's write transaction and records `token.revoked`; a revoked
/// token cannot be revoked again (`Refusal::TokenAlreadyRevoked`). `if_match` is checked
/// against [`TokenInfo::version`].
pub fn revoke(
    tx: &mut WriteTx<'_>,
    id: TokenId,
    actor: &Actor,
    if_match: Option<i64>,
    reason: Option<String>,
) -> Result<TokenInfo, StoreError> {
    let current = find(tx, id)?;
    if current.revoked_at.is_some() {
        return Err(StoreError::Refused(Refusal::TokenAlreadyRevoked));
    }
    crate::check_version(if_match, current.version())?;
    let at = now();
    diesel::update(tokens::table.find(id.to_string()))
        .set(tokens::revoked_at.eq(Some(at)))
        .execute(&mut **tx)?;
    let info = TokenInfo {
        revoked_at: Some(utc(at)),
        ..current
    };
    tx.record(event(EventData::TokenRevoked, &info, actor, reason))?;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_documented_shape_and_differ() {
        let (a, b) = (
            generate().unwrap_or_default(),
            generate().unwrap_or_default(),
        );
        assert!(looks_like_token(&a), "{a}");
        assert_ne!(a, b);
        assert!(!looks_like_token("sg_short"));
        assert!(!looks_like_token(&a.replace("sg_", "xx_")));
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
