//! django-allauth headless: integer ids, all others in one request, 410 as our session gone.

use super::*;

#[tokio::test]
async fn allauth_lists_by_integer_id_and_signs_all_others_out_in_one_request() {
    let w = world(DEMO_LOGIN).await;
    let account = w.add(Dialect::Allauth, DEMO_LOGIN).await.expect("added");
    for ip in ["198.51.100.40", "198.51.100.41", "198.51.100.42"] {
        w.device(Dialect::Allauth, FIREFOX, ip).await;
    }
    let snapshot = w.accounts.snapshot(&account).await.expect("lists");
    assert_eq!(snapshot.sessions.len(), 4);
    assert!(
        snapshot
            .sessions
            .iter()
            .all(|s| s.server_id.expose().parse::<u64>().is_ok())
    );
    let one = listed_at(&w, &account, "198.51.100.40").await;
    w.accounts.revoke(&account, &one.id).await.expect("revoked");
    let ended = w
        .accounts
        .sign_out_others(&account)
        .await
        .expect("others out");
    assert_eq!(ended.len(), 2);
    assert_eq!(w.server_side_ids().await.len(), 1);
    let requests = w.mock.control().requests().await.expect("counts");
    assert_eq!(
        requests.get("DELETE /allauth/_allauth/app/v1/auth/sessions"),
        Some(&2),
        "one for the one, one for all the others: {requests:?}"
    );
}

#[tokio::test]
async fn allauth_410_means_our_session_is_gone_and_it_signs_in_again() {
    let w = world(DEMO_TOTP_LOGIN).await;
    let account = w
        .add(Dialect::Allauth, DEMO_TOTP_LOGIN)
        .await
        .expect("added");
    assert_eq!(w.asked(), 1, "the authenticator step");
    let control = w.mock.control();
    let ours = control.live_ids(DEMO_TOTP_LOGIN).await.expect("ids");
    assert_eq!(ours.len(), 1);
    control
        .end_session(&ours[0])
        .await
        .expect("ended by the site");
    let snapshot = w
        .accounts
        .snapshot(&account)
        .await
        .expect("signed in again");
    assert_eq!(snapshot.sessions.len(), 1);
    assert!(snapshot.sessions[0].is_current);
    assert_eq!(w.asked(), 2, "a code again, asked of the person");
}
