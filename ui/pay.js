// Pay: read the merchant's request from the webcam, an image file or the clipboard.
import { $, busy, invoke, listen, say, settings, showFields } from "./ipc.js";

let request = null;
let requestUrl = null;
let frameTimer = null;
/** Where a request from another tool to sign goes (the Sign screen), given by setupPay's caller. */
let signRequested = () => {};

/** Shows the intent's codes, cycling through them when there are several, each for `ms`. */
function showFrames(frames, ms) {
  clearInterval(frameTimer);
  let at = 0;
  const draw = () => {
    $("pay-intent-qr").innerHTML = frames[at % frames.length]; // SVG rendered by Rust
    at += 1;
  };
  draw();
  if (frames.length > 1) frameTimer = setInterval(draw, ms); // the settings' frames per second
}

function showScanned(scanned) {
  if (scanned.kind === "sign-request") {
    // Not a payment: another tool asks this wallet to sign; the Sign screen says what it asks.
    $("pay-result").hidden = true;
    $("pay-intent").hidden = true;
    $("pay-tx").hidden = true;
    request = requestUrl = null;
    say("pay-problem", "");
    signRequested(scanned.ur);
    return;
  }
  let rows;
  if (scanned.kind === "payment-request") {
    const r = scanned.request;
    rows = [
      ["What", "A payment request"],
      ["Pay to", r.recipient],
      ["Amount", scanned.amount_text ?? "you choose"],
      ...(r.label ? [["Label", r.label]] : []),
      ...(r.message ? [["Message", r.message]] : []),
      ["Offline payment", r.offline ? "accepted" : "not offered"],
    ];
  } else if (scanned.kind === "transaction-request") {
    rows = [
      ["What", "A merchant's transaction request"],
      ["Merchant's server", scanned.link.url],
    ];
  } else if (scanned.kind === "intent") {
    rows = [
      ["What", "A signed payment"],
      ["From", scanned.payer],
      ["To", scanned.payee],
      ["Amount", scanned.amount_text],
    ];
  } else {
    rows = [
      ["What", "A code TOSS does not use"],
      ["Text", scanned.text ?? "(binary)"],
    ];
  }
  showFields($("pay-fields"), rows);
  $("pay-result").hidden = false;
  $("pay-intent").hidden = true;
  request = scanned.kind === "payment-request" ? scanned.request : null;
  requestUrl = scanned.url ?? null;
  // A request with its amount can be paid online at once, as any wallet would;
  // offline (the cluster did not answer), the signed code is the way to pay.
  const offline = $("online").dataset.online === "false";
  $("pay-now").hidden = !(request && request.amount) || offline;
  $("pay-now-result").hidden = true;
  $("pay-confirm").hidden = !request;
  if (request) {
    $("pay-amount").value = scanned.amount_input ?? "";
    $("pay-amount-unit").textContent = scanned.unit;
    $("pay-amount").readOnly = Boolean(request.amount);
    $("pay-confirm").querySelector("button").focus();
  }
  say("pay-problem", "");
  $("pay-tx").hidden = true;
  if (scanned.kind === "transaction-request") openTransactionRequest(requestUrl);
}

/** Asks the merchant's server for its transaction and shows what it does. */
async function openTransactionRequest(url) {
  $("pay-progress").textContent = "Asking the merchant's server…";
  try {
    const offer = await invoke("transaction_request_open", { url });
    if (url !== requestUrl) return; // another code was read meanwhile
    $("pay-tx-label").textContent = offer.label;
    $("pay-tx-icon").hidden = !offer.icon;
    if (offer.icon) $("pay-tx-icon").src = offer.icon;
    showFields($("pay-tx-fields"), [
      ["Pays", offer.amount_text],
      ["To", offer.recipient],
      ["Network fee", offer.fee_text],
      ...(offer.rent_text ? [["Rent for the account it opens", offer.rent_text]] : []),
      ...offer.memos.map((m) => ["Memo", m]),
      ...(offer.message ? [["The merchant says", offer.message]] : []),
      ["Asked of", offer.host],
    ]);
    $("pay-tx-passphrase-label").hidden = !settings.asked.payment;
    $("pay-tx-result").hidden = true;
    $("pay-tx-form").hidden = false;
    $("pay-tx").hidden = false;
  } catch (err) {
    say("pay-problem", String(err));
  } finally {
    $("pay-progress").textContent = "";
  }
}

function stopped() {
  $("pay-scan").hidden = false;
  $("pay-scan-stop").hidden = true;
  $("pay-preview").hidden = true;
}

let intent = null;

/**
 * What the radio session is bound to: the sale whose code was scanned, and the till's key it
 * named (Rust holds the till to it); with nothing scanned, the codes are compared instead.
 */
function binding() {
  return { reference: request?.references?.[0] ?? null, tillKey: request?.noise_key ?? null };
}

/** The payer's answer to "does the till show this code?", then the question goes. */
async function answerCode(same) {
  $("pay-code").hidden = true;
  try {
    await invoke("handover_confirm", { code: $("pay-code-value").textContent, same });
  } catch (err) {
    $("pay-status").textContent = String(err);
  }
}

async function handOver(how) {
  try {
    const paid = await how();
    const kept = paid.acknowledgement.entries.filter((e) => !e.refused).length;
    $("pay-status").textContent = kept
      ? `The merchant accepted the payment (code ${paid.verification_code}).`
      : `The merchant refused it: ${paid.acknowledgement.entries[0]?.refused}`;
  } catch (err) {
    $("pay-status").textContent = `Not handed over: ${err}`;
  } finally {
    $("pay-code").hidden = true; // a question left open by a failed handover goes
  }
}

