//! awesome-node-auth's admin API (docs/apis.md §2, admin mode): the
//! operator's admin secret lists and ends any user's sessions. Session Warden then signs in
//! as nobody, so it never takes the user's one refresh token (quirk 1) and has no session of
//! its own to spare. The account's login is the user id to watch.

use reqwest::StatusCode;
use serde::Deserialize;

use super::node_auth::{WireSession, into_sessions};
use super::{CallError, Ctx};
use crate::dialect::http;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::session::Session;

/// The admin API's page size limit.
const PAGE: usize = 100;
/// A user with more sessions than this is not a person: stop paging.
const MAX_PAGES: usize = 100;

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    sessions: Vec<Owned<'a>>,
    total: usize,
}

/// A session with the user it belongs to (a string or a number, depending on the store).
#[derive(Deserialize)]
struct Owned<'a> {
    #[serde(rename = "userId", default)]
    user_id: Option<serde_json::Value>,
    #[serde(flatten, borrow)]
    session: WireSession<'a>,
}

impl Owned<'_> {
    fn belongs_to(&self, user_id: &str) -> bool {
        match &self.user_id {
            Some(serde_json::Value::String(id)) => id == user_id,
            Some(serde_json::Value::Number(id)) => id.to_string() == user_id,
            _ => false,
        }
    }
}

/// "Signing in" is checking the admin secret with one listing; the secret is the token.
pub(crate) async fn login(ctx: &Ctx<'_>, user_id: &str, secret: &Secret) -> Result<Secret> {
    match list(ctx, secret, user_id).await {
        Ok(_) => Ok(secret.clone()),
        Err(CallError::Expired | CallError::Revoked) => Err(Error::BadAdminSecret),
        Err(CallError::Other(e)) => Err(e),
    }
}

/// Every page of the filter's matches, kept to this user's sessions: the filter matches user
/// ids and addresses by substring.
pub(crate) async fn list(
    ctx: &Ctx<'_>,
    secret: &Secret,
    user_id: &str,
) -> Result<Vec<Session>, CallError> {
    let mut sessions = Vec::new();
    for index in 0..MAX_PAGES {
        let mut url = ctx.endpoint("admin/api/sessions")?;
        url.query_pairs_mut()
            .append_pair("limit", &PAGE.to_string())
            .append_pair("offset", &(index * PAGE).to_string())
            .append_pair("filter", user_id);
        let response = http::send(ctx.http.get(url).bearer_auth(secret.expose())).await?;
        let page: Page = match response.status {
            StatusCode::OK => response.json()?,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => return Err(CallError::Expired),
            _ => return Err(response.server_error().into()),
        };
        let total = page.total;
        let theirs = page
            .sessions
            .into_iter()
            .filter(|s| s.belongs_to(user_id))
            .map(|s| s.session);
        sessions.extend(into_sessions(
            ctx.account,
            theirs,
            None,
            super::node_auth::DEFAULT_ACCESS_LIFETIME,
        ));
        // `total` counts every match of the filter, other users' included.
        if (index + 1) * PAGE >= total {
            break;
        }
    }
    Ok(sessions)
}

/// 200 whether or not the handle existed: the caller lists again to know.
pub(crate) async fn revoke(
    ctx: &Ctx<'_>,
    secret: &Secret,
    handle: &Secret,
) -> Result<(), CallError> {
    let url = ctx.endpoint_with_id("admin/api/sessions/", handle)?;
    let response = http::send(ctx.http.delete(url).bearer_auth(secret.expose())).await?;
    match response.status {
        StatusCode::OK => Ok(()),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(CallError::Expired),
        _ => Err(response.server_error().into()),
    }
}
