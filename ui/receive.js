// Receive (the till): an amount on a keypad, then a Solana Pay request as a QR code,
// offered over Bluetooth and NFC as well.
import { $, busy, chime, choosePath, fillCurrencies, invoke, listen, say, separator, settings, showFields } from "./ipc.js";

/** The images the till reads a payer's code from (what Rust decodes). */
const IMAGES = [{ name: "Images", extensions: ["png", "jpg", "jpeg"] }];

/** The fiat currency the settings price in, or null when they price in SOL or USDC only. */
function fiatOffered() {
  const fiat = settings.config?.fiat_currency;
  return fiat && fiat !== "none" ? fiat : null;
}

/** The fiat currency this sale is priced in, or null when it is priced in the currency paid. */
function pricedInFiat() {
  return fiatOffered() && $("receive-price-in").value === "fiat" ? fiatOffered() : null;
}

/** What the amount and a custom tip are typed in: the fiat currency, or the one paid. */
function showUnits() {
  const paid = $("receive-currency").value || "SOL";
  const unit = pricedInFiat() ?? paid;
  $("receive-price-in").options[1].textContent = paid;
  $("receive-amount-unit").textContent = fiatOffered() ? ` in ${unit}` : "";
  $("receive-tip-unit").textContent = unit;
}

/** Counts the rates asked, so an answer overtaken by a newer question is dropped. */
let rateAsked = 0;

/**
 * Pricing in fiat: the rate Rust converts at, its age and where it comes from. A rate too old
 * for the settings (or none at all) is refused with Rust's reason, and the price goes back to
 * the currency paid, as the merchant then has to type it.
 */
async function showRate() {
  const asked = ++rateAsked;
  $("receive-rate").hidden = true;
  showUnits();
  const fiat = pricedInFiat();
  if (!fiat) return;
  say("receive-rate-problem", "");
  const currency = $("receive-currency").value || "SOL";
  let refused;
  try {
    const rate = await invoke("price_rate", { currency, fiat });
    if (asked !== rateAsked) return;
    if (rate.usable) {
      $("receive-rate").textContent = `${rate.rate_text} (${rate.age_text}; ${rate.source})`;
      $("receive-rate").hidden = false;
      say("receive-rate-problem", "");
      return;
    }
    refused = rate.why;
  } catch (err) {
    if (asked !== rateAsked) return;
    refused = String(err);
  }
  $("receive-price-in").value = "crypto";
  showUnits();
  say("receive-rate-problem", `Not priced in ${fiat} (${refused}): type the price in ${currency}.`);
}

/** The tip choices the settings offer: none, each percent of `tip_percents`, or an amount typed. */
function showTips() {
  const offered = Boolean(settings.config?.tips);
  $("receive-tips").hidden = !offered;
  if (!offered) return;
  const percents = String(settings.config.tip_percents ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => /^\d+$/.test(p));
  const choice = (tip, text, name) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "choice";
    b.dataset.tip = tip;
    b.textContent = text;
    if (name) b.setAttribute("aria-label", name);
    b.addEventListener("click", () => chooseTip(tip));
    return b;
  };
  $("receive-tip-choices").replaceChildren(
    choice("none", "No tip"),
    ...percents.map((p) => choice(p, `${p}\u00a0%`, `${p} percent tip`)),
    choice("custom", "Custom"),
  );
  chooseTip("none");
}

/** Marks `tip` ("none", a percent, or "custom") chosen; a custom tip asks for its amount. */
function chooseTip(tip) {
  for (const b of $("receive-tip-choices").children) b.setAttribute("aria-pressed", String(b.dataset.tip === tip));
  $("receive-tip-label").hidden = tip !== "custom";
  if (tip === "custom") $("receive-tip").focus();
}

/** The tip chosen, as `request_create` takes it: a whole percent or an amount, never both. */
function chosenTip() {
  const tip = $("receive-tip-choices").querySelector('[aria-pressed="true"]')?.dataset.tip ?? "none";
  if (!settings.config?.tips || tip === "none") return { tip: null, tipPercent: null };
  if (tip === "custom") return { tip: $("receive-tip").value.trim() || null, tipPercent: null };
  return { tip: null, tipPercent: Number(tip) };
}

/** The sale's terms as Rust worked them out, next to its code: what the customer pays and why. */
function showTerms(terms) {
  $("request-terms").hidden = !terms;
  if (!terms) return;
  showFields($("request-terms"), [
    ["Total", terms.total_text, "total"],
    ["Price", terms.price_text, "price"],
    ...(terms.tip_text ? [["Tip", terms.tip_text, "tip"]] : []),
    ...(terms.fiat_text ? [["Total in fiat", terms.fiat_text, "fiat"]] : []),
    ...(terms.rate_text ? [["Rate", terms.rate_age_text ? `${terms.rate_text} (${terms.rate_age_text})` : terms.rate_text, "rate"]] : []),
  ]);
}

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
      // A receipt given again after a refund says what went back (Rust's words and states).
      ...(p.refunds ?? []).filter((f) => f.state !== "failed").map((f) => ["Refunded", `${f.amount_text} (${f.state})`]),
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

  // The image is chosen in the desktop's dialog, then read at once; "Read it" reads it again.
  $("receive-file-choose").addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      try {
        const path = await choosePath("open", { filters: IMAGES });
        if (!path) return;
        $("receive-file").value = path;
        $("receive-file-form").requestSubmit();
      } catch (err) {
        $("receive-status").textContent = `No image chosen: ${err}`;
      }
    }),
  );

  $("receive-file-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy($("receive-file-form").querySelector("button[type=submit]"), async () => {
      clearSale();
      $("receive-status").textContent = "";
      const path = $("receive-file").value.trim();
      if (!path) {
        $("receive-status").textContent = "Choose the image with the payer's code first.";
        return;
      }
      try {
        const scanned = await invoke("scan_image", { path });
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
          fiat: pricedInFiat(),
          ...chosenTip(),
        });
        $("request-qr").innerHTML = r.qr_svg; // SVG rendered by Rust
        $("request-url").textContent = r.url;
        showTerms(r.terms);
        $("request-card").hidden = false;
        say("receive-problem", "");
        watchOnline();
      } catch (err) {
        $("request-card").hidden = true;
        say("receive-problem", String(err));
      }
    });
  });

  $("receive-price-in").addEventListener("change", () => {
    $("receive-price-in").dataset.touched = "yes"; // the merchant's choice outlasts a visit to another screen
    showRate();
  });
  $("receive-currency").addEventListener("change", showRate);

  $("customer-display").addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      try {
        await invoke("customer_display_open");
        say("receive-problem", "");
      } catch (err) {
        say("receive-problem", `The customer display did not open: ${err}`);
      }
    }),
  );

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

/**
 * The keypad's decimal key shows the separator the settings choose; the currencies are the
 * cluster's; a fiat currency in the settings is offered to price in (its rate read at once),
 * and their tips are offered.
 */
export function loadReceive() {
  fillCurrencies($("receive-currency"));
  const key = document.querySelector('.keypad button[data-key="."]');
  key.textContent = separator();
  key.setAttribute("aria-label", separator() === "," ? "Decimal comma" : "Decimal point");
  const fiat = fiatOffered();
  $("receive-price-label").hidden = !fiat;
  $("receive-price-in").options[0].textContent = fiat ?? "";
  if (!fiat) {
    $("receive-price-in").value = "crypto";
    say("receive-rate-problem", "");
  } else if (!$("receive-price-in").dataset.touched) {
    $("receive-price-in").value = "fiat";
  }
  showRate();
  showTips();
}
