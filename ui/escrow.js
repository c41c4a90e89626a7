// Escrow and nonces: the on-chain escrow offline payments draw on, and the durable nonce pool.
// Rust reads, signs and sends; this screen shows what it reports and passes what is typed.
import { $, busy, count, fillCurrencies, invoke, say, settings, showFields } from "./ipc.js";

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

function renderEscrow(view) {
  const s = view.status;
  $("escrow-open-form").hidden = Boolean(s);
  $("escrow-actions").hidden = !s;
  if (!s) {
    showFields($("escrow-fields"), [["Escrow", "not open on this cluster, or not read yet", "state"]]);
    return;
  }
  const a = view.amounts;
  let withdrawal = "none pending";
  const unlocked = s.unlocks_at !== null && s.unlocks_at <= view.now;
  if (s.unlocks_at !== null) {
    withdrawal = unlocked
      ? `${a.pending_withdrawal}, ready to withdraw`
      : `${a.pending_withdrawal}, unlocks in ${span(s.unlocks_at - view.now)} (${when(s.unlocks_at)})`;
  }
  showFields($("escrow-fields"), [
    ["Escrow account", s.address, "address"],
    ["Balance", a.balance, "balance"],
    ["Signed offline, not yet settled", a.promised, "promised"],
    ["Spendable offline", a.spendable_offline, "spendable"],
    ["Time lock", span(s.withdraw_delay), "time-lock"],
    ["Withdrawal", withdrawal, "withdrawal"],
    ["Last read", when(s.at), "read-at"],
  ]);
  $("escrow-withdraw").hidden = !unlocked;
  $("escrow-cancel").hidden = s.unlocks_at === null;
}

function passphrase() {
  const value = $("escrow-passphrase").value || null;
  $("escrow-passphrase").value = ""; // never kept on screen
  return value;
}

/** Runs an escrow action from `button`, with progress and its outcome in words. */
function act(button, action, doing) {
  return busy(button, async () => {
    $("escrow-status").textContent = `${doing}…`;
    say("escrow-problem", "");
    try {
      const view = await invoke("escrow_act", { action: action(), currency: currency(), passphrase: passphrase() });
      renderEscrow(view);
      $("escrow-status").textContent = `Done: transaction ${view.signature} confirmed.`;
      say("escrow-problem", view.problem);
      return true;
    } catch (err) {
      $("escrow-status").textContent = "";
      say("escrow-problem", String(err));
      return false;
    }
  });
}

const STATES = { available: "ready", assigned: "held by a payment", used: "used, to refresh", closed: "closed" };

function renderPool(pool) {
  const open = pool.records.filter((r) => r.state !== "closed");
  $("nonce-summary").textContent = open.length
    ? `${pool.available} of ${count(open.length, "account")} ready for offline payments.`
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
      rent.textContent = r.lamports_text;
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

export async function loadEscrow() {
  $("escrow-passphrase-label").hidden = !settings.asked.funds;
  try {
    fillCurrencies($("escrow-currency"));
    renderEscrow(await invoke("escrow_view", { refresh: false, currency: currency() }));
    renderPool(await invoke("nonce_pool"));
  } catch (err) {
    say("escrow-problem", String(err));
    return;
  }
  await refreshEscrow($("escrow-refresh"));
}

function refreshEscrow(button) {
  return busy(button, async () => {
    $("escrow-status").textContent = "Reading the escrow from the cluster…";
    try {
      const view = await invoke("escrow_view", { refresh: true, currency: currency() });
      renderEscrow(view);
      say("escrow-problem", view.problem);
      $("escrow-status").textContent = "";
    } catch (err) {
      $("escrow-status").textContent = "";
      say("escrow-problem", String(err));
    }
  });
}

const currency = () => $("escrow-currency").value || null;

export function setupEscrow() {
  $("escrow-refresh").addEventListener("click", (e) => refreshEscrow(e.currentTarget));
  // One currency at a time: the picker waits for the escrow it asked for.
  $("escrow-currency").addEventListener("change", (e) =>
    busy(e.currentTarget, async () => {
      say("escrow-problem", "");
      try {
        renderEscrow(await invoke("escrow_view", { refresh: false, currency: currency() }));
      } catch (err) {
        say("escrow-problem", String(err));
        return;
      }
      await refreshEscrow($("escrow-refresh"));
    }),
  );
  $("escrow-open-form").addEventListener("submit", (e) => {
    e.preventDefault();
    act(e.submitter, () => ({ kind: "open", hours: Number($("escrow-hours").value) }), "Opening the escrow");
  });
  $("escrow-deposit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const amount = $("escrow-deposit").value.trim();
    if (await act(e.submitter, () => ({ kind: "deposit", amount }), "Depositing")) $("escrow-deposit").value = "";
  });
  $("escrow-request-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const amount = $("escrow-request").value.trim();
    if (await act(e.submitter, () => ({ kind: "request", amount }), "Starting the time lock")) $("escrow-request").value = "";
  });
  $("escrow-withdraw").addEventListener("click", (e) => act(e.currentTarget, () => ({ kind: "withdraw" }), "Withdrawing"));
  $("escrow-cancel").addEventListener("click", (e) => act(e.currentTarget, () => ({ kind: "cancel" }), "Cancelling the withdrawal"));

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
      const asked = Number($("nonce-count").value);
      try {
        const cost = await invoke("nonce_cost", { count: asked });
        priced = cost.accounts;
        $("nonce-cost").textContent =
          `${count(cost.accounts, "account")} lock ${cost.total_text} of rent (${cost.rent_each_text} each), returned when closed; plus fees.`;
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
