// TOSS UI: shows what the Rust commands answer. No wallet logic lives here.
const invoke = window.__TAURI__.core.invoke;
const $ = (id) => document.getElementById(id);

function showProblem(message) {
  const p = $("problem");
  p.textContent = message;
  p.hidden = false;
}

const SETTING_LABELS = [
  ["cluster", "Cluster"],
  ["rpc_url", "RPC URL"],
  ["program_id", "TOSS program"],
  ["arcium_mxe_program_id", "Arcium MXE program"],
  ["fee_payer", "Fee payer keypair"],
  ["max_settlement_retries", "Settlement retries"],
  ["default_intent_expiry_seconds", "Intent expiry (s)"],
  ["require_biometric_for_nonce", "Confirm presence for nonces"],
  ["require_biometric_for_intent", "Confirm presence for payments"],
];

function renderSettings(config) {
  const dl = $("settings");
  dl.replaceChildren();
  for (const [key, label] of SETTING_LABELS) {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    const value = config[key];
    dd.textContent = value === null ? "not set" : String(value);
    dd.dataset.key = key;
    dl.append(dt, dd);
  }
}

async function loadInfo() {
  const info = await invoke("app_info");
  $("version").textContent = `TOSS Desktop ${info.version}`;
  $("data-dir").textContent = info.data_dir ?? "unavailable";
  if (info.config) {
    $("cluster").textContent = info.config.cluster;
    $("cluster").dataset.cluster = info.config.cluster;
    renderSettings(info.config);
  } else {
    $("cluster").textContent = "not configured";
    $("settings-empty").hidden = false;
  }
  if (info.problem) {
    showProblem(`Settings problem: ${info.problem}`);
  }
}

async function checkWallet() {
  const button = $("wallet-check");
  const state = $("wallet-state");
  const list = $("accounts");
  button.disabled = true;
  state.textContent = "Checking…";
  try {
    const status = await invoke("wallet_status");
    list.replaceChildren();
    if (status.exists) {
      state.textContent = `Wallet found: ${status.accounts.length} account(s).`;
      for (const account of status.accounts) {
        const li = document.createElement("li");
        const name = document.createElement("strong");
        name.textContent = account.label;
        const address = document.createElement("code");
        address.textContent = account.address;
        li.append(name, " ", address);
        list.append(li);
      }
    } else {
      state.textContent = "No wallet on this computer yet.";
    }
    state.dataset.exists = String(status.exists);
  } catch (err) {
    state.textContent = `Could not read the wallet: ${err}`;
    state.dataset.exists = "error";
  } finally {
    button.disabled = false;
  }
}

$("wallet-check").addEventListener("click", checkWallet);
loadInfo()
  .catch((err) => showProblem(`The app could not load its information: ${err}`))
  .finally(checkWallet);
