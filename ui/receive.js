// Receive (the till): an amount on a keypad, then a Solana Pay request as a QR code,
// offered over Bluetooth and NFC as well.
import { $, busy, chime, fillCurrencies, invoke, listen, say, separator, showFields } from "./ipc.js";

/** Where the sale stands after a handover (Rust's words), and why anything was refused. */
function describe(got) {
  const refused = [...new Set(got.intents.filter((i) => i.refused).map((i) => i.refused))];
  return `Sale ${got.sale} (code ${got.verification_code})` +
    (refused.length ? `; refused: ${refused.join("; ")}` : "");
}

/** What a Bluetooth or NFC handover brought: said, and the receipt for every payment kept. */
async function received(got) {
  $("receive-status").textContent = describe(got);
  const kept = got.intents.filter((i) => i.id).map((i) => i.id);
  if (kept.length) chime();
  if (kept.length) await showReceipt("receipt", { ids: kept });
}

/** A new sale or a new wait: the last customer's payment and receipt leave the screen. */
function clearSale() {
  $("received-card").hidden = true;
  $("receipt-card").hidden = true;
}

function showReceived(checked) {
  showFields($("received-fields"), [
    ["From", checked.payer],
    ["Amount", checked.amount_text],
    ["Memo", checked.memo ?? "—"],
    ["Payment id", checked.id],
    ["Code", checked.sealed ? "sealed to this till" : "not encrypted (the payer's code could be read by anyone filming it)"],
  ]);
  $("received-card").hidden = false;
  $("received-card").scrollIntoView({ block: "nearest" });
}

/**
 * The receipt Rust makes (`receipt` for payments taken offline, `online_receipt` for one
 * seen on chain): the total, each payment, their codes.
 */
async function showReceipt(command, args) {
  try {
    const r = await invoke(command, args);
    const lines = r.payments.flatMap((p) => [
      ["Paid by", p.payer],
      ["Amount", p.amount_text],
      ["Memo", p.memo ?? "—"],
      ["Accepted", new Date(p.verified_at * 1000).toLocaleString()],
      ["Payment id", p.id],
    ]);
    showFields($("receipt-fields"), [["Paid to", r.payee], ["Total", r.total_text], ...lines]);
    $("receipt-qr").replaceChildren(
      ...r.payments.map((p) => {
        const code = document.createElement("div");
        code.innerHTML = p.qr_svg; // SVG rendered by Rust from the receipt URI
        code.dataset.uri = p.uri;
        return code;
      }),
    );
    $("receipt-card").hidden = false;
  } catch (err) {
    $("receipt-card").hidden = true;
    $("receive-status").textContent = `No receipt: ${err}`;
  }
}

/** While the sale is shown, Rust watches the cluster for a payment made online by any wallet. */
function watchOnline() {
  $("online-paid").hidden = true;
  $("online-status").textContent = "Waiting for the payment: online from any Solana wallet, or offline.";
  invoke("sale_watch").catch((err) => {
    $("online-status").textContent = `Online payments are not being watched: ${err}`;
  });
}

export function setupReceive() {
  listen("sale", (e) => {
    if (e.stage === "paid-online") {
      $("online-status").textContent = `Paid online: ${e.amount_text} from ${e.payer} (${e.sale}).`;
      $("online-explorer").href = e.explorer;
      $("online-paid").hidden = false;
      chime();
      showReceipt("online_receipt", { signature: e.signature });
    } else if (e.stage === "live") {
      // Said quietly: how the till hears of payments, not news for the customer.
      $("online-status").dataset.live = String(e.live);
    } else if (e.stage === "refused") {
      $("online-status").textContent = `A transaction for this sale does not pay it: ${e.reason}. Still waiting.`;
    } else {
      $("online-status").textContent = `Online payments cannot be seen now (${e.message}); still waiting.`;
    }
  });

  $("receipt-print").addEventListener("click", () => window.print());

  $("receive-file-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy($("receive-file-form").querySelector("button"), async () => {
      clearSale();
      $("receive-status").textContent = "";
      try {
        const scanned = await invoke("scan_image", { path: $("receive-file").value.trim() });
        if (scanned.kind !== "intent" && scanned.kind !== "sealed") throw new Error("that code is not a signed payment");
        const checked = await invoke("receive_intent", { hex: scanned.hex });
        chime();
        showReceived(checked);
        $("receive-status").textContent = `Sale ${checked.sale}`;
        await showReceipt("receipt", { ids: [checked.id] });
      } catch (err) {
        $("receive-status").textContent = String(err);
      }
    });
  });

  const amount = $("receive-amount");
  for (const key of document.querySelectorAll(".keypad button")) {
    key.addEventListener("click", () => {
      const k = key.dataset.key;
      if (k === "back") amount.value = amount.value.slice(0, -1);
      else if (k !== ".") amount.value += k;
      else if (!amount.value.includes(separator())) amount.value += separator();
      amount.focus();
    });
  }

  $("receive-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy($("receive-form").querySelector("button[type=submit]"), async () => {
      clearSale();
      $("receive-status").textContent = "";
      try {
        const status = await invoke("wallet_status");
        const payee = status.accounts[0]?.address;
        if (!payee) throw new Error("create or import an account first");
        const r = await invoke("request_create", {
          to: payee,
          amount: amount.value.trim(),
          currency: $("receive-currency").value || null,
          label: $("receive-label").value.trim() || null,
          message: $("receive-message").value.trim() || null,
        });
        $("request-qr").innerHTML = r.qr_svg; // SVG rendered by Rust
        $("request-url").textContent = r.url;
        $("request-card").hidden = false;
        say("receive-problem", "");
        watchOnline();
      } catch (err) {
        $("request-card").hidden = true;
        say("receive-problem", String(err));
      }
    });
  });

  listen("handover", (e) => {
    if (e.stage === "confirm") return; // the payer's question, not the till's
    if (e.stage === "code") {
      $("receive-status").textContent = `Secure session, code ${e.code}: a payer who did not scan this sale's code checks it shows the same.`;
      return;
    }
    const where = e.transport === "ble" ? "Bluetooth" : "the NFC reader";
    $("receive-status").textContent =
      e.stage === "waiting" ? `Waiting on ${where}…` : `Connected on ${where}: checking the payment…`;
  });

  $("receive-ble").addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      clearSale();
      try {
        const label = $("receive-label").value.trim() || "TOSS";
        await received(await invoke("ble_receive", { name: label }));
      } catch (err) {
        $("receive-status").textContent = `Bluetooth: ${err}`;
      }
    }),
  );

  $("receive-nfc").addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      clearSale();
      try {
        await received(await invoke("nfc_receive", {}));
      } catch (err) {
        $("receive-status").textContent = `NFC: ${err}`;
      }
    }),
  );
}

/** The keypad's decimal key shows the separator the settings choose; the currencies are the cluster's. */
export function loadReceive() {
  fillCurrencies($("receive-currency"));
  const key = document.querySelector('.keypad button[data-key="."]');
  key.textContent = separator();
  key.setAttribute("aria-label", separator() === "," ? "Decimal comma" : "Decimal point");
}
