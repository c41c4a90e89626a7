// Activity: every intent this wallet keeps, filtered and searched here (on what Rust
// listed), a detail view with refunds of payments received, and a CSV export written by Rust.
import { $, busy, choosePath, count, invoke, listen, say, settings, showFields } from "./ipc.js";

let rows = [];
/** Payments made online, as Rust last listed them (each with its refunds). */
let online = [];
/** This wallet's addresses: an online payment to one of them was received here. */
let ours = new Set();
/**
 * The payment whose detail is shown (an intent's id or an online payment's signature) and how
 * to show it again once a refund changed it; `quoted` is the refund Rust last quoted for it.
 */
let detail = null;
let quoted = null;

function render() {
  const direction = $("activity-filter").value;
  const needle = $("activity-search").value.trim().toLowerCase();
  const shown = rows.filter(
    (r) =>
      (!direction || r.direction === direction) &&
      (!needle || [r.id, r.payer, r.payee, r.state].some((v) => v.toLowerCase().includes(needle))),
  );
  $("activity-empty").hidden = rows.length > 0;
  $("activity-table").hidden = shown.length === 0;
  $("activity-rows").replaceChildren(
    ...shown.map((r) => {
      const tr = document.createElement("tr");
      const other = r.direction === "sent" ? r.payee : r.payer;
      for (const text of [r.direction, r.amount_text, other, r.state]) {
        const td = document.createElement("td");
        td.textContent = text;
        if (text === other) td.className = "address";
        tr.append(td);
      }
      tr.dataset.id = r.id;
      tr.tabIndex = 0;
      tr.setAttribute("role", "button");
      tr.setAttribute("aria-label", `Details of the payment ${r.id.slice(0, 8)}`);
      tr.addEventListener("click", () => showDetail(r.id));
      tr.addEventListener("keydown", (e) => e.key === "Enter" && showDetail(r.id));
      return tr;
    }),
  );
}

async function showDetail(id) {
  try {
    const d = await invoke("intent_detail", { id });
    showFields($("detail-fields"), [
      ["State", d.state],
      [d.direction === "sent" ? "Paid to" : "Paid by", d.direction === "sent" ? d.payee : d.payer],
      ["Amount", d.amount_text],
      ...(d.memo ? [["Memo", d.memo]] : []),
      ["Expires", new Date(d.expires_at * 1000).toLocaleString()],
      ["Payment id", d.id],
      ["Signature", d.signature],
      ...(d.settlement ? [["Settlement", d.settlement, null, d.explorer]] : []),
    ]);
    showHistory(true);
    showRefunds(d.refunds, d.direction === "received" ? d.id : null, () => showDetail(id));
    $("detail-history").replaceChildren(
      ...d.history.map((e) => {
        const li = document.createElement("li");
        li.textContent = `${new Date(e.at * 1000).toLocaleString()}: ${e.state}${e.detail ? ` (${e.detail})` : ""}`;
        return li;
      }),
    );
    $("detail-card").hidden = false;
    $("detail-card").scrollIntoView({ block: "nearest" });
  } catch (err) {
    say("activity-problem", `Could not read the payment: ${err}`);
  }
}

/** An intent's detail has its history; an online payment's, its receipt code instead. */
function showHistory(history) {
  $("detail-history-title").hidden = !history;
  $("detail-history").hidden = !history;
  $("detail-qr").hidden = history;
}

/** A payment made online: who paid whom, how much, when, and its receipt code (Rust's). */
async function showOnlineDetail(row) {
  const { signature } = row;
  try {
    const r = await invoke("online_receipt", { signature });
    const p = r.payments[0];
    showFields($("detail-fields"), [
      ["State", "paid online"],
      ["Paid by", p.payer],
      ["Paid to", p.payee],
      ["Amount", p.amount_text],
      ["Seen", new Date(p.verified_at * 1000).toLocaleString()],
      ["Transaction", p.id, null, p.uri],
    ]);
    $("detail-qr").innerHTML = p.qr_svg; // SVG rendered by Rust from the Explorer address
    showHistory(false);
    showRefunds(row.refunds, ours.has(row.recipient) ? signature : null, () => showOnlineAgain(signature));
    $("detail-card").hidden = false;
    $("detail-card").scrollIntoView({ block: "nearest" });
  } catch (err) {
    say("activity-problem", `Could not read the payment: ${err}`);
  }
}

