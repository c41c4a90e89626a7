# Shared by scripts/run and scripts/test: packages, toolchain and build settings.
# Sourced, not run.

# What building the app needs on Debian 12 / Ubuntu 22.04+ (Tauri 2 on WebKitGTK 4.1).
# libclang-dev/clang: bindgen, for the camera's V4L2 bindings (nokhwa); libdbus-1-dev:
# BlueZ (btleplug, bluer) and the Secret Service; libpcsclite-dev: NFC readers (pcsc).
BUILD_PACKAGES=(libwebkit2gtk-4.1-dev build-essential curl wget file libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev pkg-config libdbus-1-dev libclang-dev clang
  libpcsclite-dev)
# What the test suite adds: a virtual X server, WebKit's WebDriver, tools for screenshots,
# a real Secret Service (gnome-keyring on a private bus) and kernel keyring for the vault,
# for the local validator: libclang (RocksDB bindings) and a private network
# namespace (iproute2, unshare); for NFC a real pcscd with the vpcd virtual reader, for
# BLE BlueZ played by python3-dbusmock (the tests start both; docs/nfc.md, docs/ble.md);
# Chromium for the screens' component tests (tests/ui, driven by playwright-core).
TEST_PACKAGES=(xvfb xauth webkit2gtk-driver x11-utils imagemagick dbus gnome-keyring keyutils
  iproute2 util-linux pcscd vsmartcard-vpcd python3-dbusmock chromium)

# One persistent target directory outside the clone keeps warm builds (and CI) fast.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/toss-desktop/target}"
# Link Debian's OpenSSL instead of building a vendored copy (minutes on 2 cores).
export OPENSSL_NO_VENDOR=1
# No incremental compilation: CI builds each fresh clone at a new path, so its incremental
# caches are never reused, and they filled the disk (about 30 GB over a day of runs).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
TOOLS_DIR="${TOSS_TOOLS_DIR:-$HOME/.cache/toss-desktop/tools}"
export PATH="$TOOLS_DIR/bin:$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the Debian packages given that are missing, with sudo when not root.
ensure_packages() {
  if ! command -v dpkg-query >/dev/null; then
    say "not a Debian/Ubuntu system: install the equivalents of: $*"
    return 0
  fi
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing system packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# npm packages the scripts use (the Tauri CLI, playwright-core), pinned, outside the clone.
NPM_DIR="$TOOLS_DIR/npm"

# Installs name@version into $NPM_DIR unless that version is already there.
ensure_npm_package() {
  local name="${1%@*}" version="${1##*@}" have
  have=$(node -p "require('$NPM_DIR/node_modules/$name/package.json').version" 2>/dev/null || true)
  [ "$have" = "$version" ] && return 0
  say "installing $1 into $NPM_DIR"
  npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error "$1"
}

ensure_rust() {
  if ! command -v cargo >/dev/null; then
    say "Rust is not installed: install it from https://rustup.rs (stable, 1.95 or newer), then run this again"
    exit 1
  fi
}
