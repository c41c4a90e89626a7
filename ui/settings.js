// Settings: what is in force, and a form to change the settings file.
import { $, busy, invoke, say, showFields } from "./ipc.js";

export const SETTING_LABELS = {
  cluster: "Cluster",
  rpc_url: "RPC URL",
  program_id: "TOSS program",
  arcium_mxe_program_id: "Arcium MXE program",
  fee_payer: "Fee payer keypair",
  max_settlement_retries: "Settlement retries",
  default_intent_expiry_seconds: "Intent expiry (s)",
  require_biometric_for_nonce: "Confirm presence for nonces",
  require_biometric_for_intent: "Confirm presence for payments",
  retention_days: "Days finished payments are kept",
  genesis_hash: "Cluster genesis hash",
  camera: "Camera (empty: the first)",
  camera_mirror: "Mirror the camera",
  ble_adapter: "Bluetooth adapter (empty: the first)",
  nfc_reader: "NFC reader (empty: the first connected)",
  decimal_separator: "Decimal separator in amounts",
  theme: "Theme",
  keystore: "Where keys are kept",
  max_intents_per_handover: "Most payments in one handover",
  min_payment_sol: "Smallest SOL payment taken offline",
  min_payment_usdc: "Smallest USDC payment taken offline",
  commitment: "Online payments shown paid once",
  signature_check: "Payers' signatures checked by",
  qr_fragment_bytes: "Bytes per frame of an animated code",
  qr_frames_per_second: "Frames per second of an animated code",
  sound: "A sound when the till takes a payment",
  fiat_currency: "Fiat currency to price sales in",
  max_rate_age_seconds: "Oldest exchange rate used (s)",
  tips: "Offer tips at the till",
  tip_percents: "Tip percentages offered",
  notifications: "A desktop notification when a payment is verified or confirmed",
  unexplained_instructions: "Requests to sign with steps this wallet cannot explain",
};

/** Chosen once, at set-up: keys already kept in one storage are not moved to another. */
const FIXED = { keystore: "Chosen when the wallet was set up; keys are not moved between storages." };

const CHOICES = {
  cluster: ["devnet", "testnet", "mainnet-beta", "localnet"],
  require_biometric_for_nonce: ["true", "false"],
  require_biometric_for_intent: ["true", "false"],
  camera_mirror: ["false", "true"],
  sound: ["true", "false"],
  fiat_currency: ["none", "USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD"],
  tips: ["true", "false"],
  notifications: ["true", "false"],
  decimal_separator: ["point", "comma"],
  theme: ["system", "light", "dark"],
  commitment: ["confirmed", "finalized"],
  signature_check: ["auto", "precompile", "program"],
  unexplained_instructions: ["confirm", "refuse"],
};

/** Devices Rust finds now, offered as suggestions (any name may still be typed). */
const DEVICES = {
  camera: () => invoke("cameras").then((list) => list.map((c) => c.name)),
  nfc_reader: () => invoke("nfc_readers"),
};

function suggest(input, key) {
  const list = document.createElement("datalist");
  list.id = `settings-${key}-devices`;
  input.setAttribute("list", list.id);
  DEVICES[key]()
    .then((names) => list.replaceChildren(...names.map((n) => new Option(n))))
    .catch(() => {}); // no devices to suggest; typing still works
  return list;
}