/** An online payment's detail once more, as Rust lists it now (after a refund of it). */
async function showOnlineAgain(signature) {
  try {
    online = await invoke("online_activity");
  } catch (err) {
    say("activity-problem", `Could not read the activity: ${err}`);
    return;
  }
  renderOnline(online);
  const row = online.find((p) => p.signature === signature);
  if (row) await showOnlineDetail(row);
}

/**
 * The refunds already made of the payment shown, and "Refund" for a payment this wallet
 * received (`payment`: its id or signature; null for one it paid). `again` shows the detail
 * anew once a refund is sent.
 */
function showRefunds(refunds = [], payment, again) {
  $("detail-refunds-title").hidden = refunds.length === 0;
  $("detail-refunds").hidden = refunds.length === 0;
  $("detail-refunds").replaceChildren(
    ...refunds.map((r) => {
      // Where it stands (sending, confirmed, failed); a refund still being sent may have no transaction yet.
      const li = document.createElement("li");
      const what = [r.amount_text, r.state, r.cost_text && `costing ${r.cost_text}`].filter(Boolean).join(", ");
      li.textContent = `${new Date(r.at * 1000).toLocaleString()}: ${what}${r.signature ? ` (transaction ${r.signature})` : ""}`;
      return li;
    }),
  );
  detail = payment ? { payment, again } : null;
  quoted = null;
  $("refund").hidden = !payment;
  $("refund-form").hidden = true;
  $("refund-done").hidden = true;
  say("refund-problem", "");
}

/** What a refund would send, from Rust, before anything is sent: the form is prefilled with all that is left. */
async function quoteRefund() {
  $("refund-done").hidden = true;
  say("refund-problem", "");
  try {
    quoted = await invoke("refund_quote", { payment: detail.payment });
    showFields($("refund-quote"), [
      ["Refund to", quoted.to, "to"],
      ["Received", quoted.received_text, "received"],
      ["Already refunded", quoted.refunded_text, "refunded"],
      ["Can be refunded", quoted.refundable_text, "refundable"],
      ["Network fee", quoted.fee_text, "fee"],
      // The payer's token account was closed since the payment: opening it again costs this rent.
      ...(quoted.rent_text ? [["Rent to reopen the payer's token account", quoted.rent_text, "rent"]] : []),
    ]);
    $("refund-max").textContent = quoted.refundable_text;
    $("refund-amount").value = quoted.max;
    $("refund-passphrase-label").hidden = !settings.asked.payment;
    $("refund-form").hidden = false;
    $("refund-amount").focus();
  } catch (err) {
    quoted = null;
    $("refund-form").hidden = true;
    say("refund-problem", `Cannot refund: ${err}`);
  }
}

/** Sends the refund quoted (all of what is left, or the part typed), asked like a payment. */
async function sendRefund() {
  try {
    const sent = await invoke("refund", {
      payment: quoted.payment,
      amount: $("refund-amount").value.trim(),
      rent: quoted.rent, // what was shown: Rust refuses a refund that would now cost more
      passphrase: $("refund-passphrase").value || null,
    });
    // The detail shown again lists the refund; what was sent stays said under it.
    await detail.again();
    $("refund-text").textContent = `${sent.amount_text}, network fee ${sent.fee_text}${sent.rent_text ? ` and rent ${sent.rent_text}` : ""} (transaction ${sent.signature})`;
    $("refund-explorer").href = sent.explorer;
    $("refund-done").hidden = false;
    loadActivity();
  } catch (err) {
    say("refund-problem", `Not refunded: ${err}`);
  } finally {
    $("refund-passphrase").value = ""; // never kept on screen
  }
}

