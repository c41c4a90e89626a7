// The only way the UI talks to Rust: commands and events. No wallet logic here.
/**
 * A command's failure as Rust sends it (`{kind, message}`): it reads as its message wherever
 * it is shown, and `kind` (unreachable, gate, keychain, locked, settings, no-account, failed) says
 * what sort of failure it was.
 */
export class CommandError extends Error {
  constructor({ kind, message }) {
    super(message);
    this.kind = kind;
  }

  toString() {
    return this.message;
  }
}

export const invoke = (cmd, args) =>
  window.__TAURI__.core.invoke(cmd, args).catch((e) => {
    const error = e && typeof e === "object" && "kind" in e && "message" in e ? new CommandError(e) : e;
    // The key file was locked under the window (its passphrase changed elsewhere): ask again.
    if (error?.kind === "locked") window.dispatchEvent(new Event("toss-locked"));
    throw error;
  });
export const listen = (event, handler) => window.__TAURI__.event.listen(event, (e) => handler(e.payload));
export const $ = (id) => document.getElementById(id);

/**
 * A path chosen in the desktop's own file dialog (`how`: "open" to read a file, "save" to write
 * one; `options` as Tauri's dialog plugin takes them: filters, defaultPath). Paths are chosen,
 * never typed, so a slip of the keyboard cannot read or overwrite another file. Resolves to the
 * path, or null when the dialog was cancelled (the caller then does nothing).
 */
export async function choosePath(how, options) {
  return (await window.__TAURI__.dialog[how](options)) ?? null;
}

/**
 * The till's short sound for a payment taken, unless the settings turn it off. A machine with
 * no audio output stays silent rather than failing the screen.
 */
export function chime() {
  if (!settings.config?.sound) return;
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const level = audio.createGain();
    tone.frequency.value = 880;
    level.gain.setValueAtTime(0.15, audio.currentTime);
    level.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.25);
    tone.connect(level).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
    tone.onended = () => audio.close();
  } catch {
    // No audio device: the screen says it anyway.
  }
}

/** A count and its noun, agreeing: "1 payment", "2 payments" (as Rust's `words::count`). */
export const count = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Shows `message` in the alert element `id` (hidden when empty). */
export function say(id, message) {
  const p = $(id);
  p.textContent = message ?? "";
  p.hidden = !message;
}

/** Runs `work` with `button` disabled, so a click cannot start it twice. */
export async function busy(button, work) {
  button.disabled = true;
  try {
    return await work();
  } finally {
    button.disabled = false;
  }
}

/**
 * The settings in force, the currencies their cluster offers (Rust's `currencies`) and which
 * actions ask for the passphrase (`passphrase_asked`): loaded at start, replaced when the
 * settings are saved.
 */
export const settings = { config: null, currencies: [], asked: { payment: false, settlement: false, funds: false } };

/** The decimal separator the settings choose for amounts people type (the keypad's key). */
export const separator = () => (settings.config?.decimal_separator === "comma" ? "," : ".");

/** Offers the cluster's currencies in `select`, keeping the choice when it is still offered. */
export function fillCurrencies(select) {
  const chosen = select.value;
  select.replaceChildren(...settings.currencies.map((c) => new Option(c.symbol, c.symbol, false, c.symbol === chosen)));
}

/**
 * Fills the description list `dl` with rows [label, value, key?, href?]: the value as text
 * (a link when `href` is given), `key` as the value's data-key (what tests and styles find).
 */
export function showFields(dl, rows) {
  dl.replaceChildren(
    ...rows.flatMap(([label, value, key, href]) => {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      if (href) {
        const a = document.createElement("a");
        a.href = href;
        a.target = "_blank";
        a.rel = "noreferrer";
        a.textContent = value;
        dd.append(a);
      } else {
        dd.textContent = value;
      }
      if (key) dd.dataset.key = key;
      return [dt, dd];
    }),
  );
}
