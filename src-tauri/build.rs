fn main() {
    // Declaring the app's commands makes Tauri generate one permission per
    // command; capabilities/default.json then grants the window exactly these.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "app_info",
        "wallet_status",
        "settings_schema",
        "settings_save",
        "wallet_create",
        "wallet_import_phrase",
        "wallet_import_keypair",
        "gate_set_passphrase",
        "home_view",
        "balances",
        "activity",
        "intent_detail",
        "activity_export",
        "metrics",
        "request_create",
        "intent_create",
        "receive_intent",
        "settle_now",
        "cameras",
        "scan_start",
        "scan_stop",
        "scan_image",
        "scan_clipboard",
        "ble_devices",
        "ble_pay",
        "ble_receive",
        "nfc_readers",
        "nfc_pay",
        "nfc_receive",
        "vault_view",
        "vault_act",
        "nonce_pool",
        "nonce_cost",
        "nonce_act",
        "currencies",
        "receipt",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .unwrap_or_else(|e| panic!("tauri build script failed: {e:#}"));
}
