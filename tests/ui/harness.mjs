// Component tests of the screens: ui/ served as-is to Debian's Chromium (driven by
// playwright-core), with Tauri's IPC replaced by a mock the test scripts. They reach what
// the end-to-end tests cannot drive here — Bluetooth and NFC handovers, a live camera's
// events, an escrow whose time lock has run out — and check the screens show what the
// commands answer. The answers are shaped like the commands' real ones
// (src-tauri/src/*.rs); the end-to-end suite checks the real ones.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const PLAYWRIGHT = process.env.PLAYWRIGHT_CORE ?? "playwright-core";
const { chromium } = await import(PLAYWRIGHT);

const UI = fileURLToPath(new URL("../../ui/", import.meta.url));
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };

/** Serves ui/ on a loopback port; resolves to its URL and a stop function. */
function serveUi() {
  const server = createServer(async (req, res) => {
    const path = normalize(new URL(req.url, "http://x").pathname).replace(/^\/+/, "") || "index.html";
    try {
      const body = await readFile(join(UI, path));
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${server.address().port}/`, stop: () => server.close() }),
    );
  });
}

export const ADDRESS = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";
export const MERCHANT = "mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN";

/** The settings a fresh wallet has (settings::app_info's `config`). */
export const CONFIG = {
  cluster: "devnet",
  rpc_url: "https://api.devnet.solana.com/",
  program_id: "GyGKxMyg1p9SsHfm15MkNUu1u9TN2JtTspcdmrtGUdse",
  arcium_mxe_program_id: null,
  fee_payer: null,
  max_settlement_retries: 3,
  default_intent_expiry_seconds: 86400,
  require_biometric_for_nonce: false,
  require_biometric_for_intent: false,
  retention_days: 30,
  genesis_hash: null,
  camera: null,
  camera_mirror: false,
  ble_adapter: null,
  nfc_reader: null,
  decimal_separator: "point",
  theme: "system",
  keystore: "secret-service",
  max_intents_per_handover: 8,
  min_payment_sol: "0.0001",
  min_payment_usdc: "0.01",
  commitment: "confirmed",
  signature_check: "auto",
  qr_fragment_bytes: 300,
  qr_frames_per_second: 5,
  sound: true,
  fiat_currency: "none",
  max_rate_age_seconds: 3600,
  tips: true,
  tip_percents: "10,15,20",
  notifications: true,
  unexplained_instructions: "confirm",
};

/** settings::currencies on devnet. */
export const CURRENCIES = [
  { symbol: "SOL", mint: null, decimals: 9 },
  { symbol: "USDC", mint: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", decimals: 6 },
];

/** What the commands the start-up calls answer for a wallet with one account. */
function startAnswers(config) {
  return {
    app_info: {
      ok: {
        version: "0.1.0",
        data_dir: "/home/till/.local/share/toss",
        config,
        problem: null,
        key_storage: { kind: "secret-service", description: "the desktop keyring (Secret Service)", warning: null },
      },
    },
    settings_schema: { ok: [] },
    passphrase_asked: { ok: { payment: false, settlement: false, funds: false } },
    wallet_status: { ok: { exists: true, accounts: [{ label: "Main", address: ADDRESS, source: "phrase" }] } },
    home_view: { ok: { accounts: [], pending: 0, intents: 0 } },
    balances: { ok: { online: false, balances: [], problem: "offline" } },
    cameras: { ok: [] },
    currencies: { ok: CURRENCIES },
    metrics: { ok: {} },
    activity: { ok: [] },
    online_activity: { ok: [] },
  };
}

/** Installed in the page before the UI loads: window.__TAURI__ as the UI uses it. */
function installMock(answers) {
  const pending = {};
  const mock = {
    calls: [],
    answers,
    listeners: {},
    /** The file dialogs opened, as [how, options]; `paths` are what the next ones answer. */
    dialogs: [],
    paths: [],
    /** The next call to `cmd` waits until `settle(cmd, answer)`. */
    hold(cmd) {
      pending[cmd] = null;
    },
    settle(cmd, answer) {
      pending[cmd](answer);
      delete pending[cmd];
    },
    emit(event, payload) {
      for (const handler of mock.listeners[event] ?? []) handler({ event, payload });
    },
  };
  // A refusal given as text reaches the UI as Rust sends it: {kind, message}.
  const refused = (err) => (typeof err === "string" ? { kind: "failed", message: err } : err);
  const answer = ({ ok, err }) => (err === undefined ? Promise.resolve(ok) : Promise.reject(refused(err)));
  // A dialog answers the path the test scripted (null: cancelled); unscripted, it fails.
  const dialog = (how) => (options) => {
    mock.dialogs.push([how, options ?? null]);
    return mock.paths.length ? Promise.resolve(mock.paths.shift()) : Promise.reject(`the test chose no path for a ${how} dialog`);
  };
  window.__mock = mock;
  window.__TAURI__ = {
    core: {
      invoke(cmd, args) {
        mock.calls.push([cmd, args ?? null]);
        if (cmd in pending) return new Promise((resolve) => (pending[cmd] = resolve)).then(answer);
        const a = mock.answers[cmd];
        return a ? answer(a) : Promise.reject(`the test gave no answer for ${cmd}`);
      },
    },
    event: {
      listen(event, handler) {
        (mock.listeners[event] ??= []).push(handler);
        return Promise.resolve(() => {});
      },
    },
    dialog: { open: dialog("open"), save: dialog("save") },
  };
}

let browser = null;
let server = null;

/** Starts Chromium and the UI server once per test file. */
export async function start() {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true });
  server = await serveUi();
}

export async function stop() {
  await browser?.close();
  server?.stop();
}

/**
 * The app's window with `answers` (command -> {ok} or {err}) over the start-up ones and
 * `config` over the default settings; waits for `screen` (the home screen unless told).
 * `page` names another page of ui/ (customer.html), then `ready` is what to wait for.
 */
export async function openApp({ answers = {}, config = {}, screen = "home", page: path = "", ready = `#screen-${screen}` } = {}) {
  const page = await browser.newPage({ viewport: { width: 1024, height: 720 } });
  page.setDefaultTimeout(5000);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.addInitScript(installMock, { ...startAnswers({ ...CONFIG, ...config }), ...answers });
  await page.goto(server.url + path);
  await page.locator(ready).waitFor();
  return {
    page,
    /** Uncaught errors in the page (a screen that broke). */
    errors,
    /** The commands called so far, as [name, args]. */
    calls: () => page.evaluate(() => window.__mock.calls),
    answer: (cmd, a) => page.evaluate(([c, x]) => (window.__mock.answers[c] = x), [cmd, a]),
    hold: (cmd) => page.evaluate((c) => window.__mock.hold(c), cmd),
    settle: (cmd, a) => page.evaluate(([c, x]) => window.__mock.settle(c, x), [cmd, a]),
    emit: (event, payload) => page.evaluate(([e, p]) => window.__mock.emit(e, p), [event, payload]),
    /** What the next file dialogs answer, in order: a path, or null for a cancelled one. */
    choose: (...paths) => page.evaluate((p) => window.__mock.paths.push(...p), paths),
    /** The file dialogs opened so far, as [how ("open" or "save"), options]. */
    dialogs: () => page.evaluate(() => window.__mock.dialogs),
    show: (screen) => page.click(`#nav button[data-screen="${screen}"]`),
    close: () => page.close(),
  };
}
