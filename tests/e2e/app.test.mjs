// End-to-end: the real toss-desktop binary in its real WebView, driven over WebDriver.
// Keys go to the kernel keyring (TOSS_KEYSTORE=keyutils): scripts/test runs this suite
// inside `keyctl session -`, so every run has a keyring of its own.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { freshHome, launchApp } from "./webdriver.mjs";

const version = readFileSync(new URL("../../Cargo.toml", import.meta.url), "utf8").match(
  /^version = "([^"]+)"/m,
)[1];

// The settings variables the app reads; cleared so a developer's shell cannot leak in.
const CLEAN_ENV = {
  ...Object.fromEntries(
    [
      "SOLANA_CLUSTER",
      "SOLANA_RPC_URL",
      "TOSS_PROGRAM_ID",
      "ARCIUM_MXE_PROGRAM_ID",
      "TOSS_FEE_PAYER",
      "MAX_SETTLEMENT_RETRIES",
      "DEFAULT_INTENT_EXPIRY_SECONDS",
      "REQUIRE_BIOMETRIC_FOR_NONCE",
      "REQUIRE_BIOMETRIC_FOR_INTENT",
      "TOSS_RETENTION_DAYS",
      "TOSS_GENESIS_HASH",
    ].map((k) => [k, ""]),
  ),
  TOSS_KEYSTORE: "keyutils",
};

const ADDRESS = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
// BIP39's test phrase and its first Solana account (m/44'/501'/0'/0').
const PHRASE =
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const PHRASE_ADDRESS = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";

/** The `toss` CLI built next to the app. */
const tossCli = () => join(process.env.TOSS_APP_BIN, "..", "toss");

/** Fails unless the screenshot is a PNG with many colours (ImageMagick counts them). */
function assertNotBlank({ path, png }) {
  assert.equal(png.subarray(1, 4).toString(), "PNG");
  const colours = Number(execFileSync("identify", ["-format", "%k", path], { encoding: "utf8" }));
  assert.ok(colours > 50, `${path} looks blank: ${colours} colours`);
}

// Cards whose content is wider than they are (it would spill over the next card).
const OVERFLOWING_CARDS = `
  return [...document.querySelectorAll(".card")]
    .filter((c) => c.getClientRects().length > 0 && c.scrollWidth > c.clientWidth + 1)
    .map((c) => c.id || c.querySelector("h2")?.textContent);
`;

// Labels, buttons and headings whose words the layout may cut in two.
const WORDS_CUT = `
  return [...document.querySelectorAll("label, button, th, h2")]
    .filter((e) => e.getClientRects().length > 0)
    .filter((e) => { const s = getComputedStyle(e); return s.overflowWrap !== "normal" || s.wordBreak !== "normal"; })
    .map((e) => e.id || e.textContent.trim().slice(0, 30));
`;

/** A wallet on disk with one account (no key: what the CLI's account list looks like). */
function writeWallet(home, label) {
  writeFileSync(
    join(home, "accounts.json"),
    JSON.stringify({
      version: 1,
      wallet_id: "00112233445566778899aabbccddeeff",
      accounts: [{ label, address: ADDRESS, source: "phrase" }],
    }),
  );
}

test("shows what Rust reports: version, data directory, accounts, settings", async () => {
  const home = freshHome();
  writeWallet(home, "Till 1");
  const app = await launchApp({ ...CLEAN_ENV, TOSS_HOME: home, SOLANA_CLUSTER: "testnet" });
  try {
    assert.equal(await app.title(), "TOSS");
    await app.waitForText("#version", (t) => t === `TOSS Desktop ${version}`);
    assert.equal(await app.text("#cluster"), "testnet");
    assert.equal(await app.text("#data-dir"), home);
    await app.waitForText("#accounts", (t) => t.includes("Till 1") && t.includes(ADDRESS));
    assert.equal(await app.text("#home-pending"), "0 payments");
    assertNotBlank(await app.screenshot("home"));
    await app.click('#nav button[data-screen="settings"]');
    await app.waitForText(
      '#settings dd[data-key="rpc_url"]',
      (t) => t === "https://api.testnet.solana.com/",
    );
    assertNotBlank(await app.screenshot("settings"));
  } finally {
    await app.close();
  }
});

test("a bad setting is explained in the window instead of crashing the app", async () => {
  const app = await launchApp({ ...CLEAN_ENV, TOSS_HOME: freshHome(), SOLANA_CLUSTER: "mainnnet" });
  try {
    const problem = await app.waitForText("#problem", (t) => t.length > 0);
    assert.match(problem, /environment variable SOLANA_CLUSTER/);
    assert.match(problem, /"mainnnet" is not allowed/);
    assert.match(problem, /devnet, testnet, mainnet-beta/);
    await app.waitForText("#cluster", (t) => t === "not configured");
    assertNotBlank(await app.screenshot("settings-problem"));
  } finally {
    await app.close();
  }
});

test("a damaged account list is reported on the set-up screen", async () => {
  const home = freshHome();
  writeFileSync(join(home, "accounts.json"), "{ not json");
  const app = await launchApp({ ...CLEAN_ENV, TOSS_HOME: home });
  try {
    await app.waitForText("#cluster", (t) => t === "devnet");
    const state = await app.waitForText("#wallet-state", (t) => t.startsWith("Could not read"));
    assert.match(state, /accounts\.json is damaged/);
  } finally {
    await app.close();
  }
});

test("onboarding: a new wallet's phrase is shown once and checked, then the cluster and passphrase", async () => {
  const home = freshHome();
  const app = await launchApp({ ...CLEAN_ENV, TOSS_HOME: home });
  try {
    await app.waitForText("#wallet-state", (t) => t === "No wallet on this computer yet.", 30000);
    await app.clear("#create-label");
    await app.type("#create-label", "Shop");
    await app.click("#create-form button[type=submit]");
    const created = await app.waitForText("#wallet-state", (t) => t.startsWith("Account created"));
    const address = created.split(": ")[1];
    await app.waitForText("#phrase-words", (t) => t.length > 0);
    const words = await app.run(
      "return [...document.querySelectorAll('#phrase-words li')].map((li) => li.textContent)",
    );
    assert.equal(words.length, 12);
    assertNotBlank(await app.screenshot("onboarding-phrase"));
    await app.click("#phrase-written");
    assert.equal(await app.text("#phrase-words"), "", "the words left the screen");

    // A wrong word is caught; the right ones lead home.
    const inputs = await app.findAll("#confirm-inputs input");
    assert.equal(inputs.length, 3);
    for (const input of inputs) await app.typeInto(input, "wrong");
    await app.click("#confirm-card button[type=submit]");
    await app.waitForText("#confirm-problem", (t) => t.includes("does not match"));
    for (const input of inputs) {
      await app.clearElement(input);
      const index = Number(await app.attributeOf(input, "data-index"));
      await app.typeInto(input, words[index]);
    }
    await app.click("#confirm-card button[type=submit]");

    // Then the cluster and, if wanted, the passphrase asked before each payment.
    await app.waitForText("#setup-title", (t) => t === "Network and protection");
    assert.equal(await app.run("return document.querySelector('#setup-cluster').value"), "devnet");
    await app.click('#setup-cluster option[value="testnet"]');
    await app.click("#setup-gate");
    await app.type("#setup-passphrase-new", "correct horse");
    await app.type("#setup-passphrase-again", "correct hose");
    await app.click("#setup-card button[type=submit]");
    await app.waitForText("#setup-problem", (t) => t === "The two passphrases differ.");
    await app.type("#setup-passphrase-new", "correct horse");
    await app.type("#setup-passphrase-again", "correct horse");
    assertNotBlank(await app.screenshot("onboarding-setup"));
    await app.click("#setup-card button[type=submit]");
    await app.waitForText("#accounts", (t) => t.includes("Shop") && t.includes(address));
    assert.equal(await app.text("#cluster"), "testnet");
    const saved = readFileSync(join(home, "settings.toml"), "utf8");
    assert.match(saved, /cluster = "testnet"/);
    assert.match(saved, /require_biometric_for_intent = "true"/);
    assertNotBlank(await app.screenshot("onboarding-done-home"));
  } finally {
    await app.close();
  }
});