/** Asks for the passphrase when the settings in force require it. */
export function loadPay() {
  const c = settings.config;
  $("pay-passphrase-label").hidden = !settings.asked.payment;
  // The settings' camera and mirror, unless the user chose otherwise here.
  const cameras = $("pay-camera");
  const named = [...cameras.options].find((o) => o.textContent === c?.camera);
  if (named && !cameras.dataset.touched) cameras.value = named.value;
  if (!$("pay-mirror").dataset.touched) $("pay-mirror").checked = Boolean(c?.camera_mirror);
}

/** `onSignRequest(ur)` opens a request to sign read here (camera, image or clipboard). */
export function setupPay(onSignRequest) {
  signRequested = onSignRequest;
  $("pay-now").addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      try {
        const paid = await invoke("pay_now", {
          url: requestUrl,
          passphrase: $("pay-passphrase").value || null,
        });
        $("pay-now-text").textContent = `${paid.amount_text} (transaction ${paid.signature})`;
        $("pay-now-explorer").href = paid.explorer;
        $("pay-now-result").hidden = false;
        say("pay-problem", "");
      } catch (err) {
        say("pay-problem", String(err));
      } finally {
        $("pay-passphrase").value = ""; // never kept on screen
      }
    }),
  );

  $("pay-tx-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy($("pay-tx-form").querySelector("button"), async () => {
      try {
        const paid = await invoke("transaction_request_pay", {
          url: requestUrl,
          passphrase: $("pay-tx-passphrase").value || null,
        });
        $("pay-tx-text").textContent = `${paid.amount_text} (transaction ${paid.signature})`;
        $("pay-tx-explorer").href = paid.explorer;
        $("pay-tx-result").hidden = false;
        $("pay-tx-form").hidden = true;
        say("pay-problem", "");
      } catch (err) {
        say("pay-problem", String(err));
      } finally {
        $("pay-tx-passphrase").value = ""; // never kept on screen
      }
    });
  });

  $("pay-confirm").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy($("pay-confirm").querySelector("button"), async () => {
      try {
        intent = await invoke("intent_create", {
          to: request.recipient,
          amount: $("pay-amount").value.trim(),
          mint: request.spl_token ?? null,
          reference: request.references?.[0] ?? null,
          memo: request.memo ?? null,
          tillKey: request.noise_key ?? null,
          passphrase: $("pay-passphrase").value || null,
        });
        showFrames(intent.frames, intent.frame_ms);
        $("pay-intent-sealed").textContent = intent.sealed
          ? "Encrypted for this merchant's till: only it can read this code."
          : "Not encrypted: the merchant's code named no till key, so anyone who films this code can read who pays, how much and the memo.";
        $("pay-intent").hidden = false;
        $("pay-intent").scrollIntoView({ block: "nearest" });
        $("pay-status").textContent = "";
        say("pay-problem", "");
      } catch (err) {
        say("pay-problem", String(err));
      } finally {
        $("pay-passphrase").value = ""; // never kept on screen
      }
    });
  });

  $("pay-ble").addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      $("pay-status").textContent = "Looking for the merchant nearby…";
      try {
        const devices = await invoke("ble_devices", { seconds: 4 });
        $("pay-status").textContent = devices.length ? "Choose the merchant:" : "No merchant found nearby.";
        $("pay-devices").replaceChildren(
          ...devices.map((d) => {
            const li = document.createElement("li");
            const b = document.createElement("button");
            b.type = "button";
            b.textContent = `${d.name ?? "Unnamed"} (${d.rssi ?? "?"} dBm)`;
            b.addEventListener("click", () =>
              busy(b, () => handOver(() => invoke("ble_pay", { device: d.id, intents: [intent.hex], ...binding() }))),
            );
            li.append(b);
            return li;
          }),
        );
      } catch (err) {
        $("pay-status").textContent = `Bluetooth: ${err}`;
      }
    }),
  );

  $("pay-nfc").addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      try {
        $("pay-status").textContent = "Put the merchant's phone on the reader…";
        await handOver(() => invoke("nfc_pay", { intents: [intent.hex], ...binding() }));
      } catch (err) {
        $("pay-status").textContent = `NFC: ${err}`;
      }
    }),
  );

  listen("handover", (e) => {
    if (e.stage !== "confirm") return;
    $("pay-code-value").textContent = e.code;
    $("pay-code").hidden = false;
    $("pay-status").textContent = "Compare the code with the merchant's screen before anything is sent.";
  });
  $("pay-code-same").addEventListener("click", () => answerCode(true));
  $("pay-code-differs").addEventListener("click", () => answerCode(false));

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
      loadPay(); // the settings' camera, now that the list is here
    })
    .catch((err) => {
      $("pay-scan").disabled = true;
      cameras.append(new Option(`cameras unavailable: ${err}`, ""));
    });

  cameras.addEventListener("change", () => (cameras.dataset.touched = "yes"));
  $("pay-mirror").addEventListener("change", () => ($("pay-mirror").dataset.touched = "yes"));
  $("pay-scan").addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      $("pay-result").hidden = true;
      try {
        // The resolution picked, or the camera's own when none is.
        const [width, height] = ($("pay-resolution").value || "x").split("x").map((v) => (v ? Number(v) : null));
        await invoke("scan_start", { camera: Number(cameras.value), width, height, mirror: $("pay-mirror").checked });
        $("pay-scan").hidden = true;
        $("pay-scan-stop").hidden = false;
        $("pay-scan-stop").focus();
        say("pay-problem", "");
      } catch (err) {
        say("pay-problem", `The camera did not start: ${err}`);
      }
    }),
  );
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
