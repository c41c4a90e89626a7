// Pay: read the merchant's request from the webcam, an image file or the clipboard.
import { $, busy, invoke, listen, say, units } from "./ipc.js";

function showScanned(scanned) {
  const fields = $("pay-fields");
  fields.replaceChildren();
  const add = (label, value) => {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    fields.append(dt, dd);
  };
  if (scanned.kind === "payment-request") {
    const r = scanned.request;
    add("What", "A payment request");
    add("Pay to", r.recipient);
    add("Amount", r.amount ? `${r.amount} ${r.spl_token ? "tokens" : "SOL"}` : "you choose");
    if (r.label) add("Label", r.label);
    if (r.message) add("Message", r.message);
    add("Offline payment", r.offline ? "accepted" : "not offered");
  } else if (scanned.kind === "intent") {
    add("What", "A signed payment");
    add("From", scanned.payer);
    add("To", scanned.payee);
    add("Amount", `${units(scanned.amount)} ${scanned.mint ? "tokens" : "SOL"}`);
  } else {
    add("What", "A code TOSS does not use");
    add("Text", scanned.text ?? "(binary)");
  }
  $("pay-result").hidden = false;
  say("pay-problem", "");
}

function stopped() {
  $("pay-scan").hidden = false;
  $("pay-scan-stop").hidden = true;
  $("pay-preview").hidden = true;
}

export function setupPay() {
  listen("scan", (e) => {
    if (e.kind === "preview") {
      $("pay-preview").src = e.png;
      $("pay-preview").hidden = false;
    } else if (e.kind === "progress") {
      $("pay-progress").textContent = `Reading an animated code: ${e.seen} parts seen, about ${e.total} needed`;
    } else if (e.kind === "code") {
      stopped();
      $("pay-progress").textContent = "";
      showScanned(e.scanned);
    } else if (e.kind === "unreadable") {
      $("pay-progress").textContent = `That code cannot be used: ${e.message}`;
    } else if (e.kind === "failed") {
      stopped();
      say("pay-problem", e.message);
    }
  });

  const cameras = $("pay-camera");
  invoke("cameras")
    .then((list) => {
      cameras.replaceChildren(
        ...list.map((c) => {
          const o = document.createElement("option");
          o.value = String(c.index);
          o.textContent = c.name;
          return o;
        }),
      );
      if (!list.length) {
        $("pay-scan").disabled = true;
        cameras.append(new Option("no camera found", ""));
      }
    })
    .catch((err) => {
      $("pay-scan").disabled = true;
      cameras.append(new Option(`cameras unavailable: ${err}`, ""));
    });

  $("pay-scan").addEventListener("click", async () => {
    $("pay-result").hidden = true;
    await invoke("scan_start", { camera: Number(cameras.value), mirror: $("pay-mirror").checked });
    $("pay-scan").hidden = true;
    $("pay-scan-stop").hidden = false;
  });
  $("pay-scan-stop").addEventListener("click", async () => {
    await invoke("scan_stop");
    stopped();
  });

  $("pay-file-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy($("pay-file-form").querySelector("button[type=submit]"), async () => {
      try {
        showScanned(await invoke("scan_image", { path: $("pay-file").value.trim() }));
      } catch (err) {
        $("pay-result").hidden = true;
        say("pay-problem", String(err));
      }
    });
  });
  $("pay-clipboard").addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      try {
        showScanned(await invoke("scan_clipboard"));
      } catch (err) {
        $("pay-result").hidden = true;
        say("pay-problem", String(err));
      }
    }),
  );
}
