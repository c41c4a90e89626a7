// Vault and nonces: the on-chain vault offline payments draw on, and the durable nonce pool.
// Rust reads, signs and sends; this screen shows what it reports and passes what is typed.
import { $, busy, fillCurrencies, invoke, money, say, settings, showFields } from "./ipc.js";

/** Seconds as people read a wait: "2 d 3 h", "23 h 5 min", "4 min", "under a minute". */
function span(seconds) {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d) return h ? `${d} d ${h} h` : `${d} d`;
  if (h) return m ? `${h} h ${m} min` : `${h} h`;
  return m ? `${m} min` : "under a minute";
}

const when = (unix) => new Date(unix * 1000).toLocaleString();

function renderVault(view) {
  const s = view.status;
  $("vault-open-form").hidden = Boolean(s);
  $("vault-actions").hidden = !s;
  if (!s) {
    showFields($("vault-fields"), [["Vault", "not open on this cluster, or not read yet", "state"]]);
    return;
  }
  const m = (amount) => money(amount, view.currency.mint);
  let withdrawal = "none pending";
  const unlocked = s.unlocks_at !== null && s.unlocks_at <= view.now;
  if (s.unlocks_at !== null) {
    withdrawal = unlocked
      ? `${m(s.pending_withdrawal)}, ready to withdraw`
      : `${m(s.pending_withdrawal)}, unlocks in ${span(s.unlocks_at - view.now)} (${when(s.unlocks_at)})`;
  }
  showFields($("vault-fields"), [
    ["Vault account", s.address, "address"],
    ["Balance", m(s.balance), "balance"],
    ["Signed offline, not yet settled", m(s.promised), "promised"],
    ["Spendable offline", m(s.spendable_offline), "spendable"],
    ["Time lock", span(s.withdraw_delay), "time-lock"],
    ["Withdrawal", withdrawal, "withdrawal"],
    ["Last read", when(s.at), "read-at"],
  ]);
  $("vault-withdraw").hidden = !unlocked;
  $("vault-cancel").hidden = s.unlocks_at === null;
}

function passphrase() {
  const value = $("vault-passphrase").value || null;
  $("vault-passphrase").value = ""; // never kept on screen
  return value;
}

/** Runs a vault action from `button`, with progress and its outcome in words. */
function act(button, action, doing) {
  return busy(button, async () => {
    $("vault-status").textContent = `${doing}…`;
    say("vault-problem", "");
    try {
      const view = await invoke("vault_act", { action: action(), currency: currency(), passphrase: passphrase() });
      renderVault(view);
      $("vault-status").textContent = `Done: transaction ${view.signature} confirmed.`;
      say("vault-problem", view.problem);
      return true;
    } catch (err) {
      $("vault-status").textContent = "";
      say("vault-problem", String(err));
      return false;
    }
  });
}

const STATES = { available: "ready", assigned: "held by a payment", used: "used, to refresh", closed: "closed" };

function renderPool(pool) {
  const open = pool.records.filter((r) => r.state !== "closed");
  $("nonce-summary").textContent = open.length
    ? `${pool.available} of ${open.length} account(s) ready for offline payments.`
    : "No nonce accounts yet.";
  $("nonce-table").hidden = !open.length;
  $("nonce-rows").replaceChildren(
    ...open.map((r) => {
      const tr = document.createElement("tr");
      const address = document.createElement("td");
      address.className = "address";
      address.textContent = r.address;
      const state = document.createElement("td");
      state.textContent = STATES[r.state] ?? r.state;
      const rent = document.createElement("td");
      rent.textContent = money(r.lamports, null);
      const close = document.createElement("td");
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = "Close";
      b.setAttribute("aria-label", `Close ${r.address} and return its rent`);
      b.disabled = r.state === "assigned";
      b.addEventListener("click", () => poolAct(b, { kind: "close", address: r.address }, "Closing the account"));
      close.append(b);
      tr.append(address, state, rent, close);
      return tr;
    }),
  );
}