test("import a phrase, ask for a payment, see an empty activity", async () => {
  // An RPC URL nothing listens on: the cluster is unreachable, as on a till with no network.
  const app = await launchApp({ ...CLEAN_ENV, TOSS_HOME: freshHome(), SOLANA_RPC_URL: "http://127.0.0.1:9" });
  try {
    await app.waitForText("#wallet-state", (t) => t === "No wallet on this computer yet.", 30000);
    await app.type("#import-phrase", "not a phrase");
    await app.click("#import-form button[type=submit]");
    await app.waitForText("#wallet-state", (t) => t.startsWith("Could not import"));
    await app.clear("#import-phrase");
    await app.type("#import-phrase", PHRASE);
    await app.click("#import-form button[type=submit]");
    await app.click("#setup-card button[type=submit]");
    await app.waitForText("#accounts", (t) => t.includes(PHRASE_ADDRESS));
    // The home screen says the cluster does not answer, and what is known offline.
    await app.waitForText("#online", (t) => t === "Offline");
    await app.waitForText(".balance", (t) => t === "On-chain balance: unknown while offline");
    assert.match(await app.text(".escrow"), /Escrow: not read yet/);
    assertNotBlank(await app.screenshot("home-offline"));

    // Receive: the keypad types the amount; the request is a Solana Pay URL and its QR code.
    await app.click('#nav button[data-screen="receive"]');
    for (const key of ["1", ".", "2", "5", "9", "back"]) {
      await app.click(`.keypad button[data-key="${key}"]`);
    }
    await app.type("#receive-label", "Till 1");
    await app.click("#receive-form button[type=submit]");
    const url = await app.waitForText("#request-url", (t) => t.startsWith("solana:"));
    assert.match(url, new RegExp(`^solana:${PHRASE_ADDRESS}\\?amount=1\\.25&reference=`));
    assert.match(url, /label=Till%201/);
    assert.match(url, /toss-offline=1/);
    const svg = await app.run("return document.querySelector('#request-qr svg') !== null");
    assert.equal(svg, true);
    assertNotBlank(await app.screenshot("receive-request"));

    // A bad amount is refused with the rule it broke.
    await app.clear("#receive-amount");
    await app.type("#receive-amount", "0.0000000001");
    await app.click("#receive-form button[type=submit]");
    await app.waitForText("#receive-problem", (t) => t.length > 0);

    await app.click('#nav button[data-screen="activity"]');
    await app.waitForText("#activity-empty", (t) => t === "No payments yet.");
  } finally {
    await app.close();
  }
});

const PROGRAM = "GyGKxMyg1p9SsHfm15MkNUu1u9TN2JtTspcdmrtGUdse";
const MERCHANT = "mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN";