/** Shows `config` (the settings in force) in the list and the form. */
export function renderSettings(config, schema) {
  showFields(
    $("settings"),
    Object.entries(SETTING_LABELS).map(([key, label]) => [
      label,
      config[key] === null || config[key] === undefined ? "not set" : String(config[key]),
      key,
    ]),
  );
  if (!schema) return;
  const fields = $("settings-fields");
  fields.replaceChildren(
    ...schema.map((s) => {
      const label = document.createElement("label");
      label.textContent = SETTING_LABELS[s.key] ?? s.key;
      const current = config[s.key] === null || config[s.key] === undefined ? "" : String(config[s.key]);
      let input;
      if (CHOICES[s.key]) {
        input = document.createElement("select");
        for (const c of CHOICES[s.key]) input.append(new Option(c, c, false, c === current));
      } else {
        input = document.createElement("input");
        input.value = current;
        input.autocomplete = "off";
        if (DEVICES[s.key]) label.append(suggest(input, s.key));
      }
      input.name = s.key;
      input.dataset.original = current;
      const hint = document.createElement("small");
      hint.className = "muted";
      hint.textContent = s.overridden
        ? `Set by the environment variable ${s.env}; change it there.`
        : (FIXED[s.key] ?? `Allowed: ${s.allowed}`);
      input.disabled = s.overridden || s.key in FIXED;
      label.append(input, hint);
      return label;
    }),
  );
}

export function setupSettings(onSaved) {
  $("program-check").addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      $("program-status").textContent = "";
      try {
        const c = await invoke("program_check");
        $("program-status").textContent = c.bundled ? `${c.program_id}: ${c.text}` : "";
        say("program-warning", c.bundled ? "" : `${c.program_id}: ${c.text}`);
      } catch (err) {
        say("program-warning", String(err));
      }
    }),
  );
  $("settings-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy($("settings-form").querySelector("button[type=submit]"), async () => {
      const changes = [...$("settings-fields").querySelectorAll("input, select")]
        .filter((i) => !i.disabled && i.value.trim() !== i.dataset.original)
        .map((i) => [i.name, i.value.trim() || null]);
      if (!changes.length) {
        $("settings-saved").textContent = "Nothing to save.";
        return;
      }
      try {
        const config = await invoke("settings_save", { changes });
        say("settings-problem", "");
        $("settings-saved").textContent = `Saved: ${changes.map(([k]) => SETTING_LABELS[k] ?? k).join(", ")}.`;
        onSaved(config);
      } catch (err) {
        $("settings-saved").textContent = "";
        say("settings-problem", `Not saved: ${err}`);
      }
    });
  });
}

export function setupPassphrase() {
  $("passphrase-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy($("passphrase-form").querySelector("button"), async () => {
      $("passphrase-saved").textContent = "";
      try {
        if ($("passphrase-new").value !== $("passphrase-again").value) {
          say("passphrase-problem", "The two new passphrases differ.");
          return;
        }
        await invoke("gate_set_passphrase", {
          current: $("passphrase-current").value || null,
          passphrase: $("passphrase-new").value,
        });
        say("passphrase-problem", "");
        $("passphrase-saved").textContent = "Passphrase set.";
      } catch (err) {
        say("passphrase-problem", String(err));
      } finally {
        for (const id of ["passphrase-current", "passphrase-new", "passphrase-again"]) $(id).value = "";
      }
    });
  });
}

const METRIC_LABELS = [
  ["intents_created", "Payments signed", (v) => String(v)],
  ["intents_settled", "Settled on-chain", (v) => String(v)],
  ["intents_not_settled", "Ended without settling", (v) => String(v)],
  ["success_rate", "Success rate", (v) => (v === null ? "—" : `${v.toFixed(1)} %`)],
  ["average_settlement_seconds", "Average time to settle", (v) => (v === null ? "—" : `${Math.round(v)} s`)],
  ["gate_failures", "Passphrase refusals", (v) => String(v)],
  ["network_errors", "Times the cluster was unreachable", (v) => String(v)],
  ["confidentiality_downgrades", "Settled without confidentiality", (v) => String(v)],
  ["online_payments", "Paid online by any wallet", (v) => String(v)],
  ["records_closed", "Settlement records closed", (v) => String(v)],
  ["rent_reclaimed_lamports", "Rent taken back (lamports)", (v) => String(v)],
];

export async function loadMetrics() {
  const dl = $("metrics");
  try {
    const m = await invoke("metrics");
    showFields(
      dl,
      METRIC_LABELS.map(([key, label, show]) => [label, show(m[key]), key]),
    );
  } catch (err) {
    dl.replaceChildren(document.createTextNode(`Metrics unavailable: ${err}`));
  }
}
