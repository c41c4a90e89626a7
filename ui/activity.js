// Activity: every intent this wallet keeps, filtered and searched here (on what Rust
// listed), a detail view, and a CSV export written by Rust.
import { $, busy, count, invoke, listen, say, settings, showFields } from "./ipc.js";

let rows = [];

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
async function showOnlineDetail(signature) {
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
    $("detail-card").hidden = false;
    $("detail-card").scrollIntoView({ block: "nearest" });
  } catch (err) {
    say("activity-problem", `Could not read the payment: ${err}`);
  }
}

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
    renderOnline(await invoke("online_activity"));
    say("activity-problem", "");
  } catch (err) {
    say("activity-problem", `Could not read the activity: ${err}`);
  }
}

/** Payments made online (any wallet to this till, or "Pay now"), each with its Explorer link. */
function renderOnline(online) {
  $("online-card").hidden = online.length === 0;
  $("online-rows").replaceChildren(
    ...online.map((p) => {
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
      tr.addEventListener("click", (e) => e.target !== a && showOnlineDetail(p.signature));
      tr.addEventListener("keydown", (e) => e.key === "Enter" && e.target === tr && showOnlineDetail(p.signature));
      return tr;
    }),
  );
}

$("activity-filter").addEventListener("change", render);
$("activity-search").addEventListener("input", render);
$("activity-export-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await busy($("activity-export-form").querySelector("button"), async () => {
    const path = $("activity-export").value.trim();
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
