//! TOSS Desktop: Tauri wiring over `toss_core`.
//!
//! This crate only adapts: it opens the data directory and settings at start,
//! keeps them in Tauri state, and exposes core functions as commands. Every
//! decision lives in the core, where it is tested without a window.

pub mod activity;
pub mod airgap;
pub mod close;
pub mod customer;
pub mod error;
pub mod escrow;
pub mod home;
pub mod nonces;
pub mod onboarding;
pub mod pay;
pub mod price;
pub mod radio;
pub mod receive;
pub mod refund;
pub mod scan;
pub mod settings;
pub mod state;

use state::AppState;

/// The app's commands and state on `builder`: the real app's, or a test's
/// mock runtime.
pub fn setup<R: tauri::Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    builder
        .manage(state)
        .manage(scan::Scanning::default())
        .manage(radio::Confirming::default())
        .manage(customer::Counter::default())
        .manage(airgap::Shown::default())
        .invoke_handler(tauri::generate_handler![
            settings::app_info,
            settings::wallet_status,
            settings::settings_schema,
            settings::settings_save,
            settings::currencies,
            settings::gate_set_passphrase,
            settings::metrics,
            settings::program_check,
            settings::passphrase_asked,
            settings::keys_unlock,
            settings::keys_use_file,
            onboarding::wallet_create,
            onboarding::wallet_import_phrase,
            onboarding::wallet_import_keypair,
            home::home_view,
            home::balances,
            activity::activity,
            activity::intent_detail,
            activity::activity_export,
            activity::settle_now,
            receive::request_create,
            receive::receive_intent,
            receive::sale_watch,
            pay::pay_now,
            pay::transaction_request_open,
            pay::transaction_request_pay,
            activity::online_activity,
            receive::receipt,
            receive::online_receipt,
            pay::intent_create,
            scan::cameras,
            scan::scan_start,
            scan::scan_stop,
            scan::scan_image,
            scan::scan_clipboard,
            radio::ble_devices,
            radio::ble_pay,
            radio::ble_receive,
            radio::nfc_readers,
            radio::nfc_pay,
            radio::nfc_receive,
            radio::handover_confirm,
            escrow::escrow_view,
            escrow::escrow_act,
            nonces::nonce_pool,
            nonces::nonce_cost,
            nonces::nonce_act,
            price::price_rate,
            refund::refund_quote,
            refund::refund,
            close::close_report,
            close::close_export,
            customer::customer_now,
            customer::customer_display_open,
            airgap::sign_request_open,
            airgap::sign_request_sign,
            airgap::accounts_ur,
        ])
}

/// Starts the app. Flags: `--log-json` switches logs to JSON lines (also
/// `TOSS_LOG_FORMAT=json`).
pub fn run() {
    let json = std::env::args().any(|a| a == "--log-json")
        || std::env::var("TOSS_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let state = AppState::start(json);
    let result = setup(tauri::Builder::default(), state)
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            clean_up_hourly(app.handle().clone());
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!(error = %e, "the app could not start");
        eprintln!("TOSS could not start: {e}");
        std::process::exit(1);
    }
}

/// Runs the store's expiry and retention cleanup at start and then hourly
/// while the app runs (it also runs whenever a command opens the store), so
/// a till left open expires intents and forgets old ones as the CLI does.
fn clean_up_hourly<R: tauri::Runtime>(app: tauri::AppHandle<R>) {
    use tauri::Manager;
    std::thread::spawn(move || {
        loop {
            let state = app.state::<AppState>();
            let cleaned = state
                .session()
                .and_then(|s| match s.accounts().map(<[_]>::is_empty) {
                    Ok(false) => Ok(s.store().map(drop)?),
                    Ok(true) => Ok(()),
                    Err(e) => Err(e.into()),
                });
            if let Err(e) = cleaned {
                tracing::warn!(error = %e.message, "the store's cleanup did not run");
            }
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    });
}