/** Imports the test phrase through the set-up screen, keeping the cluster and no passphrase. */
async function importPhrase(app) {
  // The first screen of a fresh start: 30 s, since a local validator starting beside it (the
  // settle scenario) once kept the app from drawing it within 10 s in CI.
  await app.waitForText("#wallet-state", (t) => t === "No wallet on this computer yet.", 30000);
  await app.type("#import-phrase", PHRASE);
  await app.click("#import-form button[type=submit]");
  // The set-up step shows once the import has answered.
  await app.waitForText("#wallet-state", (t) => t === `Account imported: ${PHRASE_ADDRESS}`, 20000);
  await app.click("#setup-card button[type=submit]");
  await app.waitForText("#accounts", (t) => t.includes(PHRASE_ADDRESS));
}

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** Base58 (Bitcoin alphabet), as Solana writes addresses. */
function base58(bytes) {
  let n = BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`);
  let out = "";
  while (n > 0n) {
    out = BASE58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}

/** A Solana CLI keypair file for a new key: its path and its address. */
function keypairFile(dir) {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  const pub = Buffer.from(jwk.x, "base64url");
  const bytes = [...Buffer.from(jwk.d, "base64url"), ...pub];
  const path = join(dir, "payer.json");
  writeFileSync(path, JSON.stringify(bytes));
  return { path, address: base58(pub) };
}

/** The settings that point the app at `validator`: its RPC, the program it runs, its genesis. */
function clusterEnv(validator) {
  return {
    SOLANA_CLUSTER: "localnet",
    SOLANA_RPC_URL: validator.rpc_url,
    TOSS_PROGRAM_ID: validator.program_id,
    TOSS_GENESIS_HASH: validator.genesis_hash,
  };
}

/**
 * A local validator with the TOSS program (tests/validator's toss-validator), the
 * addresses given funded; resolves to its RPC URL, program id and genesis hash.
 */
async function localValidator(funds) {
  const bin = process.env.TOSS_VALIDATOR_BIN;
  assert.ok(bin, "TOSS_VALIDATOR_BIN must name the toss-validator binary (scripts/test builds it)");
  const child = spawn(bin, funds.map(([a, l]) => `${a}=${l}`), {
    stdio: ["pipe", "pipe", "ignore"],
    env: { ...process.env, RUST_LOG: "error" },
  });
  const stop = () => {
    child.stdin.end();
    child.kill();
  };
  try {
    // The validator prints progress lines of its own before ours, the JSON one.
    const line = await new Promise((resolve, reject) => {
      let buf = "";
      child.stdout.on("data", (d) => {
        buf += d;
        const found = buf.split("\n").find((l) => l.startsWith("{") && l.endsWith("}"));
        if (found) resolve(found);
      });
      child.on("exit", (code) => reject(new Error(`toss-validator exited (${code}): ${buf}`)));
    });
    return { ...JSON.parse(line), stop };
  } catch (err) {
    stop();
    throw err;
  }
}

test("pay: read the merchant's request from an image, sign offline, show the code", async () => {
  const home = freshHome();
  const png = join(home, "request.png");
  execFileSync(tossCli(), ["request", "--to", MERCHANT, "--amount", "1.5", "--label", "Cafe", "--png", png], {
    env: { ...process.env, ...CLEAN_ENV, TOSS_HOME: home },
  });
  const app = await launchApp({ ...CLEAN_ENV, TOSS_HOME: home, TOSS_PROGRAM_ID: PROGRAM });
  try {
    await importPhrase(app);
    await app.click('#nav button[data-screen="pay"]');
    await app.type("#pay-file", join(home, "missing.png"));
    await app.click("#pay-file-form button[type=submit]");
    await app.waitForText("#pay-problem", (t) => t.includes("cannot read the image"));
    await app.clear("#pay-file");
    await app.type("#pay-file", png);
    await app.click("#pay-file-form button[type=submit]");
    const fields = await app.waitForText("#pay-fields", (t) => t.includes("A payment request"));
    assert.match(fields, new RegExp(MERCHANT));
    assert.match(fields, /1\.5 SOL/);
    assert.match(fields, /Cafe/);
    assert.equal(await app.attribute("#pay-amount", "value"), "1.5");
    assertNotBlank(await app.screenshot("pay-request-read"));

    await app.click("#pay-confirm button[type=submit]");
    await app.waitForText("#pay-intent h2", (t) => t === "Show this to the merchant");
    assert.equal(await app.run("return document.querySelector('#pay-intent').hidden"), false);
    assert.equal(await app.run("return document.querySelector('#pay-intent-qr svg') !== null"), true);
    assertNotBlank(await app.screenshot("pay-intent-shown"));

    await app.click('#nav button[data-screen="activity"]');
    const rows = await app.waitForText("#activity-rows", (t) => t.length > 0);
    assert.match(rows, /sent\s*1\.5 SOL\s*mvines9i/);
    assert.match(rows, /created/);
  } finally {
    await app.close();
  }
});

test("receive: a payer's code read from an image is verified offline and kept", async () => {
  const home = freshHome();
  const cli = freshHome();
  const env = { ...process.env, ...CLEAN_ENV, TOSS_HOME: cli, TOSS_PROGRAM_ID: PROGRAM };
  const keypair = keypairFile(cli).path;
  const intent = join(cli, "intent.bin");
  execFileSync(tossCli(), ["intent", "create", "--keypair", keypair, "--to", PHRASE_ADDRESS, "--amount", "0.5", "--memo", "coffee", "--out", intent], { env });
  const png = join(cli, "intent.png");
  execFileSync(tossCli(), ["intent", "export-qr", intent, "--png", png], { env });

  // A till with no network: settling has to wait.
  const app = await launchApp({
    ...CLEAN_ENV,
    TOSS_HOME: home,
    TOSS_PROGRAM_ID: PROGRAM,
    SOLANA_RPC_URL: "http://127.0.0.1:9",
    MAX_SETTLEMENT_RETRIES: "1",
  });
  try {
    await importPhrase(app);
    await app.click('#nav button[data-screen="receive"]');
    // A sale of 5 SOL: the 0.5 SOL code does not pay it, and the till says by how much.
    await app.type("#receive-amount", "5");
    await app.click("#receive-form button[type=submit]");
    await app.waitForText("#request-url", (t) => t.startsWith("solana:"));
    await app.chosen("#receive-file", png);
    await app.click("#receive-file-form button[type=submit]");
    await app.waitForText("#receive-status", (t) => t === "refused: this payment is 0.5 SOL; the sale is 5 SOL");
    // The sale of 0.5 SOL: paid.
    await app.clear("#receive-amount");
    await app.type("#receive-amount", "0.5");
    await app.click("#receive-form button[type=submit]");
    await app.waitForText("#request-url", (t) => t.includes("amount=0.5"));
    await app.click("#receive-file-form button[type=submit]");
    const got = await app.waitForText("#received-fields", (t) => t.includes("0.5 SOL"));
    assert.match(got, /coffee/);
    assert.match(got, /not encrypted/);
    assert.equal(await app.text("#receive-status"), "Sale paid: 0.5 SOL in 1 payment");
    // The receipt: its fields, and its code carrying the payment's id and terms.
    await app.waitForText("#receipt-fields", (t) => t.includes("0.5 SOL") && t.includes(PHRASE_ADDRESS));
    const uri = await app.attribute("#receipt-qr [data-uri]", "data-uri");
    assert.match(uri, new RegExp(`^toss-receipt:[0-9a-f]{64}\\?v=1&payer=\\w+&payee=${PHRASE_ADDRESS}&units=500000000&at=\\d+$`));
    assert.equal(await app.run("return document.querySelector('#receipt-qr svg') !== null"), true);
    assertNotBlank(await app.screenshot("receive-verified"));

    // The same code again: already taken.
    await app.click("#receive-file-form button[type=submit]");
    await app.waitForText("#receive-status", (t) => t.startsWith("refused"));

    await app.click('#nav button[data-screen="activity"]');
    const rows = await app.waitForText("#activity-rows", (t) => t.length > 0);
    assert.match(rows, /received\s*0\.5 SOL/);
    assert.match(rows, /verified/);

    // Its details, the list filtered and searched, and the CSV export.
    await app.click("#activity-rows tr td");
    const detail = await app.waitForText("#detail-fields", (t) => t.includes("Paid by"));
    assert.match(detail, /0\.5 SOL/);
    assert.match(detail, /coffee/);
    assert.match(await app.text("#detail-history"), /verified/);
    assertNotBlank(await app.screenshot("activity-detail"));
    const choose = (value) =>
      app.run(
        "const s = document.getElementById('activity-filter'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
        value,
      );
    await choose("sent");
    await app.waitForText("#activity-rows", (t) => t === "");
    await choose("");
    await app.type("#activity-search", "verif");
    await app.waitForText("#activity-rows", (t) => t.includes("0.5 SOL"));
    const csvPath = join(home, "activity.csv");
    await app.chosen("#activity-export", csvPath);
    await app.click("#activity-export-form button[type=submit]");
    await app.waitForText("#activity-exported", (t) => t.startsWith("1 payment written"));
    // "Settle now" with the cluster unreachable: one retry shown, then a plain refusal;
    // the payment stays waiting, and the metrics count the round.
    await app.click("#settle-now");
    const settled = await app.waitForText("#settle-status", (t) => t.startsWith("Not settled"), 20000);
    assert.match(settled, /could not be reached \(.*\); payments waiting to settle stay waiting until it answers/);
    await app.waitForText("#activity-rows", (t) => t.includes("verified"));
    await app.click('#nav button[data-screen="settings"]');
    await app.waitForText('#metrics dd[data-key="network_errors"]', (t) => t === "1");
    await app.click('#nav button[data-screen="activity"]');

    const csv = readFileSync(csvPath, "utf8").split("\r\n");
    assert.equal(csv[0], "id,direction,payer,payee,mint,amount,nonce,expires_at,state,way,refunded");
    assert.match(csv[1], new RegExp(`^[0-9a-f]{64},received,\\w+,${PHRASE_ADDRESS},,500000000,\\d+,\\d+,verified,offline,0$`));

    // A payer who scanned the till's request seals its code to the till (the CLI as the
    // payer's wallet): the till opens it with its own key, for this sale only.
    await app.click('#nav button[data-screen="receive"]');
    await app.clear("#receive-amount");
    await app.type("#receive-amount", "0.25");
    await app.click("#receive-form button[type=submit]");
    const url = await app.waitForText("#request-url", (t) => t.includes("amount=0.25"));
    assert.match(url, /toss-key=\w+/);
    const reference = new URL(url).searchParams.get("reference");
    const sealedIntent = join(cli, "sealed.bin");
    execFileSync(tossCli(), ["intent", "create", "--keypair", keypair, "--to", PHRASE_ADDRESS, "--amount", "0.25", "--reference", reference, "--out", sealedIntent], { env });
    const sealedPng = join(cli, "sealed.png");
    execFileSync(tossCli(), ["intent", "export-qr", sealedIntent, "--png", sealedPng, "--request", url], { env, stdio: "ignore" });
    await app.chosen("#receive-file", sealedPng);
    await app.click("#receive-file-form button[type=submit]");
    const sealedGot = await app.waitForText("#received-fields", (t) => t.includes("0.25 SOL"));
    assert.match(sealedGot, /sealed to this till/);
    // Shown again (a film of it, replayed): the same payment, already taken.
    await app.click("#receive-file-form button[type=submit]");
    await app.waitForText("#receive-status", (t) => t.startsWith("refused"));
  } finally {
    await app.close();
  }
});

test("settings: a bad value is refused with the rule it breaks; a good one is saved", async () => {
  const home = freshHome();
  writeWallet(home, "Main");
  const app = await launchApp({ ...CLEAN_ENV, TOSS_HOME: home, SOLANA_CLUSTER: "testnet" });
  try {
    await app.waitForText("#accounts", (t) => t.includes(ADDRESS));
    await app.click('#nav button[data-screen="settings"]');
    // Set in the environment: shown, not editable here.
    assert.equal(await app.attribute('#settings-fields [name="cluster"]', "disabled"), "true");
    await app.waitForText("#settings-fields", (t) => t.includes("Set by the environment variable SOLANA_CLUSTER"));

    await app.clear('#settings-fields [name="rpc_url"]');
    await app.type('#settings-fields [name="rpc_url"]', "ftp://example.com");
    await app.clear('#settings-fields [name="default_intent_expiry_seconds"]');
    await app.type('#settings-fields [name="default_intent_expiry_seconds"]', "3600");
    await app.click("#settings-form button[type=submit]");
    const problem = await app.waitForText("#settings-problem", (t) => t.length > 0);
    assert.match(problem, /rpc_url/);
    assert.match(problem, /an http:\/\/ or https:\/\/ URL/);
    assertNotBlank(await app.screenshot("settings-refused"));

    await app.clear('#settings-fields [name="rpc_url"]');
    await app.type('#settings-fields [name="rpc_url"]', "http://127.0.0.1:8899");
    await app.click("#settings-form button[type=submit]");
    await app.waitForText("#settings-saved", (t) => t.startsWith("Saved"));
    await app.waitForText('#settings dd[data-key="default_intent_expiry_seconds"]', (t) => t === "3600");
    assert.equal(await app.text('#settings dd[data-key="rpc_url"]'), "http://127.0.0.1:8899/");
    const saved = readFileSync(join(home, "settings.toml"), "utf8");
    assert.match(saved, /default_intent_expiry_seconds = "3600"/);

    // Display settings apply at once: the theme, and the separator on the till's keypad.
    await app.click('#settings-fields [name="theme"] option[value="dark"]');
    await app.click('#settings-fields [name="decimal_separator"] option[value="comma"]');
    await app.click("#settings-form button[type=submit]");
    await app.waitForText("#settings-saved", (t) => t === "Saved: Decimal separator in amounts, Theme.");
    assert.equal(await app.run("return document.documentElement.dataset.theme"), "dark");
    await app.click('#nav button[data-screen="receive"]');
    assert.equal(await app.text('.keypad button[data-key="."]'), ",");
    assert.match(readFileSync(join(home, "settings.toml"), "utf8"), /theme = "dark"/);
  } finally {
    await app.close();
  }
});

test("the app passphrase is set in settings and asked before a payment is signed", async () => {
  const home = freshHome();
  const png = join(home, "request.png");
  execFileSync(tossCli(), ["request", "--to", MERCHANT, "--amount", "0.2", "--png", png], {
    env: { ...process.env, ...CLEAN_ENV, TOSS_HOME: home },
  });
  const app = await launchApp({
    ...CLEAN_ENV,
    TOSS_HOME: home,
    TOSS_PROGRAM_ID: PROGRAM,
    REQUIRE_BIOMETRIC_FOR_INTENT: "true",
  });
  try {
    await importPhrase(app);
    await app.click('#nav button[data-screen="settings"]');
    const set = async (current, next, again) => {
      if (current) await app.type("#passphrase-current", current);
      await app.type("#passphrase-new", next);
      await app.type("#passphrase-again", again);
      await app.click("#passphrase-form button");
    };
    await set(null, "correct horse", "correct hose");
    await app.waitForText("#passphrase-problem", (t) => t === "The two new passphrases differ.");
    await set(null, "short", "short");
    await app.waitForText("#passphrase-problem", (t) => t.includes("at least 8 characters"));
    await set(null, "correct horse", "correct horse");
    await app.waitForText("#passphrase-saved", (t) => t === "Passphrase set.");
    await set(null, "another one", "another one");
    await app.waitForText("#passphrase-problem", (t) => t.includes("enter the current passphrase"));

    await app.click('#nav button[data-screen="pay"]');
    await app.type("#pay-file", png);
    await app.click("#pay-file-form button[type=submit]");
    await app.waitForText("#pay-fields", (t) => t.includes("A payment request"));
    await app.click("#pay-confirm button[type=submit]");
    await app.waitForText("#pay-problem", (t) => t.includes("needs the app passphrase"));
    await app.type("#pay-passphrase", "wrong horse");
    await app.click("#pay-confirm button[type=submit]");
    await app.waitForText("#pay-problem", (t) => t.includes("wrong passphrase"));
    await app.type("#pay-passphrase", "correct horse");
    await app.click("#pay-confirm button[type=submit]");
    await app.waitForText("#pay-intent h2", (t) => t === "Show this to the merchant");
    assert.equal(await app.run("return document.querySelector('#pay-intent').hidden"), false);

    // The metrics panel counts the payment and the two refusals.
    await app.click('#nav button[data-screen="settings"]');
    await app.waitForText('#metrics dd[data-key="intents_created"]', (t) => t === "1");
    assert.equal(await app.text('#metrics dd[data-key="gate_failures"]'), "2");
    assert.equal(await app.text('#metrics dd[data-key="success_rate"]'), "—");
    assertNotBlank(await app.screenshot("metrics"));
  } finally {
    await app.close();
  }
});

test("settle: a payment taken offline settles on a local validator and the activity shows it", async () => {
  const home = freshHome();
  const cli = freshHome();
  const payer = keypairFile(cli);
  const validator = await localValidator([
    [PHRASE_ADDRESS, 2_000_000_000],
    [payer.address, 5_000_000_000],
  ]);
  try {
    const cluster = clusterEnv(validator);
    const env = { ...process.env, ...CLEAN_ENV, ...cluster, TOSS_HOME: cli };
    // The payer's escrow, then a payment signed offline and shown as a code.
    execFileSync(tossCli(), ["escrow", "--keypair", payer.path, "open"], { env });
    execFileSync(tossCli(), ["escrow", "--keypair", payer.path, "deposit", "2"], { env });
    const intent = join(cli, "intent.bin");
    execFileSync(tossCli(), ["intent", "create", "--keypair", payer.path, "--to", PHRASE_ADDRESS, "--amount", "0.5", "--out", intent], { env });
    const png = join(cli, "intent.png");
    execFileSync(tossCli(), ["intent", "export-qr", intent, "--png", png], { env });

    const app = await launchApp({ ...CLEAN_ENV, ...cluster, TOSS_HOME: home });
    try {
      await importPhrase(app);
      await app.waitForText("#online", (t) => t === "Online", 20000);
      await app.waitForText(".balance", (t) => t === "On-chain balance: 2 SOL");
      await app.click('#nav button[data-screen="receive"]');
      await app.type("#receive-amount", "0.5");
      await app.click("#receive-form button[type=submit]");
      await app.waitForText("#request-url", (t) => t.startsWith("solana:"));
      await app.chosen("#receive-file", png);
      await app.click("#receive-file-form button[type=submit]");
      await app.waitForText("#received-fields", (t) => t.includes("0.5 SOL"));

      await app.click('#nav button[data-screen="activity"]');
      await app.waitForText("#activity-rows", (t) => t.includes("verified"));
      await app.click("#settle-now");
      await app.waitForText("#settle-status", (t) => t === "Done: 1 of 1 payment paid on-chain.", 60000);
      await app.waitForText("#activity-rows", (t) => t.includes("settled"));
      await app.click("#activity-rows tr td");
      await app.waitForText("#detail-fields", (t) => t.includes("Settlement"));
      const link = await app.attribute("#detail-fields a", "href");
      assert.match(link, /^https:\/\/explorer\.solana\.com\/tx\/\w+\?cluster=custom&customUrl=/);
      assertNotBlank(await app.screenshot("activity-settled"));
    } finally {
      await app.close();
    }
  } finally {
    validator.stop();
  }
});

/**
 * Pays the Solana Pay request `url` from the keypair file `keypair` as an ordinary wallet
 * does: the official @solana/pay and @solana/web3.js (tests/validator/wallet/pay.mjs).
 */
function walletPays(rpcUrl, url, keypair, amount) {
  const script = new URL("../validator/wallet/pay.mjs", import.meta.url).pathname;
  const args = [script, url, readFileSync(keypair, "utf8"), ...(amount ? [amount] : [])];
  assert.ok(process.env.TOSS_NPM_DIR, "TOSS_NPM_DIR must hold @solana/pay (scripts/test sets it)");
  return execFileSync("node", args, { env: { ...process.env, RPC_URL: rpcUrl } }).toString().trim();
}

test("receive online: a customer's wallet pays the till's request and the till shows it paid", async () => {
  const home = freshHome();
  const cli = freshHome();
  const customer = keypairFile(cli);
  const validator = await localValidator([
    [PHRASE_ADDRESS, 1_000_000_000],
    [customer.address, 3_000_000_000],
  ]);
  try {
    const cluster = clusterEnv(validator);
    const app = await launchApp({ ...CLEAN_ENV, ...cluster, TOSS_HOME: home });
    try {
      await importPhrase(app);
      await app.click('#nav button[data-screen="receive"]');
      await app.type("#receive-amount", "0.25");
      await app.click("#receive-form button[type=submit]");
      const url = await app.waitForText("#request-url", (t) => t.startsWith("solana:"));
      await app.waitForText("#online-status", (t) => t.startsWith("Waiting for the payment"));
      // Too little: seen, refused, never shown paid.
      walletPays(validator.rpc_url, url, customer.path, "0.1");
      await app.waitForText("#online-status", (t) => t.startsWith("A transaction for this sale does not pay it"), 90000);
      assert.equal(await app.run("return document.querySelector('#online-paid').hidden"), true);
      // The right amount: paid, by the customer, with where to see it.
      walletPays(validator.rpc_url, url, customer.path);
      await app.waitForText("#online-status", (t) => t.startsWith(`Paid online: 0.25 SOL from ${customer.address}`), 90000);
      assert.match(await app.attribute("#online-explorer", "href"), /^https:\/\/explorer\.solana\.com\/tx\/\w+\?cluster=custom/);
      // The receipt: the transaction's Explorer address as its code.
      const receipt = await app.waitForText("#receipt-fields", (t) => t.includes("0.25 SOL"));
      assert.ok(receipt.includes(customer.address), receipt);
      assertNotBlank(await app.screenshot("receive-paid-online"));
      // The activity lists it, with the customer and the transaction's link.
      await app.click('#nav button[data-screen="activity"]');
      const online = await app.waitForText("#online-rows", (t) => t.includes("0.25 SOL"));
      assert.ok(online.includes(customer.address), online);
      await app.click('#nav button[data-screen="settings"]');
      await app.waitForText('#metrics dd[data-key="online_payments"]', (t) => t === "1");
      // The validator runs the program's SBF build: exactly what the app carries.
      await app.click("#program-check");
      await app.waitForText("#program-status", (t) => t.includes("exactly this wallet's build"), 30000);
      assert.equal(await app.run("return document.querySelector('#program-warning').hidden"), true);
    } finally {
      await app.close();
    }
  } finally {
    validator.stop();
  }
});

/**
 * A Pyth price update account for the feed `feedHex`, written by Pyth's own SDK
 * (tests/validator/wallet/pyth.mjs): `price` × 10^`exponent`, published at `at`; as the
 * toss-validator argument that loads it.
 */
function pythAccount(feedHex, price, exponent, at) {
  const script = new URL("../validator/wallet/pyth.mjs", import.meta.url).pathname;
  const args = [script, "encode", feedHex, String(price), String(price / 1000), String(exponent), String(at), "full"];
  const made = JSON.parse(execFileSync("node", args, { env: process.env }).toString());
  return [made.address, `${made.owner}:${made.data}`];
}

const SOL_USD_FEED = "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d";

/**
 * Calls the command `name` as the screen does (once the system's file dialog answered, for
 * an export).
 */
const behindTheDialog = (app, name, args) =>
  app.run("return window.__TAURI__.core.invoke(arguments[0], arguments[1])", name, args);

test("the counter: priced in dollars with a tip, the customer display following, paid online, refunded in part, the day closed", async () => {
  const home = freshHome();
  const cli = freshHome();
  const customer = keypairFile(cli);
  const now = Math.floor(Date.now() / 1000);
  // SOL at 150 USD, published a minute ago, where Pyth's push oracle keeps it.
  const validator = await localValidator([
    [PHRASE_ADDRESS, 1_000_000_000],
    [customer.address, 3_000_000_000],
    pythAccount(SOL_USD_FEED, 15_000_000_000, -8, now - 60),
  ]);
  try {
    const cluster = clusterEnv(validator);
    const app = await launchApp({ ...CLEAN_ENV, ...cluster, TOSS_HOME: home, TOSS_FIAT_CURRENCY: "USD" });
    try {
      await importPhrase(app);
      await app.click('#nav button[data-screen="receive"]');
      // The rate, read from the cluster, with its age.
      const rate = await app.waitForText("#receive-rate", (t) => t.startsWith("1 SOL = 150.00 USD"), 20000);
      assert.match(rate, /1 minute old/);
      // 12.50 USD and a 20 % tip (2.50 USD): 15.00 USD, 0.1 SOL asked.
      await app.type("#receive-amount", "12.50");
      await app.click('#receive-tip-choices button[data-tip="20"]');
      await app.click("#receive-form button[type=submit]");
      const url = await app.waitForText("#request-url", (t) => t.startsWith("solana:"));
      assert.match(url, /[?&]amount=0\.1(&|$)/);
      const terms = await app.text("#request-terms");
      for (const part of ["0.1 SOL", "12.50 USD", "2.50 USD", "15.00 USD", "1 SOL = 150.00 USD"]) {
        assert.ok(terms.includes(part), `${part} in ${terms}`);
      }
      await app.waitForText("#online-status", (t) => t.startsWith("Waiting for the payment"));

      // The customer's window: the amount and the code, then "paid".
      const till = await app.cmd("GET", "/window");
      await app.click("#customer-display");
      let handles = [];
      for (let i = 0; i < 40 && handles.length < 2; i++) {
        handles = await app.cmd("GET", "/window/handles");
        if (handles.length < 2) await new Promise((r) => setTimeout(r, 250));
      }
      const counter = handles.find((h) => h !== till);
      assert.ok(counter, `a second window opens: ${handles}`);
      await app.cmd("POST", "/window", { handle: counter });
      await app.waitForText("#customer-total", (t) => t === "0.1 SOL");
      assert.equal(await app.text("#customer-fiat"), "15.00 USD");
      assert.equal(await app.run("return document.querySelector('#customer-qr svg') !== null"), true);
      assertNotBlank(await app.screenshot("customer-waiting"));
      walletPays(validator.rpc_url, url, customer.path);
      // Up to 90 s, as the validator tier waits for a reference: the local validator's address
      // index has been seen to miss a confirmed transaction for about 15 s while its block is rooted.
      await app.waitForText("#customer-status", (t) => t.startsWith("Paid"), 90000);
      assert.equal(await app.run("return document.querySelector('#customer-qr').hidden"), true);
      await app.cmd("POST", "/window", { handle: till });
      await app.waitForText("#online-status", (t) => t.startsWith(`Paid online: 0.1 SOL from ${customer.address}`), 90000);

      // A refund of part of it, from the payment's detail: what it costs is shown first.
      await app.click('#nav button[data-screen="activity"]');
      await app.waitForText("#online-rows", (t) => t.includes("0.1 SOL"));
      await app.click("#online-rows tr td");
      await app.waitForText("#detail-fields", (t) => t.includes("paid online") && t.includes(customer.address));
      await app.click("#refund-start");
      const quote = await app.waitForText("#refund-quote", (t) => t.includes("0.1 SOL"));
      assert.ok(quote.includes("0.000005 SOL"), `the fee, before anything is sent: ${quote}`);
      await app.clear("#refund-amount");
      await app.type("#refund-amount", "0.04");
      await app.click("#refund-form button[type=submit]");
      await app.waitForText("#refund-text", (t) => t.startsWith("0.04 SOL, network fee 0.000005 SOL"), 30000);
      await app.waitForText("#detail-refunds", (t) => t.includes("0.04 SOL") && t.includes("confirmed"));
      // More than is left is refused, and nothing is sent.
      await app.click("#refund-start");
      await app.waitForText("#refund-quote", (t) => t.includes("0.06 SOL"));
      await app.clear("#refund-amount");
      await app.type("#refund-amount", "0.07");
      await app.click("#refund-form button[type=submit]");
      await app.waitForText("#refund-problem", (t) => t.includes("at most what is left to refund (0.06 SOL)"), 20000);

      // The day's close: the sale with its tip, its refund, in dollars too.
      await app.click('#nav button[data-screen="close"]');
      await app.click("#close-form button[type=submit]");
      const totals = await app.waitForText("#close-totals-rows", (t) => t.includes("0.1 SOL"));
      assert.ok(totals.includes("0.04 SOL") && totals.includes("0.06 SOL"), totals);
      const fiat = await app.text("#close-fiat-rows");
      assert.ok(fiat.includes("15.00 USD") && fiat.includes("2.50 USD"), fiat);
      assertNotBlank(await app.screenshot("close"));
      // Its CSV, written where the save dialog would have said.
      const csv = join(home, "close.csv");
      const rows = await behindTheDialog(app, "close_export", { from: now - 3600, to: now + 3600, format: "csv", path: csv });
      assert.equal(rows, 1);
      const [header, line] = readFileSync(csv, "utf8").split("\r\n");
      assert.equal(header, "time,way,payment,payer,currency,amount,fiat,fiat_amount,rate,tip,fiat_tip,refunded,state,transaction,reference");
      const f = line.split(",");
      assert.deepEqual(
        [f[1], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12]],
        ["online", customer.address, "SOL", "0.1", "USD", "15.00", "150.000000", "0.016666666", "2.50", "0.04", "confirmed"],
      );
      // A receipt given again says what went back.
      const receipt = await behindTheDialog(app, "online_receipt", { signature: f[2] });
      assert.deepEqual(
        receipt.payments[0].refunds.map((r) => [r.amount_text, r.state]),
        [["0.04 SOL", "confirmed"]],
      );
    } finally {
      await app.close();
    }
  } finally {
    validator.stop();
  }
});

/**
 * Runs tests/validator/wallet/keystone.mjs (Keystone's UR registry and @solana/web3.js, as
 * the wallet adapter's Keystone support uses them) with `args` against `rpcUrl`.
 */
function keystone(rpcUrl, ...args) {
  const script = new URL("../validator/wallet/keystone.mjs", import.meta.url).pathname;
  return execFileSync("node", [script, ...args], { env: { ...process.env, RPC_URL: rpcUrl } }).toString().trim();
}

/** A PNG of a QR code holding `text` (qrcode-generator's GIF, made PNG by ImageMagick). */
function qrPng(text, path) {
  const gif = `${path}.gif`;
  const script = `
    const qrcode = require(process.env.TOSS_NPM_DIR + "/node_modules/qrcode-generator");
    const q = qrcode(0, "M"); q.addData(process.argv[1], "Alphanumeric"); q.make();
    require("fs").writeFileSync(process.argv[2], Buffer.from(q.createDataURL(4, 8).split(",")[1], "base64"));`;
  execFileSync("node", ["-e", script, text.toUpperCase(), gif]);
  execFileSync("convert", [gif, path]);
  return path;
}

test("sign for another tool: Keystone's request read from an image, shown in words, signed, and the answer lands", async () => {
  const home = freshHome();
  const to = keypairFile(freshHome()).address;
  const validator = await localValidator([[PHRASE_ADDRESS, 1_000_000_000]]);
  try {
    const cluster = clusterEnv(validator);
    const app = await launchApp({ ...CLEAN_ENV, ...cluster, TOSS_HOME: home });
    try {
      await importPhrase(app);
      // The accounts, watch-only, for the online wallet: its fingerprint names this wallet.
      await app.click('#nav button[data-screen="sign"]');
      await app.click("#sign-accounts");
      const fingerprint = (await app.waitForText("#sign-accounts-fingerprint", (t) => /[0-9a-f]{8}/.test(t))).match(/[0-9a-f]{8}/)[0];
      assert.ok((await app.text("#sign-accounts-list")).includes(PHRASE_ADDRESS));
      // Keystone's code asks for a transfer of 0.25 SOL; its code is read from an image on the pay screen.
      const made = JSON.parse(keystone(validator.rpc_url, "request", PHRASE_ADDRESS, to, "250000000", fingerprint));
      const png = qrPng(made.ur, join(home, "request.png"));
      await app.click('#nav button[data-screen="pay"]');
      await app.type("#pay-file", png);
      await app.click("#pay-file-form button[type=submit]");
      const steps = await app.waitForText("#sign-steps", (t) => t.length > 0, 20000);
      assert.ok(steps.includes(`sends 0.25 SOL from ${PHRASE_ADDRESS} to ${to}`), steps);
      assert.ok((await app.text("#sign-fields")).includes("Keystone test"));
      assertNotBlank(await app.screenshot("sign-request"));
      await app.click("#sign-sign");
      const answer = await app.waitForText("#sign-answer-ur", (t) => t.startsWith("UR:SOL-SIGNATURE/"), 20000);
      assertNotBlank(await app.screenshot("sign-answer"));
      // Keystone's registry reads the answer, web3.js verifies it, and the transfer lands.
      const landed = keystone(validator.rpc_url, "send", made.message, answer, PHRASE_ADDRESS);
      assert.ok(landed.length > 40, landed);
      const balance = await fetch(validator.rpc_url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getBalance", params: [to, { commitment: "confirmed" }] }),
      }).then((r) => r.json());
      assert.equal(balance.result.value, 250_000_000);
      // A code that is not a request to sign is refused in plain words.
      await app.click('#nav button[data-screen="sign"]');
      await app.clear("#sign-text");
      await app.type("#sign-text", answer);
      await app.click("#sign-open");
      await app.waitForText("#sign-open-problem", (t) => t.includes("not a sol-sign-request"));
    } finally {
      await app.close();
    }
  } finally {
    validator.stop();
  }
});

/** A test certificate authority and a certificate for 127.0.0.1 it signed (openssl). */
function certificates(dir) {
  const at = (f) => join(dir, f);
  const openssl = (...args) => execFileSync("openssl", args, { stdio: "ignore" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", at("ca.key"), "-out", at("ca.pem"), "-days", "2", "-subj", "/CN=TOSS test CA");
  openssl("req", ...ec, "-keyout", at("leaf.key"), "-out", at("leaf.csr"), "-subj", "/CN=127.0.0.1");
  writeFileSync(at("leaf.ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
  openssl("x509", "-req", "-in", at("leaf.csr"), "-CA", at("ca.pem"), "-CAkey", at("ca.key"), "-CAcreateserial",
    "-out", at("leaf.pem"), "-days", "2", "-extfile", at("leaf.ext"));
  return { ca: at("ca.pem"), cert: at("leaf.pem"), key: at("leaf.key") };
}

/**
 * A merchant's transaction-request server built with @solana/pay
 * (tests/validator/wallet/merchant.mjs), over HTTPS; resolves to its address and a stop.
 */
async function merchantServer(rpcUrl, certs, mode, recipient, amount) {
  const script = new URL("../validator/wallet/merchant.mjs", import.meta.url).pathname;
  const child = spawn("node", [script, mode, recipient, amount], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, RPC_URL: rpcUrl, CERT: certs.cert, KEY: certs.key },
  });
  const url = await new Promise((resolve, reject) => {
    child.stdout.once("data", (d) => resolve(String(d).trim()));
    child.on("exit", (code) => reject(new Error(`merchant.mjs exited (${code})`)));
  });
  return { url, stop: () => child.kill() };
}

test("pay a transaction request: the merchant's transaction is shown from its bytes, paid on the validator; a draining one is refused", async () => {
  const home = freshHome();
  const shop = freshHome();
  const merchant = keypairFile(shop);
  const certs = certificates(shop);
  const validator = await localValidator([
    [PHRASE_ADDRESS, 1_000_000_000],
    [merchant.address, 1_000_000_000],
  ]);
  const honest = await merchantServer(validator.rpc_url, certs, "honest", merchant.address, "0.1");
  const drain = await merchantServer(validator.rpc_url, certs, "drain", merchant.address, "0.1");
  try {
    const code = (server, name) => {
      const png = join(home, name);
      execFileSync(tossCli(), ["request", "--link", server.url, "--png", png], {
        env: { ...process.env, ...CLEAN_ENV, TOSS_HOME: shop },
      });
      return png;
    };
    const honestCode = code(honest, "honest.png");
    const drainCode = code(drain, "drain.png");
    const app = await launchApp({
      ...CLEAN_ENV,
      TOSS_HOME: home,
      ...clusterEnv(validator),
      SSL_CERT_FILE: certs.ca, // the test authority, as a user's added one
    });
    try {
      await importPhrase(app);
      await app.click('#nav button[data-screen="pay"]');
      await app.type("#pay-file", honestCode);
      await app.click("#pay-file-form button[type=submit]");
      const fields = await app.waitForText("#pay-tx-fields", (t) => t.includes("0.1 SOL"), 30000);
      assert.ok(fields.includes(merchant.address), fields);
      assert.ok(fields.includes("0.000005 SOL"), fields);
      assert.ok(fields.includes("order 42"), fields);
      assert.equal(await app.text("#pay-tx-label"), "Test Café");
      assertNotBlank(await app.screenshot("pay-transaction-request"));
      await app.click("#pay-tx-form button[type=submit]");
      await app.waitForText("#pay-tx-result", (t) => t.startsWith("Paid online: 0.1 SOL"), 60000);
      const balance = await fetch(validator.rpc_url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getBalance", params: [merchant.address, { commitment: "confirmed" }] }),
      }).then((r) => r.json());
      assert.equal(balance.result.value, 1_100_000_000, "the merchant received exactly the sale");

      // A server adding a transfer that drains the account: refused, with why.
      await app.clear("#pay-file");
      await app.type("#pay-file", drainCode);
      await app.click("#pay-file-form button[type=submit]");
      await app.waitForText("#pay-problem", (t) => t.includes("it pays more than once"), 30000);
      assert.equal(await app.run("return document.querySelector('#pay-tx').hidden"), true);
    } finally {
      await app.close();
    }
  } finally {
    honest.stop();
    drain.stop();
    validator.stop();
  }
});

test("escrow and nonces: open, deposit, a withdrawal under its time lock, nonce accounts created and closed", async () => {
  const home = freshHome();
  const validator = await localValidator([[PHRASE_ADDRESS, 5_000_000_000]]);
  try {
    const app = await launchApp({
      ...CLEAN_ENV,
      TOSS_HOME: home,
      ...clusterEnv(validator),
      TOSS_DECIMAL_SEPARATOR: "comma",
    });
    const field = (key) => `#escrow-fields dd[data-key="${key}"]`;
    try {
      await importPhrase(app);
      await app.waitForText(".balance", (t) => t === "On-chain balance: 5 SOL", 20000);
      await app.click('#nav button[data-screen="escrow"]');
      await app.waitForText("#escrow-problem", (t) => t.includes("no escrow on this cluster yet: open one below"), 20000);
      assert.equal(await app.run("return document.querySelector('#escrow-actions').hidden"), true);

      // Escrow changes need the app passphrase (REQUIRE_BIOMETRIC_FOR_NONCE's default): none set yet.
      await app.click("#escrow-open-form button[type=submit]");
      await app.waitForText("#escrow-problem", (t) => t.includes("none is set; set one in Settings"));
      await app.click('#nav button[data-screen="settings"]');
      await app.type("#passphrase-new", "correct horse");
      await app.type("#passphrase-again", "correct horse");
      await app.click("#passphrase-form button");
      await app.waitForText("#passphrase-saved", (t) => t === "Passphrase set.");
      await app.click('#nav button[data-screen="escrow"]');

      const withPassphrase = async (button) => {
        await app.type("#escrow-passphrase", "correct horse");
        await app.click(button);
        await app.waitForText("#escrow-status", (t) => t.startsWith("Done: transaction"), 30000);
      };
      await app.clear("#escrow-hours");
      await app.type("#escrow-hours", "48");
      await withPassphrase("#escrow-open-form button[type=submit]");
      await app.waitForText(field("time-lock"), (t) => t === "2 d");
      assert.equal(await app.text(field("balance")), "0 SOL");

      // Amounts are typed and shown with the comma the settings chose; a point is refused.
      await app.type("#escrow-deposit", "1.5");
      await app.type("#escrow-passphrase", "correct horse");
      await app.click("#escrow-deposit-form button[type=submit]");
      await app.waitForText("#escrow-problem", (t) => t.includes("decimal comma, like 1,5"));
      await app.clear("#escrow-deposit");
      await app.type("#escrow-deposit", "1,5");
      await withPassphrase("#escrow-deposit-form button[type=submit]");
      await app.waitForText(field("balance"), (t) => t === "1,5 SOL");
      assert.equal(await app.text(field("spendable")), "1,5 SOL");

      await app.type("#escrow-request", "0,5");
      await withPassphrase("#escrow-request-form button[type=submit]");
      await app.waitForText(field("withdrawal"), (t) => /^0,5 SOL, unlocks in (1 d 23 h|2 d)/.test(t));
      assert.equal(await app.text(field("spendable")), "1 SOL");
      assert.equal(await app.run("return document.querySelector('#escrow-withdraw').hidden"), true, "locked: no payout yet");
      assert.equal(await app.run("return document.querySelector('#escrow-cancel').hidden"), false);
      assert.deepEqual(await app.run(OVERFLOWING_CARDS), [], "content wider than its card");
      await app.run("window.scrollTo(0, 0)");
      assertNotBlank(await app.screenshot("escrow"));

      // The nonce pool: the cost first, then the accounts; one closed returns its rent.
      const createNonces = async (count, cost, summary) => {
        await app.clear("#nonce-count");
        await app.type("#nonce-count", String(count));
        await app.click("#nonce-create-form button[type=submit]");
        await app.waitForText("#nonce-cost", cost, 20000);
        await app.type("#escrow-passphrase", "correct horse");
        await app.click("#nonce-create");
        await app.waitForText("#nonce-summary", (t) => t === summary, 30000);
      };
      await createNonces(
        2,
        (t) => /^2 accounts lock 0,\d+ SOL of rent/.test(t),
        "2 of 2 accounts ready for offline payments.",
      );
      await app.run("document.querySelector('#nonce-title').scrollIntoView()");
      assertNotBlank(await app.screenshot("nonces"));
      await app.type("#escrow-passphrase", "correct horse");
      await app.click("#nonce-rows tr button");
      await app.waitForText("#nonce-summary", (t) => t === "1 of 1 account ready for offline payments.", 30000);
      // One more: the pool shows it with the one already there.
      await createNonces(1, (t) => t.startsWith("1 account lock"), "2 of 2 accounts ready for offline payments.");

      await app.type("#escrow-passphrase", "correct horse");
      await app.click("#escrow-cancel");
      await app.waitForText(field("withdrawal"), (t) => t === "none pending", 30000);
      assert.equal(await app.text(field("spendable")), "1,5 SOL");
    } finally {
      await app.close();
    }
  } finally {
    validator.stop();
  }
});

