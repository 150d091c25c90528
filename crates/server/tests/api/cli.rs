use std::process::Command;

use crate::helpers::{admin_command, shared_db_uri, spawn_app_with};

fn streamshare() -> Command {
    Command::new(env!("CARGO_BIN_EXE_streamshare"))
}

#[test]
fn help_documents_every_setting() {
    let out = streamshare().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "STREAMSHARE_HTTP_ADDR",
        "STREAMSHARE_MONGODB_URI",
        "STREAMSHARE_DB_NAME",
        "STREAMSHARE_JWT_SECRET",
        "STREAMSHARE_SIGNUP_COINS",
        "STREAMSHARE_WEB_DIR",
        "STREAMSHARE_MEDIA_UDP_PORT",
        "STREAMSHARE_MEDIA_PUBLIC_IP",
        "STREAMSHARE_TURN_URLS",
        "STREAMSHARE_TURN_SECRET",
        "STREAMSHARE_CONFIG",
        "STREAMSHARE_COIN_PACKS",
        "STREAMSHARE_STRIPE_SECRET_KEY",
        "STREAMSHARE_STRIPE_WEBHOOK_SECRET",
        "STREAMSHARE_TEST_PAYMENTS",
        "STREAMSHARE_PAYOUT_MIN",
    ] {
        assert!(help.contains(var), "--help lacks {var}:\n{help}");
    }
    let out = streamshare().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("serve") && help.contains("grant"), "{help}");
    assert!(help.contains("payouts"), "{help}");
}

#[test]
fn bad_coin_packs_or_a_stripe_key_without_its_webhook_secret_stop_the_start() {
    let out = streamshare()
        .arg("serve")
        .env("STREAMSHARE_COIN_PACKS", "small:100:-5:usd")
        .env("STREAMSHARE_MONGODB_URI", "mongodb://127.0.0.1:1")
        .env("STREAMSHARE_HTTP_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("price"), "{err}");
    // `STREAMSHARE_TEST_PAYMENTS=1` (as scripts/run.sh sets it) is read:
    // the start goes on to the next check.
    let out = streamshare()
        .arg("serve")
        .env("STREAMSHARE_TEST_PAYMENTS", "1")
        .env("STREAMSHARE_JWT_SECRET", "too-short")
        .env("STREAMSHARE_MONGODB_URI", "mongodb://127.0.0.1:1")
        .env("STREAMSHARE_HTTP_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 32 bytes"), "{err}");
    let out = streamshare()
        .arg("serve")
        .env("STREAMSHARE_STRIPE_SECRET_KEY", "sk_test_x")
        .env_remove("STREAMSHARE_STRIPE_WEBHOOK_SECRET")
        .env("STREAMSHARE_MONGODB_URI", "mongodb://127.0.0.1:1")
        .env("STREAMSHARE_HTTP_ADDR", "127.0.0.1:0")
        .env("STREAMSHARE_JWT_SECRET", crate::helpers::TEST_SECRET)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("STREAMSHARE_STRIPE_WEBHOOK_SECRET"), "{err}");
}

#[test]
fn a_short_jwt_secret_is_refused_at_start() {
    let out = streamshare()
        .arg("serve")
        .env("STREAMSHARE_JWT_SECRET", "too-short")
        .env("STREAMSHARE_MONGODB_URI", "mongodb://127.0.0.1:1")
        .env("STREAMSHARE_HTTP_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("at least 32 bytes"), "{err}");
}

#[tokio::test]
async fn grant_adds_coins_with_a_ledger_entry() {
    let app = spawn_app_with(&shared_db_uri(), |_| {}).await;
    let user = app.register("granted").await;
    let out = admin_command(&["grant", &user.username, "50"], &app.db_name).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("balance now 150"));
    assert_eq!(app.balance(&user).await, 150);
    let grants = app
        .get("/api/transactions?kind=grant", Some(&user.token))
        .await;
    assert_eq!(grants.assert_ok(200)["items"].as_array().unwrap().len(), 2);
    app.assert_ledger_invariants().await;

    let unknown = streamshare()
        .args(["grant", "no_such_user", "5"])
        .env("STREAMSHARE_MONGODB_URI", shared_db_uri())
        .env("STREAMSHARE_DB_NAME", &app.db_name)
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no_such_user"));
}

#[test]
fn a_config_file_adds_settings_the_environment_lacks() {
    let path = std::env::temp_dir().join(format!("streamshare-test-{}.env", std::process::id()));
    std::fs::write(
        &path,
        "STREAMSHARE_JWT_SECRET=short\nSTREAMSHARE_MONGODB_URI=mongodb://127.0.0.1:1\n",
    )
    .unwrap();
    let out = streamshare()
        .args(["serve", "--config"])
        .arg(&path)
        .env_remove("STREAMSHARE_JWT_SECRET")
        .env("STREAMSHARE_HTTP_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    // The file's (too short) secret was read: the server refuses it.
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"));
}
