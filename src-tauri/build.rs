fn main() {
    // Declaring the app's commands makes Tauri generate one permission per
    // command; capabilities/default.json then grants the window exactly these.
    let manifest = tauri_build::AppManifest::new().commands(&["app_info", "wallet_status"]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .unwrap_or_else(|e| panic!("tauri build script failed: {e:#}"));
}