const TAB = "\uE004";
const ENTER = "\uE007";

// Visible controls a keyboard reaches that have no accessible name.
const UNNAMED_CONTROLS = `
  const name = (el) =>
    (el.getAttribute("aria-label") ||
      [...(el.labels ?? [])].map((l) => l.textContent).join(" ") ||
      (el.tagName === "BUTTON" || el.getAttribute("role") === "button" ? el.textContent : "") ||
      el.title || "").trim();
  return [...document.querySelectorAll("button, input, select, textarea, [tabindex]")]
    .filter((el) => el.tabIndex >= 0 && el.getClientRects().length > 0 && !name(el))
    .map((el) => el.outerHTML.slice(0, 100));
`;

// The contrast ratio (WCAG 2) of the first visible element matching each selector
// against the background it is painted on.
const CONTRAST = `
  const rgb = (c) => (c.match(/[\\d.]+/g) ?? []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length === 3 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  return arguments[0].map((css) => {
    const el = [...document.querySelectorAll(css)].find((e) => e.getClientRects().length > 0);
    if (!el) return [css, null];
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
    return [css, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
`;

test("keyboard and accessibility: the till without a mouse, every control named, contrast in both themes, 800x600", async () => {
  const home = freshHome();
  const app = await launchApp({ ...CLEAN_ENV, TOSS_HOME: home, TOSS_PROGRAM_ID: PROGRAM, TOSS_THEME: "dark" });
  try {
    await importPhrase(app);
    assert.equal(await app.run("return document.documentElement.dataset.theme"), "dark", "the theme setting applies");

    // Keyboard only: Tab to Receive, Enter; focus lands on the screen's title, then the amount.
    await app.run("document.activeElement?.blur()");
    let reached = false;
    for (let i = 0; i < 12 && !reached; i += 1) {
      await app.press(TAB);
      reached = await app.run("return document.activeElement?.dataset?.screen === 'receive'");
    }
    assert.ok(reached, "Tab reaches the Receive button");
    await app.press(ENTER);
    assert.equal(await app.run("return document.activeElement.id"), "receive-title");
    await app.press(TAB);
    assert.equal(await app.run("return document.activeElement.id"), "receive-amount");
    await app.press("1", "2", ".", "5", ENTER);
    await app.waitForText("#request-url", (t) => t.startsWith("solana:") && t.includes("amount=12.5"));

    // Every screen: each control a keyboard reaches has a name; nothing scrolls sideways at 800x600.
    await app.resize(800, 600);
    for (const screen of ["home", "receive", "pay", "activity", "close", "escrow", "sign", "settings"]) {
      await app.click(`#nav button[data-screen="${screen}"]`);
      assert.equal(await app.run(`return document.querySelector("#screen-${screen}").hidden`), false);
      assert.deepEqual(await app.run(UNNAMED_CONTROLS), [], `${screen}: unnamed controls`);
      assert.deepEqual(await app.run(OVERFLOWING_CARDS), [], `${screen}: content wider than its card`);
      assert.deepEqual(await app.run(WORDS_CUT), [], `${screen}: labels that could wrap mid-word`);
      const [scroll, width] = await app.run(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]",
      );
      assert.ok(width <= 800 && scroll <= width, `${screen}: ${scroll}px of content in a ${width}px window`);
    }
    await app.click('#nav button[data-screen="receive"]');
    assertNotBlank(await app.screenshot("receive-800x600-dark"));

    // Text against its background, light and dark: WCAG AA (4.5:1).
    const texts = ["main p", ".muted", "label", "th", "#nav button", '#nav button[aria-current="page"]', "button", "footer", "#online"];
    await app.click('#nav button[data-screen="activity"]');
    for (const theme of ["light", "dark"]) {
      await app.run(`document.documentElement.dataset.theme = "${theme}"`);
      const measured = (await app.run(CONTRAST, texts)).filter(([, ratio]) => ratio !== null);
      assert.ok(measured.length >= texts.length - 1, `${theme}: only ${measured.length} measured`);
      for (const [css, ratio] of measured) {
        assert.ok(ratio >= 4.5, `${theme}: ${css} has contrast ${ratio.toFixed(2)}`);
      }
    }
  } finally {
    await app.close();
  }
});

