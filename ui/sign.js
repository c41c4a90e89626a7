// Sign for another tool: the air-gapped laptop signs what another Solana tool prepared
// (Keystone's ur:sol-sign-request), and shows this wallet's accounts, watch-only, for a wallet
// online. Rust reads the request, says what it does, and signs only the one it opened.
import { $, busy, choosePath, invoke, say, settings, showFields } from "./ipc.js";

/** The images a request's code is read from (what Rust decodes). */
const IMAGES = [{ name: "Images", extensions: ["png", "jpg", "jpeg"] }];

/** What Rust said the opened request asks (null: none open, nothing to sign). */
let opened = null;

/** Sign is offered once a request is open and, when it does what this wallet cannot explain, that is confirmed. */
function offerSign() {
  $("sign-sign").disabled = !opened || (opened.unexplained && !$("sign-unexplained").checked);
}

function stepItem(step) {
  const li = document.createElement("li");
  li.textContent = step.text;
  li.dataset.explained = String(step.explained);
  if (!step.explained) {
    const flag = document.createElement("strong");
    flag.className = "flag";
    flag.textContent = "not explained by this wallet";
    li.append(" ", flag);
  }
  return li;
}

/** Shows what the request asks, as Rust described it; nothing is signed yet. */
function showRequest(r) {
  opened = r;
  const message = r.sign_type === "message";
  showFields($("sign-fields"), [
    ["What", message ? "A message to sign" : "A transaction to sign", "what"],
    ["Asked by", r.origin ? `“${r.origin}” (the requester's own words, not checked)` : "not named by the request", "origin"],
    ["Signing account", r.signer, "signer"],
    ...(r.fee_text ? [["Network fee", r.fee_text, "fee"]] : []),
  ]);
  $("sign-steps").replaceChildren(...r.steps.map(stepItem));
  $("sign-steps").hidden = $("sign-steps-title").hidden = r.steps.length === 0;
  $("sign-message").textContent = r.message_text ?? (message ? "This message is not text this wallet can show." : "");
  $("sign-message").hidden = $("sign-message-title").hidden = !message;
  $("sign-unexplained").checked = false;
  $("sign-unexplained-box").hidden = !r.unexplained;
  $("sign-passphrase-label").hidden = !settings.asked.payment;
  say("sign-problem", "");
  $("sign-request").hidden = false;
  offerSign();
  $("sign-request").scrollIntoView({ block: "nearest" });
  const title = $("sign-request-title");
  title.tabIndex = -1;
  title.focus({ preventScroll: true });
}

/**
 * Opens the request `text` (a UR pasted, or read from a code): what Rust says it asks is shown,
 * or why it is refused. The answer to an earlier request leaves the screen either way.
 */
export async function openSignRequest(text) {
  $("sign-text").value = text;
  opened = null;
  $("sign-request").hidden = true;
  $("sign-answer").hidden = true;
  say("sign-open-problem", "");
  const open = $("sign-open");
  const image = $("sign-image");
  open.disabled = image.disabled = true;
  try {
    showRequest(await invoke("sign_request_open", { text }));
  } catch (err) {
    say("sign-open-problem", String(err));
  } finally {
    open.disabled = image.disabled = false;
  }
}

/** The passphrase asked as for a payment, when the settings in force require it. */
export function loadSign() {
  $("sign-passphrase-label").hidden = !settings.asked.payment;
}

export function setupSign() {
  $("sign-open-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("sign-text").value.trim();
    if (!text) {
      say("sign-open-problem", "Paste the request's text first, or choose an image of its code.");
      return;
    }
    await openSignRequest(text);
  });

  // The image is chosen in the desktop's dialog; its code must be a request to sign.
  $("sign-image").addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      try {
        const path = await choosePath("open", { filters: IMAGES });
        if (!path) return;
        const scanned = await invoke("scan_image", { path });
        if (scanned.kind !== "sign-request") {
          say("sign-open-problem", "That code is not a request to sign.");
          return;
        }
        await openSignRequest(scanned.ur);
      } catch (err) {
        say("sign-open-problem", String(err));
      }
    }),
  );

  $("sign-unexplained").addEventListener("change", offerSign);

  $("sign-request").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!opened || $("sign-sign").disabled) return;
    await busy($("sign-sign"), async () => {
      try {
        const answer = await invoke("sign_request_sign", {
          confirmedUnexplained: $("sign-unexplained").checked, // unticked (and not offered) when all is explained
          passphrase: $("sign-passphrase").value || null,
        });
        $("sign-answer-qr").innerHTML = answer.qr_svg; // SVG rendered by Rust
        $("sign-answer-ur").textContent = answer.ur;
        $("sign-answer-copied").textContent = "";
        $("sign-answer-copy").hidden = !navigator.clipboard;
        $("sign-answer").hidden = false;
        $("sign-answer").scrollIntoView({ block: "nearest" });
        say("sign-problem", "");
      } catch (err) {
        $("sign-answer").hidden = true;
        say("sign-problem", String(err));
      } finally {
        $("sign-passphrase").value = ""; // never kept on screen
      }
    });
    offerSign(); // busy gives the button back; an unconfirmed request keeps it off
  });

  $("sign-answer-copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("sign-answer-ur").textContent);
      $("sign-answer-copied").textContent = "Copied.";
    } catch (err) {
      $("sign-answer-copied").textContent = `Not copied: ${err}`;
    }
  });

  $("sign-accounts").addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      try {
        const shown = await invoke("accounts_ur");
        $("sign-accounts-qr").innerHTML = shown.qr_svg; // SVG rendered by Rust
        $("sign-accounts-fingerprint").textContent = shown.fingerprint;
        $("sign-accounts-ur").textContent = shown.ur;
        $("sign-accounts-list").replaceChildren(
          ...shown.accounts.map((a) => {
            const li = document.createElement("li");
            const label = document.createElement("strong");
            label.textContent = a.label;
            const address = document.createElement("code");
            address.className = "address";
            address.textContent = a.address;
            const path = document.createElement("span");
            path.className = "muted path";
            path.textContent = a.path ?? "no derivation path";
            li.append(label, " ", address, " ", path);
            return li;
          }),
        );
        $("sign-accounts-shown").hidden = false;
        say("sign-accounts-problem", "");
      } catch (err) {
        $("sign-accounts-shown").hidden = true;
        say("sign-accounts-problem", String(err));
      }
    }),
  );
}
