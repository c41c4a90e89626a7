// End-to-end: the real toss-desktop binary in its real WebView, driven over WebDriver.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { freshHome, launchApp } from "./webdriver.mjs";

const version = readFileSync(new URL("../../Cargo.toml", import.meta.url), "utf8").match(
  /^version = "([^"]+)"/m,
)[1];

// The settings variables the app reads; cleared so a developer's shell cannot leak in.
const CLEAN_ENV = Object.fromEntries(
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
  ].map((k) => [k, ""]),
);

const ADDRESS = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";

/** Fails unless the screenshot is a PNG with many colours (ImageMagick counts them). */
function assertNotBlank({ path, png }) {
  assert.equal(png.subarray(1, 4).toString(), "PNG");
  const colours = Number(execFileSync("identify", ["-format", "%k", path], { encoding: "utf8" }));
  assert.ok(colours > 50, `${path} looks blank: ${colours} colours`);
}

test("shows what Rust reports and re-checks the wallet on click", async () => {
  const home = freshHome();
  const app = await launchApp({ ...CLEAN_ENV, TOSS_HOME: home, SOLANA_CLUSTER: "testnet" });
  try {
    assert.equal(await app.title(), "TOSS");
    await app.waitForText("#version", (t) => t === `TOSS Desktop ${version}`);
    assert.equal(await app.text("#cluster"), "testnet");
    assert.equal(await app.text("#data-dir"), home);
    assert.equal(
      await app.text('#settings dd[data-key="rpc_url"]'),
      "https://api.testnet.solana.com/",
    );
    await app.waitForText("#wallet-state", (t) => t === "No wallet on this computer yet.");

    // A wallet appears on disk (as the CLI would write it); the click asks Rust again.
    writeFileSync(
      join(home, "accounts.json"),
      JSON.stringify({
        version: 1,
        wallet_id: "00112233445566778899aabbccddeeff",
        accounts: [{ label: "Till 1", address: ADDRESS, source: "phrase" }],
      }),
    );
    await app.click("#wallet-check");
    await app.waitForText("#wallet-state", (t) => t === "Wallet found: 1 account(s).");
    assert.match(await app.text("#accounts"), new RegExp(`Till 1\\s+${ADDRESS}`));
    assertNotBlank(await app.screenshot("home-wallet-found"));
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

test("a damaged account list is reported when the wallet is checked", async () => {
  const home = freshHome();
  writeFileSync(join(home, "accounts.json"), "{ not json");
  const app = await launchApp({ ...CLEAN_ENV, TOSS_HOME: home });
  try {
    await app.waitForText("#cluster", (t) => t === "devnet");
    const state = await app.waitForText("#wallet-state", (t) => t.startsWith("Could not read"));
    assert.match(state, /accounts\.json is damaged/);
    await app.click("#wallet-check");
    await app.waitForText("#wallet-state", (t) => t.startsWith("Could not read"));
  } finally {
    await app.close();
  }
});