const USDC_DEVNET = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";

test("USDC: the till asks in USDC, a USDC request is paid, a USDC payment is taken; an unknown token is refused", async () => {
  const home = freshHome();
  const cli = freshHome();
  const env = { ...process.env, ...CLEAN_ENV, TOSS_HOME: cli, TOSS_PROGRAM_ID: PROGRAM };
  const request = join(cli, "request.png");
  execFileSync(tossCli(), ["request", "--to", MERCHANT, "--amount", "2.25", "--mint", USDC_DEVNET, "--decimals", "6", "--png", request], { env });
  const other = join(cli, "other.png");
  execFileSync(tossCli(), ["request", "--to", MERCHANT, "--amount", "1", "--mint", ADDRESS, "--decimals", "6", "--png", other], { env });
  const intent = join(cli, "intent.bin");
  const payment = join(cli, "intent.png");
  execFileSync(tossCli(), ["intent", "create", "--keypair", keypairFile(cli).path, "--to", PHRASE_ADDRESS, "--amount", "3", "--mint", USDC_DEVNET, "--decimals", "6", "--out", intent], { env });
  execFileSync(tossCli(), ["intent", "export-qr", intent, "--png", payment], { env });

  const app = await launchApp({ ...CLEAN_ENV, TOSS_HOME: home, TOSS_PROGRAM_ID: PROGRAM, SOLANA_RPC_URL: "http://127.0.0.1:9" });
  try {
    await importPhrase(app);
    // The till: a request in USDC is a Solana Pay SPL request.
    await app.click('#nav button[data-screen="receive"]');
    await app.click('#receive-currency option[value="USDC"]');
    await app.type("#receive-amount", "12.5");
    await app.click("#receive-form button[type=submit]");
    await app.waitForText("#request-url", (t) => t.includes(`amount=12.5&spl-token=${USDC_DEVNET}`));
    // A USDC payment of 3 for a sale of 12.5 is refused, naming both.
    await app.chosen("#receive-file", payment);
    await app.click("#receive-file-form button[type=submit]");
    await app.waitForText("#receive-status", (t) => t === "refused: this payment is 3 USDC; the sale is 12.5 USDC");
    // The same 3 USDC for a sale of 3 SOL: another currency.
    await app.click('#receive-currency option[value="SOL"]');
    await app.clear("#receive-amount");
    await app.type("#receive-amount", "3");
    await app.click("#receive-form button[type=submit]");
    await app.waitForText("#request-url", (t) => t.includes("amount=3&reference"));
    await app.click("#receive-file-form button[type=submit]");
    await app.waitForText("#receive-status", (t) => t === "refused: this payment is in USDC; the sale is in SOL");
    // A sale of 3 USDC: verified with USDC's limits, shown in USDC.
    await app.click('#receive-currency option[value="USDC"]');
    await app.click("#receive-form button[type=submit]");
    await app.waitForText("#request-url", (t) => t.includes(`amount=3&spl-token=${USDC_DEVNET}`));
    await app.click("#receive-file-form button[type=submit]");
    await app.waitForText("#received-fields", (t) => t.includes("3 USDC"));

    // Paying a USDC request: the amount is in USDC and the intent names the mint.
    await app.click('#nav button[data-screen="pay"]');
    await app.type("#pay-file", request);
    await app.click("#pay-file-form button[type=submit]");
    await app.waitForText("#pay-fields", (t) => t.includes("2.25 USDC"));
    assert.equal(await app.text("#pay-amount-unit"), "USDC");
    await app.click("#pay-confirm button[type=submit]");
    await app.waitForText("#pay-intent h2", (t) => t === "Show this to the merchant");

    // A token whose decimals cannot be known offline is refused before anything is signed.
    await app.clear("#pay-file");
    await app.type("#pay-file", other);
    await app.click("#pay-file-form button[type=submit]");
    await app.waitForText("#pay-fields", (t) => t.includes(`1 of token ${ADDRESS} (not one TOSS pays offline)`));
    await app.click("#pay-confirm button[type=submit]");
    await app.waitForText("#pay-problem", (t) => t.includes("is not one TOSS can pay offline"));

    await app.click('#nav button[data-screen="activity"]');
    const rows = await app.waitForText("#activity-rows", (t) => t.includes("sent"));
    assert.match(rows, /sent\s*2\.25 USDC/);
    assert.match(rows, /received\s*3 USDC/);
  } finally {
    await app.close();
  }
});

