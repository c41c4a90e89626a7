// TOSS UI: screens over the Rust commands. No wallet logic lives here.
import { $, busy, count, invoke, say, settings } from "./ipc.js";
import { offerKeyFile, setupOnboarding } from "./onboarding.js";
import { loadReceive, setupReceive } from "./receive.js";
import { loadPay, setupPay } from "./pay.js";
import { loadActivity } from "./activity.js";
import { loadClose, setupClose } from "./close.js";
import { loadMetrics, renderSettings, setupPassphrase, setupSettings } from "./settings.js";
import { loadEscrow, setupEscrow } from "./escrow.js";
import { loadSign, openSignRequest, setupSign } from "./sign.js";

function showProblem(message) {
  const p = $("problem");
  p.textContent = message;
  p.hidden = false;
}

async function showConfig(config, schema) {
  settings.config = config;
  // Display settings first: they apply at once.
  document.documentElement.dataset.theme = config.theme;
  settings.currencies = await invoke("currencies").catch(() => []);
  settings.asked = await invoke("passphrase_asked").catch(() => settings.asked);
  $("cluster").textContent = config.cluster;
  $("cluster").dataset.cluster = config.cluster;
  renderSettings(config, schema);
}

/** Where keys are kept, with what to know about it, on the settings and set-up screens. */
function showKeyStorage(keys) {
  $("key-storage").textContent = `Keys are kept in ${keys.description}.`;
  for (const id of ["key-storage-warning", "onboarding-keys-warning"]) {
    say(id, keys.warning ? `Warning: ${keys.warning}.` : "");
  }
}

/** What `app_info` said at start (where keys are kept, whether they are locked). */
let info = null;

async function loadInfo() {
  info = await invoke("app_info");
  $("version").textContent = `TOSS Desktop ${info.version}`;
  $("data-dir").textContent = info.data_dir ?? "unavailable";
  showKeyStorage(info.key_storage);
  if (info.config) {
    await showConfig(info.config, await invoke("settings_schema"));
  } else {
    $("cluster").textContent = "not configured";
    $("settings-empty").hidden = false;
  }
  if (info.problem) {
    showProblem(`Settings problem: ${info.problem}`);
  }
}

const LOADERS = {
  home: loadHome,
  receive: loadReceive,
  pay: loadPay,
  activity: loadActivity,
  close: loadClose,
  escrow: loadEscrow,
  sign: loadSign,
  settings: loadMetrics,
};

/** Shows one screen, marks its button, and refreshes what it shows. */
export function show(screen) {
  for (const s of document.querySelectorAll(".screen")) {
    s.hidden = s.id !== `screen-${screen}`;
  }
  for (const b of document.querySelectorAll("#nav button")) {
    if (b.dataset.screen === screen) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  $("nav").hidden = screen === "onboarding" || screen === "unlock";
  // Focus follows the screen, so keyboard and screen-reader users start at its title.
  const title = document.querySelector(`#screen-${screen} h2`);
  title.tabIndex = -1;
  title.focus({ preventScroll: true });
  LOADERS[screen]?.();
}

async function loadHome() {
  try {
    const view = await invoke("home_view");
    $("home-pending").textContent = count(view.pending, "payment");
    $("home-intents").textContent = String(view.intents);
    const list = $("accounts");
    list.replaceChildren();
    for (const { account, qr_svg, escrow: status, escrow_amounts } of view.accounts) {
      const li = document.createElement("li");
      const name = document.createElement("strong");
      name.textContent = account.label;
      const address = document.createElement("code");
      address.textContent = account.address;
      address.className = "address";
      const copy = document.createElement("button");
      copy.type = "button";
      copy.textContent = "Copy";
      copy.setAttribute("aria-label", `Copy the address of ${account.label}`);
      copy.addEventListener("click", () => navigator.clipboard?.writeText(account.address));
      const qr = document.createElement("div");
      qr.className = "qr small";
      qr.setAttribute("role", "img");
      qr.setAttribute("aria-label", `QR code of ${account.label}'s address`);
      qr.innerHTML = qr_svg; // SVG rendered by Rust from the address alone
      const balance = document.createElement("p");
      balance.className = "balance";
      balance.dataset.address = account.address;
      balance.textContent = "On-chain balance: asking the cluster…";
      const escrow = document.createElement("p");
      escrow.className = "escrow";
      escrow.textContent = escrowText(status, escrow_amounts);
      li.append(name, " ", address, " ", copy, balance, escrow, qr);
      list.append(li);
    }
    refreshBalances();
  } catch (err) {
    showProblem(`Could not read the wallet: ${err}`);
  }
}

/** The escrow as last read (`s`), its amounts (`a`) as Rust wrote them. */
function escrowText(s, a) {
  if (!s) return "Escrow: not read yet (open or check it online to pay offline from it).";
  return `Escrow: ${a.balance}, ${a.spendable_offline} spendable offline` +
    (s.pending_withdrawal ? `, ${a.pending_withdrawal} being withdrawn` : "");
}

/** Online or offline, and the balances when online. */
async function refreshBalances() {
  const online = $("online");
  try {
    const b = await invoke("balances");
    online.textContent = b.online ? "Online" : "Offline";
    online.dataset.online = String(b.online);
    online.title = b.problem ?? "The cluster answers";
    const byAddress = new Map(b.balances);
    for (const p of document.querySelectorAll(".balance")) {
      p.textContent = b.online
        ? `On-chain balance: ${byAddress.get(p.dataset.address) ?? "unknown"}`
        : "On-chain balance: unknown while offline";
    }
  } catch (err) {
    online.textContent = "Offline";
    online.dataset.online = "false";
    online.title = String(err);
  }
}

/** The key file unlocked first when keys are kept there; onboarding until a wallet exists, then home. */
async function start() {
  const keys = info?.key_storage;
  if (keys?.locked && !keys.new_file) {
    show("unlock");
    return;
  }
  try {
    const status = await invoke("wallet_status");
    if (status.exists) {
      show("home");
    } else {
      $("wallet-state").textContent = "No wallet on this computer yet.";
      show("onboarding");
      if (keys?.locked && keys.new_file) offerKeyFile("No wallet on this computer yet. The settings keep keys in an encrypted file: choose its passphrase first.");
    }
  } catch (err) {
    $("wallet-state").textContent = `Could not read the wallet: ${err}`;
    show("onboarding");
  }
}

for (const b of document.querySelectorAll("#nav button")) {
  b.addEventListener("click", () => show(b.dataset.screen));
}
/** Saved settings put in force; where keys are kept may have changed with them. */
async function applyConfig(config) {
  await showConfig(config, await invoke("settings_schema"));
  showKeyStorage((await invoke("app_info")).key_storage);
}
setupOnboarding(() => show("home"), applyConfig);
setupReceive();
// A request to sign scanned on the pay screen is opened on the Sign screen.
setupPay((ur) => {
  show("sign");
  openSignRequest(ur);
});
setupEscrow();
setupClose();
setupSign();
setupSettings(applyConfig);
setupPassphrase();
window.addEventListener("toss-locked", () => show("unlock"));
$("unlock-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await busy(event.submitter, async () => {
    try {
      await invoke("keys_unlock", { passphrase: $("unlock-passphrase").value });
      say("unlock-problem", "");
      info.key_storage.locked = false;
      await start();
    } catch (err) {
      say("unlock-problem", String(err));
    } finally {
      $("unlock-passphrase").value = "";
    }
  });
});
loadInfo()
  .catch((err) => showProblem(`The app could not load its information: ${err}`))
  .finally(start);