$("refund-start").addEventListener("click", (event) => busy(event.currentTarget, quoteRefund));
$("refund-cancel").addEventListener("click", () => {
  $("refund-form").hidden = true;
  $("refund-passphrase").value = "";
});
$("refund-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await busy($("refund-form").querySelector("button[type=submit]"), sendRefund);
});

// Each step as the core words it.
listen("settle", (p) => {
  if (p.text) $("settle-status").textContent = p.text;
});

$("settle-now").addEventListener("click", (event) =>
  busy(event.currentTarget, async () => {
    $("settle-status").textContent = "Settling…";
    try {
      const done = await invoke("settle_now", { passphrase: $("settle-passphrase").value || null });
      $("settle-status").textContent = done.text;
    } catch (err) {
      $("settle-status").textContent = `Not settled: ${err}`;
    } finally {
      $("settle-passphrase").value = "";
      loadActivity();
    }
  }),
);

export async function loadActivity() {
  $("settle-passphrase-label").hidden = !settings.asked.settlement;
  try {
    rows = await invoke("activity");
    render();
    // Without the accounts, no online payment is offered a refund; the list still shows.
    const status = await invoke("wallet_status").catch(() => ({ accounts: [] }));
    ours = new Set(status.accounts.map((a) => a.address));
    online = await invoke("online_activity");
    renderOnline(online);
    say("activity-problem", "");
  } catch (err) {
    say("activity-problem", `Could not read the activity: ${err}`);
  }
}

/** Payments made online (any wallet to this till, or "Pay now"), each with its Explorer link. */
function renderOnline(list) {
  $("online-card").hidden = list.length === 0;
  $("online-rows").replaceChildren(
    ...list.map((p) => {
      const tr = document.createElement("tr");
      const when = new Date((p.block_time ?? p.at) * 1000).toLocaleString();
      for (const [text, cls] of [[when], [p.amount_text], [p.payer, "address"], [p.recipient, "address"]]) {
        const td = document.createElement("td");
        td.textContent = text;
        if (cls) td.className = cls;
        tr.append(td);
      }
      const td = document.createElement("td");
      const a = document.createElement("a");
      a.href = p.explorer;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = `${p.signature.slice(0, 12)}…`;
      a.setAttribute("aria-label", `The transaction ${p.signature} on Solana Explorer`);
      td.append(a);
      tr.append(td);
      tr.tabIndex = 0;
      tr.setAttribute("role", "button");
      tr.setAttribute("aria-label", `Details of the online payment ${p.signature.slice(0, 8)}`);
      tr.addEventListener("click", (e) => e.target !== a && showOnlineDetail(p));
      tr.addEventListener("keydown", (e) => e.key === "Enter" && e.target === tr && showOnlineDetail(p));
      return tr;
    }),
  );
}

$("activity-filter").addEventListener("change", render);
$("activity-search").addEventListener("input", render);
// The file is chosen in the desktop's dialog, then written at once; "Export" writes it again.
$("activity-export-choose").addEventListener("click", (event) =>
  busy(event.currentTarget, async () => {
    try {
      const path = await choosePath("save", {
        defaultPath: "toss-activity.csv",
        filters: [{ name: "CSV", extensions: ["csv"] }],
      });
      if (!path) return;
      $("activity-export").value = path;
      $("activity-export-form").requestSubmit();
    } catch (err) {
      say("activity-problem", `No file chosen: ${err}`);
    }
  }),
);
$("activity-export-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await busy($("activity-export-form").querySelector("button[type=submit]"), async () => {
    const path = $("activity-export").value.trim();
    if (!path) {
      say("activity-problem", "Choose the file to export to first.");
      return;
    }
    try {
      const n = await invoke("activity_export", { path });
      $("activity-exported").textContent = `${count(n, "payment")} written to ${path}.`;
      say("activity-problem", "");
    } catch (err) {
      $("activity-exported").textContent = "";
      say("activity-problem", String(err));
    }
  });
});
