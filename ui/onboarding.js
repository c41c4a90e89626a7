// Onboarding: create a wallet (the phrase shown once, then checked) or import one; then
// choose the cluster and, if wanted, the passphrase asked before each payment.
import { $, busy, choosePath, invoke, say, settings } from "./ipc.js";

/** Three distinct word positions to ask for, in order. */
function pick(count) {
  const chosen = new Set();
  while (chosen.size < 3) chosen.add(Math.floor(Math.random() * count));
  return [...chosen].sort((a, b) => a - b);
}

/** The last step: the cluster (unless the environment sets it) and the payment passphrase. */
async function showSetup() {
  for (const id of ["create-form", "import-form"]) $(id).hidden = true;
  const cluster = $("setup-cluster");
  cluster.value = settings.config?.cluster ?? "devnet";
  try {
    const fixed = (await invoke("settings_schema")).find((s) => s.key === "cluster" && s.overridden);
    cluster.disabled = Boolean(fixed);
    $("setup-cluster-note").textContent = fixed ? `Set by the environment variable ${fixed.env}.` : "";
    $("setup-cluster-note").hidden = !fixed;
  } catch {
    // the settings problem is already shown at the top
  }
  $("setup-card").hidden = false;
  cluster.focus();
}

/**
 * Offers the encrypted key file: when this computer has no usable keychain (a create or import
 * failed for that reason), or when the settings chose the file and none exists yet.
 */
export function offerKeyFile(reason) {
  $("keyfile-card").hidden = false;
  if (reason) $("wallet-state").textContent = reason;
}

/** What a failed create or import says, and the key file offered when the keychain is at fault. */
function failed(what, err) {
  $("wallet-state").textContent = `${what}: ${err}`;
  if (err?.kind === "keychain") offerKeyFile();
}

export function setupOnboarding(done, onSaved) {
  let words = [];

  $("keyfile-card").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(event.submitter, async () => {
      try {
        if ($("keyfile-new").value !== $("keyfile-again").value) throw new Error("The two passphrases differ.");
        const passphrase = $("keyfile-new").value;
        // Chosen by the settings already: create it; else choose it now.
        if (settings.config?.keystore === "file") await invoke("keys_unlock", { passphrase });
        else await onSaved(await invoke("keys_use_file", { passphrase }));
        say("keyfile-problem", "");
        $("keyfile-card").hidden = true;
        $("setup-gate-row").hidden = true;
        $("wallet-state").textContent = "The keys will be kept in the encrypted file. Now create or import the wallet.";
      } catch (err) {
        say("keyfile-problem", err instanceof Error ? err.message : String(err));
      } finally {
        for (const id of ["keyfile-new", "keyfile-again"]) $(id).value = "";
      }
    });
  });

  $("setup-gate").addEventListener("change", () => {
    $("setup-passphrase").hidden = !$("setup-gate").checked;
  });
  $("setup-card").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(event.submitter, async () => {
      const cluster = $("setup-cluster");
      try {
        // The cluster first: saved, a retry after a passphrase problem does not redo it.
        if (settings.config && !cluster.disabled && cluster.value !== settings.config.cluster) {
          await onSaved(await invoke("settings_save", { changes: [["cluster", cluster.value]] }));
        }
        if ($("setup-gate").checked) {
          if ($("setup-passphrase-new").value !== $("setup-passphrase-again").value) {
            throw new Error("The two passphrases differ.");
          }
          await invoke("gate_set_passphrase", { current: null, passphrase: $("setup-passphrase-new").value });
          await onSaved(await invoke("settings_save", { changes: [["require_biometric_for_intent", "true"]] }));
        }
        say("setup-problem", "");
        $("setup-card").hidden = true;
        done();
      } catch (err) {
        say("setup-problem", err instanceof Error ? err.message : String(err));
      } finally {
        for (const id of ["setup-passphrase-new", "setup-passphrase-again"]) $(id).value = "";
      }
    });
  });

  $("create-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(event.submitter ?? $("create-form").querySelector("button"), async () => {
      try {
        const created = await invoke("wallet_create", {
          label: $("create-label").value.trim(),
          words: Number($("create-words").value),
        });
        words = created.words;
        const list = $("phrase-words");
        list.replaceChildren(
          ...words.map((w) => {
            const li = document.createElement("li");
            li.textContent = w;
            return li;
          }),
        );
        $("wallet-state").textContent = `Account created: ${created.account.address}`;
        $("phrase-card").hidden = false;
        $("phrase-written").focus();
      } catch (err) {
        failed("Could not create the wallet", err);
      }
    });
  });

  $("phrase-written").addEventListener("click", () => {
    // The words leave the screen before the check.
    $("phrase-words").replaceChildren();
    $("phrase-card").hidden = true;
    const inputs = $("confirm-inputs");
    inputs.replaceChildren(
      ...pick(words.length).map((i) => {
        const label = document.createElement("label");
        label.textContent = `Word ${i + 1} `;
        const input = document.createElement("input");
        input.dataset.index = String(i);
        input.autocomplete = "off";
        input.spellcheck = false;
        input.required = true;
        label.append(input);
        return label;
      }),
    );
    $("confirm-card").hidden = false;
    inputs.querySelector("input")?.focus();
  });

  $("confirm-card").addEventListener("submit", (event) => {
    event.preventDefault();
    const wrong = [...$("confirm-inputs").querySelectorAll("input")].filter(
      (input) => input.value.trim().toLowerCase() !== words[Number(input.dataset.index)],
    );
    if (wrong.length) {
      say("confirm-problem", `Word ${Number(wrong[0].dataset.index) + 1} does not match your phrase. Look at your copy again.`);
      return;
    }
    words = [];
    say("confirm-problem", "");
    $("confirm-card").hidden = true;
    showSetup();
  });

  // The keypair file is chosen in the desktop's dialog, then imported at once; typing a
  // phrase afterwards means the phrase is meant.
  $("import-keypair-choose").addEventListener("click", (event) =>
    busy(event.currentTarget, async () => {
      try {
        const path = await choosePath("open", { filters: [{ name: "Solana CLI keypair", extensions: ["json"] }] });
        if (!path) return;
        $("import-keypair").value = path;
        $("import-form").requestSubmit();
      } catch (err) {
        $("wallet-state").textContent = `No file chosen: ${err}`;
      }
    }),
  );
  $("import-phrase").addEventListener("input", () => ($("import-keypair").value = ""));

  $("import-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(event.submitter ?? $("import-form").querySelector("button[type=submit]"), async () => {
      const label = $("import-label").value.trim();
      const keypair = $("import-keypair").value.trim();
      try {
        const account = keypair
          ? await invoke("wallet_import_keypair", { label, path: keypair })
          : await invoke("wallet_import_phrase", {
              label,
              phrase: $("import-phrase").value,
              passphrase: $("import-passphrase").value || null,
            });
        $("import-phrase").value = "";
        $("import-passphrase").value = "";
        $("wallet-state").textContent = `Account imported: ${account.address}`;
        showSetup();
      } catch (err) {
        failed("Could not import", err);
      }
    });
  });
}