test("a till with no keyring: keys in the encrypted file chosen at set-up, unlocked at each start", async () => {
  const home = freshHome();
  // No desktop session bus, so no Secret Service; nothing chose another storage.
  const env = { ...CLEAN_ENV, TOSS_HOME: home, TOSS_KEYSTORE: "", DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/toss-bus" };
  let app = await launchApp(env);
  try {
    await app.waitForText("#wallet-state", (t) => t === "No wallet on this computer yet.", 30000);
    await app.type("#import-phrase", PHRASE);
    await app.click("#import-form button[type=submit]");
    // Said as what it is, with the way out offered.
    const said = await app.waitForText("#wallet-state", (t) => t.startsWith("Could not import"));
    assert.match(said, /no desktop session bus/);
    assert.doesNotMatch(said, /keychain is locked/);
    await app.type("#keyfile-new", "kiosk passphrase");
    await app.type("#keyfile-again", "kiosk passphrase");
    await app.click("#keyfile-card button[type=submit]");
    await app.waitForText("#wallet-state", (t) => t.startsWith("The keys will be kept in the encrypted file"));
    await app.clear("#import-phrase");
    await app.type("#import-phrase", PHRASE);
    await app.click("#import-form button[type=submit]");
    await app.waitForText("#wallet-state", (t) => t === `Account imported: ${PHRASE_ADDRESS}`, 20000);
    await app.click("#setup-card button[type=submit]");
    await app.waitForText("#accounts", (t) => t.includes(PHRASE_ADDRESS));
    assert.match(readFileSync(join(home, "settings.toml"), "utf8"), /keystore = "file"/);
    const sealed = readFileSync(join(home, "keys.sealed"), "utf8");
    assert.doesNotMatch(sealed, /abandon|kiosk passphrase/);
    await app.click('#nav button[data-screen="settings"]');
    await app.waitForText("#key-storage", (t) => t.includes("encrypted with the app passphrase"));
  } finally {
    await app.close();
  }
  // The next start: locked until the passphrase is given.
  app = await launchApp(env);
  try {
    await app.waitForText("#unlock-title", (t) => t === "Unlock the wallet");
    await app.type("#unlock-passphrase", "kiosk passphrasf");
    await app.click("#unlock-form button[type=submit]");
    await app.waitForText("#unlock-problem", (t) => t === "wrong passphrase");
    await app.type("#unlock-passphrase", "kiosk passphrase");
    await app.click("#unlock-form button[type=submit]");
    await app.waitForText("#accounts", (t) => t.includes(PHRASE_ADDRESS));
    assertNotBlank(await app.screenshot("unlocked"));
  } finally {
    await app.close();
  }
});
