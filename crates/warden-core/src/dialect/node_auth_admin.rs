//! awesome-node-auth's admin API (wire-formats.md §2, "self-hosted operators"): the
//! operator's admin secret lists and ends any user's sessions. Session Warden then signs in
//! as nobody, so it never takes the user's one refresh token (quirk 1) and has no session of
//! its own to spare. The account's login is the user id to watch.

use reqwest::StatusCode;
use serde::Deserialize;

use super::{CallError, Ctx};
use crate::error::{Error, Result};
use crate::http;
use crate::secret::Secret;
use crate::session::Session;

/// The admin API's page size limit.
const PAGE: usize = 100;
/// A user with more sessions than this is not a person: stop paging.
const MAX_PAGES: usize = 100;

#[derive(Deserialize)]
struct Page {
    sessions: serde_json::Value,
    total: usize,
}

/// "Signing in" is checking the admin secret with one listing; the secret is the token.
pub(crate) async fn login(ctx: &Ctx<'_>, user_id: &str, secret: &Secret) -> Result<Secret> {
    match list_for(ctx, secret, user_id).await {
        Ok(_) => Ok(secret.clone()),
        Err(CallError::Expired) => Err(Error::BadCredentials {
            login: "the admin secret".into(),
        }),
        Err(CallError::Other(e)) => Err(e),
    }
}

pub(crate) async fn list(
    ctx: &Ctx<'_>,
    secret: &Secret,
    user_id: &str,
) -> Result<Vec<Session>, CallError> {
    list_for(ctx, secret, user_id).await
}

async fn list_for(
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
        let body = serde_json::to_vec(&serde_json::json!({ "sessions": page.sessions }))
            .map_err(|e| Error::Protocol(e.to_string()))?;
        sessions.extend(parse_page(ctx, &body, user_id)?);
        // `total` counts every match of the filter, other users' included.
        if (index + 1) * PAGE >= page.total {
            break;
        }
    }
    Ok(sessions)
}

/// The filter matches user ids and addresses by substring: keep this user's sessions only.
fn parse_page(ctx: &Ctx<'_>, body: &[u8], user_id: &str) -> Result<Vec<Session>> {
    #[derive(Deserialize)]
    struct Owner {
        #[serde(rename = "userId")]
        user_id: Option<serde_json::Value>,
    }
    #[derive(Deserialize)]
    struct Owners {
        sessions: Vec<Owner>,
    }
    let owners: Owners =
        serde_json::from_slice(body).map_err(|e| Error::Protocol(e.to_string()))?;
    let parsed = super::node_auth::parse_list(ctx.account, body, None)?;
    Ok(parsed
        .into_iter()
        .zip(owners.sessions)
        .filter(|(_, owner)| match &owner.user_id {
            Some(serde_json::Value::String(id)) => id == user_id,
            Some(serde_json::Value::Number(id)) => id.to_string() == user_id,
            _ => false,
        })
        .map(|(session, _)| session)
        .collect())
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
