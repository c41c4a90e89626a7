# The toolchain that builds program/ for the Solana VM (SBF) without Solana's platform
# tools, which download themselves and cannot run here (docs/program.md, "Building for
# the chain"). Sourced by scripts/sbf/build; everything lands, once, under $SBF_DIR:
#
# - Debian's rustc-web 1.96 (LLVM 22) with its std source, extracted from the packages
#   (never installed: it would put a second rustc in /usr/bin beside rustup's);
# - Debian's LLVM 22 (installed: libllvm22, llvm-22-dev), the same LLVM as that rustc;
# - sbpf-linker 0.2.6 from crates.io, built against LLVM 22 by the stable toolchain.
# Sourced, not run; needs common.sh.

SBF_DIR="${TOSS_SBF_DIR:-$HOME/.cache/toss-desktop/sbf}"
# Pinned: a rebuild with other versions gives other bytes.
SBF_RUST_VERSION="1.96.0+dfsg1-1~deb12u2"
SBF_LLVM_VERSION="1:22.1.8-1~deb12u1"
SBF_LINKER_VERSION="0.2.6"
SBF_RUST_PACKAGES=(rustc-web rust-web-src cargo-web libstd-rust-web-1.96 libstd-rust-web-dev
  libgit2-1.5 libmbedtls14 libmbedx509-1 libmbedcrypto7 libhttp-parser2.9)

# Extracts the Debian Rust packages into $SBF_DIR/rust unless already there.
ensure_sbf_rust() {
  local root="$SBF_DIR/rust" stamp="$SBF_DIR/rust/.version"
  [ "$(cat "$stamp" 2>/dev/null)" = "$SBF_RUST_VERSION" ] && return 0
  say "extracting Debian's rustc-web $SBF_RUST_VERSION into $root"
  rm -rf "$root" "$SBF_DIR/debs"
  mkdir -p "$root" "$SBF_DIR/debs"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  local p pinned=()
  for p in "${SBF_RUST_PACKAGES[@]}"; do
    case "$p" in
      rustc-web | rust-web-src | cargo-web | libstd-rust-web-*) pinned+=("$p=$SBF_RUST_VERSION") ;;
      *) pinned+=("$p") ;;
    esac
  done
  (cd "$SBF_DIR/debs" && apt-get download -qq "${pinned[@]}")
  for p in "$SBF_DIR"/debs/*.deb; do dpkg-deb -x "$p" "$root"; done
  echo "$SBF_RUST_VERSION" >"$stamp"
}

# Installs Debian's LLVM 22 at the pinned version unless it is there.
sbf_llvm() {
  local have
  have=$(dpkg-query -W -f='${Version}' llvm-22-dev 2>/dev/null || true)
  [ "$have" = "$SBF_LLVM_VERSION" ] && return 0
  ensure_packages "libllvm22=$SBF_LLVM_VERSION" "llvm-22-dev=$SBF_LLVM_VERSION" libpolly-22-dev zlib1g-dev libzstd-dev
}

# Builds sbpf-linker against LLVM 22 into $SBF_DIR/bin unless already there.
ensure_sbf_linker() {
  local bin="$SBF_DIR/bin/sbpf-linker"
  [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "$SBF_LINKER_VERSION" && return 0
  sbf_llvm
  say "building sbpf-linker $SBF_LINKER_VERSION against LLVM 22 (once; minutes)"
  local work="$SBF_DIR/linker-src"
  rm -rf "$work"
  mkdir -p "$work/fetch/src"
  # Its source, from crates.io through cargo's own cache.
  cat >"$work/fetch/Cargo.toml" <<EOF
[package]
name = "fetch-sbpf-linker"
version = "0.0.0"
edition = "2021"
[dependencies]
sbpf-linker = "=$SBF_LINKER_VERSION"
EOF
  : >"$work/fetch/src/lib.rs"
  (cd "$work/fetch" && cargo fetch -q)
  local src
  src=$(find "$HOME/.cargo/registry/src" -maxdepth 2 -type d -name "sbpf-linker-$SBF_LINKER_VERSION" | head -1)
  cp -r "$src" "$work/sbpf-linker"
  rm -f "$work/sbpf-linker/rust-toolchain.toml" "$work/sbpf-linker/rust-toolchain"
  # The one change: a feature that builds bpf-linker on LLVM 22 (its default wants 23).
  sed -i 's/^\[features\]$/[features]\nllvm-22 = ["bpf-linker\/llvm-22"]/' "$work/sbpf-linker/Cargo.toml"
  (cd "$work/sbpf-linker" && LLVM_PREFIX=/usr/lib/llvm-22 LLVM_SYS_221_PREFIX=/usr/lib/llvm-22 \
    CARGO_TARGET_DIR="$work/target" nice cargo build -q --release --no-default-features --features llvm-22 --bin sbpf-linker)
  mkdir -p "$SBF_DIR/bin"
  cp "$work/target/release/sbpf-linker" "$bin"
  rm -rf "$work"
}

# The rustc-web environment: its cargo/rustc first on PATH, its libraries found.
sbf_env() {
  export PATH="$SBF_DIR/rust/usr/bin:$PATH"
  export LD_LIBRARY_PATH="$SBF_DIR/rust/usr/lib/x86_64-linux-gnu:$SBF_DIR/rust/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export RUSTC_BOOTSTRAP=1
}
