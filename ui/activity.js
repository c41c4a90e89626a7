// Activity: every intent this wallet keeps, with its state.
import { $, invoke, say, units } from "./ipc.js";

export async function loadActivity() {
  try {
    const rows = await invoke("activity");
    $("activity-empty").hidden = rows.length > 0;
    $("activity-table").hidden = rows.length === 0;
    $("activity-rows").replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement("tr");
        const other = r.direction === "sent" ? r.payee : r.payer;
        for (const text of [r.direction, `${units(r.amount)} ${r.mint ? "tokens" : "SOL"}`, other, r.state]) {
          const td = document.createElement("td");
          td.textContent = text;
          tr.append(td);
        }
        tr.dataset.id = r.id;
        return tr;
      }),
    );
    say("activity-problem", "");
  } catch (err) {
    say("activity-problem", `Could not read the activity: ${err}`);
  }
}