async function poolAct(button, action, doing) {
  await busy(button, async () => {
    $("nonce-status").textContent = `${doing}…`;
    say("nonce-problem", "");
    try {
      renderPool(await invoke("nonce_act", { action, passphrase: passphrase() }));
      $("nonce-status").textContent = "Done.";
    } catch (err) {
      $("nonce-status").textContent = "";
      say("nonce-problem", String(err));
    }
  });
}

export async function loadVault() {
  $("vault-passphrase-label").hidden = !settings.asked.funds;
  try {
    fillCurrencies($("vault-currency"));
    renderVault(await invoke("vault_view", { refresh: false, currency: currency() }));
    renderPool(await invoke("nonce_pool"));
  } catch (err) {
    say("vault-problem", String(err));
    return;
  }
  await refreshVault($("vault-refresh"));
}

function refreshVault(button) {
  return busy(button, async () => {
    $("vault-status").textContent = "Reading the vault from the cluster…";
    try {
      const view = await invoke("vault_view", { refresh: true, currency: currency() });
      renderVault(view);
      say("vault-problem", view.problem);
      $("vault-status").textContent = "";
    } catch (err) {
      $("vault-status").textContent = "";
      say("vault-problem", String(err));
    }
  });
}

const currency = () => $("vault-currency").value || null;

export function setupVault() {
  $("vault-refresh").addEventListener("click", (e) => refreshVault(e.currentTarget));
  // One currency at a time: the picker waits for the vault it asked for.
  $("vault-currency").addEventListener("change", (e) =>
    busy(e.currentTarget, async () => {
      say("vault-problem", "");
      try {
        renderVault(await invoke("vault_view", { refresh: false, currency: currency() }));
      } catch (err) {
        say("vault-problem", String(err));
        return;
      }
      await refreshVault($("vault-refresh"));
    }),
  );
  $("vault-open-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act(e.submitter, () => ({ kind: "open", hours: Number($("vault-hours").value) }), "Opening the vault");
  });
  $("vault-deposit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const amount = $("vault-deposit").value.trim();
    if (await act(e.submitter, () => ({ kind: "deposit", amount }), "Depositing")) $("vault-deposit").value = "";
  });
  $("vault-request-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const amount = $("vault-request").value.trim();
    if (await act(e.submitter, () => ({ kind: "request", amount }), "Starting the time lock")) $("vault-request").value = "";
  });
  $("vault-withdraw").addEventListener("click", (e) => act(e.currentTarget, () => ({ kind: "withdraw" }), "Withdrawing"));
  $("vault-cancel").addEventListener("click", (e) => act(e.currentTarget, () => ({ kind: "cancel" }), "Cancelling the withdrawal"));

  // The count priced is the count created: changing it hides the offer.
  let priced = null;
  $("nonce-count").addEventListener("input", () => {
    priced = null;
    $("nonce-confirm").hidden = true;
  });
  $("nonce-create-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy(e.submitter, async () => {
      say("nonce-problem", "");
      $("nonce-confirm").hidden = true;
      // A whole number from 1 to 100: the field's own rules stop anything else.
      const count = Number($("nonce-count").value);
      try {
        const cost = await invoke("nonce_cost", { count });
        priced = cost.accounts;
        $("nonce-cost").textContent =
          `${cost.accounts} account(s) lock ${money(cost.total, null)} of rent (${money(cost.rent_each, null)} each), returned when closed; plus fees.`;
        $("nonce-confirm").hidden = false;
        $("nonce-create").focus();
      } catch (err) {
        say("nonce-problem", String(err));
      }
    });
  });
  $("nonce-create").addEventListener("click", async (e) => {
    if (priced === null) return;
    await poolAct(e.currentTarget, { kind: "create", count: priced }, "Creating the accounts");
    $("nonce-confirm").hidden = true;
    priced = null;
  });
  $("nonce-refresh").addEventListener("click", (e) => poolAct(e.currentTarget, { kind: "refresh" }, "Reading the pool"));
}
