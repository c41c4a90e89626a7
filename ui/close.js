// Close of day: what the till took in a period (Rust's report: totals, fiat, what is still
// owed, every payment), printed alone or exported to a file chosen in the desktop's dialog.
import { $, busy, choosePath, count, invoke, say } from "./ipc.js";

/** The report shown, so Print and the exports cover exactly the period on screen. */
let report = null;

/** `at` (Unix seconds) as a datetime-local field takes it: local time, to the second. */
function fieldTime(at) {
  const d = new Date(at * 1000);
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** A datetime-local field's local time in Unix seconds (NaN when it holds none). */
const unixTime = (field) => Math.floor(new Date(field.value).getTime() / 1000);

const now = () => Math.floor(Date.now() / 1000);

/** A row of cells [text, class?, full?]: "—" for no value; `full` the whole of a shortened id, as its tooltip. */
function tableRow(cells) {
  const tr = document.createElement("tr");
  for (const [text, cls, full] of cells) {
    const td = document.createElement("td");
    td.textContent = text ?? "—";
    if (cls) td.className = cls;
    if (full) td.title = full;
    tr.append(td);
  }
  return tr;
}

/** An address or id cut to its first characters (the report's width; the exports hold it whole). */
const short = (id) => [id.length > 12 ? `${id.slice(0, 8)}…` : id, "id", id];

function showReport(r) {
  report = r;
  $("close-period").textContent = `From ${new Date(r.from * 1000).toLocaleString()} to ${new Date(r.to * 1000).toLocaleString()}`;
  $("close-totals-rows").replaceChildren(
    ...r.totals.map((t) =>
      tableRow([
        [t.currency],
        [String(t.payments)],
        [t.received_text, "amount"],
        [t.tips_text, "amount"],
        [t.refunds_text, "amount"],
        [t.net_text, "amount"],
        [t.settled_text, "amount"],
        [t.waiting_text, "amount"],
      ]),
    ),
  );
  $("close-fiat").hidden = r.fiat.length === 0;
  $("close-fiat-rows").replaceChildren(...r.fiat.map((f) => tableRow([[f.fiat], [f.amount_text, "amount"], [f.tips_text, "amount"]])));
  $("close-exposure").textContent = r.exposure_text;
  $("close-empty").hidden = r.rows.length > 0;
  $("close-rows-box").hidden = r.rows.length === 0;
  $("close-rows").replaceChildren(
    ...r.rows.map((p) =>
      tableRow([
        [new Date(p.time * 1000).toLocaleString()],
        [p.way],
        [p.amount_text, "amount"],
        [p.tip_text, "amount"],
        [p.fiat_text, "amount"],
        [p.rate_text],
        [p.refunded_text, "amount"],
        [p.state],
        short(p.payer),
        short(p.transaction ?? p.payment),
      ]),
    ),
  );
  $("close-exported").textContent = "";
  $("close-report").hidden = false;
}

/**
 * Writes the report shown to a file chosen in the save dialog, as CSV or JSON (Rust writes
 * it); a cancelled dialog writes nothing.
 */
async function exportReport(format) {
  const day = fieldTime(report.from).slice(0, 10);
  try {
    const path = await choosePath("save", {
      defaultPath: `toss-close-${day}.${format}`,
      filters: [{ name: format.toUpperCase(), extensions: [format] }],
    });
    if (!path) return;
    const n = await invoke("close_export", { from: report.from, to: report.to, format, path });
    $("close-exported").textContent = `${count(n, "payment")} written to ${path}.`;
    say("close-problem", "");
  } catch (err) {
    $("close-exported").textContent = "";
    say("close-problem", `Not exported: ${err}`);
  }
}

export function setupClose() {
  // "To" is now until the merchant picks another time: a close shown later still ends now.
  for (const id of ["close-from", "close-to"]) $(id).addEventListener("change", () => ($(id).dataset.touched = "yes"));
  $("close-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy($("close-form").querySelector("button[type=submit]"), async () => {
      if (!$("close-to").dataset.touched) $("close-to").value = fieldTime(now());
      const from = unixTime($("close-from"));
      const to = unixTime($("close-to"));
      if (Number.isNaN(from) || Number.isNaN(to)) {
        say("close-problem", "Choose when the period starts and when it ends.");
        return;
      }
      if (from >= to) {
        say("close-problem", "The period ends before it starts: choose a later end.");
        return;
      }
      try {
        showReport(await invoke("close_report", { from, to }));
        say("close-problem", "");
      } catch (err) {
        $("close-report").hidden = true;
        report = null;
        say("close-problem", `No report: ${err}`);
      }
    });
  });
  $("close-print").addEventListener("click", () => window.print());
  $("close-csv").addEventListener("click", (event) => busy(event.currentTarget, () => exportReport("csv")));
  $("close-json").addEventListener("click", (event) => busy(event.currentTarget, () => exportReport("json")));
}

/** The period offered first: today, from local midnight to now (unless the merchant chose another). */
export function loadClose() {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  if (!$("close-from").dataset.touched) $("close-from").value = fieldTime(midnight.getTime() / 1000);
  if (!$("close-to").dataset.touched) $("close-to").value = fieldTime(now());
}
