// What the screens do with the answers and events of commands the end-to-end tests cannot
// drive on this machine (no radio, no webcam, no 48-hour wait). See harness.mjs.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { ADDRESS, CONFIG, CURRENCIES, MERCHANT, openApp, start, stop } from "./harness.mjs";

before(start);
after(stop);

const SVG = (n) => `<svg xmlns="http://www.w3.org/2000/svg" data-frame="${n}" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>`;
const REQUEST = {
  kind: "payment-request",
  request: { recipient: MERCHANT, amount: "1.5", label: "Till 1", references: [ADDRESS], offline: true },
  amount_text: "1.5 SOL",
  amount_input: "1.5",
  unit: "SOL",
  url: `solana:${MERCHANT}?amount=1.5&reference=${ADDRESS}&label=Till%201`,
};
/** The receipt Rust makes for a 0.25 SOL payment from MERCHANT seen online in `signature`. */
const onlineReceipt = (signature, seenAt) => ({
  payee: ADDRESS,
  total_text: "0.25 SOL",
  payments: [
    {
      uri: `https://explorer.solana.com/tx/${signature}?cluster=devnet`,
      qr_svg: SVG(7),
      id: signature,
      payer: MERCHANT,
      payee: ADDRESS,
      mint: null,
      amount: 250_000_000,
      amount_text: "0.25 SOL",
      memo: null,
      verified_at: seenAt,
    },
  ],
});
const INTENT = { id: "ab".repeat(32), hex: "0102", frames: [SVG(0), SVG(1), SVG(2)], frame_ms: 50 };

/** Reads a merchant's request from an image and signs the payment (the path the e2e tests cover). */
async function signedPayment(app) {
  await app.answer("scan_image", { ok: REQUEST });
  await app.answer("intent_create", { ok: INTENT });
  await app.show("pay");
  await app.page.fill("#pay-file", "/tmp/request.png");
  await app.page.click("#pay-file-form button[type=submit]");
  await app.page.click("#pay-confirm button[type=submit]");
  await app.page.locator("#pay-intent").waitFor();
}

test("pay over Bluetooth: nearby merchants listed, the chosen one paid, its acknowledgement shown", async () => {
  const app = await openApp({
    answers: {
      ble_devices: { ok: [{ id: "hci0/dev_AA", name: "Till 1", rssi: -48 }, { id: "hci0/dev_BB", name: null, rssi: null }] },
      ble_pay: { ok: { acknowledgement: { entries: [{ index: 0, refused: null }] }, verification_code: "493027", handed_over: 1 } },
    },
  });
  try {
    await signedPayment(app);
    // Three animated parts, cycled.
    const seen = new Set();
    for (let i = 0; i < 20 && seen.size < 3; i += 1) {
      seen.add(await app.page.getAttribute("#pay-intent-qr svg", "data-frame"));
      await app.page.waitForTimeout(60);
    }
    assert.deepEqual([...seen].sort(), ["0", "1", "2"]);

    await app.page.click("#pay-ble");
    await app.page.getByText("Choose the merchant:").waitFor();
    assert.deepEqual(await app.page.locator("#pay-devices button").allTextContents(), ["Till 1 (-48 dBm)", "Unnamed (? dBm)"]);
    await app.page.click("#pay-devices button >> nth=0");
    await app.page.getByText("The merchant accepted the payment (code 493027).").waitFor();
    const pay = (await app.calls()).find(([cmd]) => cmd === "ble_pay");
    // Bound to the sale scanned; its request named no till key.
    assert.deepEqual(pay[1], { device: "hci0/dev_AA", intents: [INTENT.hex], reference: ADDRESS, tillKey: null });

    // A merchant that refuses says why.
    await app.answer("ble_pay", { ok: { acknowledgement: { entries: [{ index: 0, refused: "expired" }] }, verification_code: "1", handed_over: 0 } });
    await app.page.click("#pay-devices button >> nth=0");
    await app.page.getByText("The merchant refused it: expired").waitFor();
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("a payment for a till that names its key is shown sealed to it; otherwise it says it is not encrypted", async () => {
  const TILL_KEY = "8qbHbw2BbbTHBW1sbeqakYXVKRQM8Ne7pLK7m6CVfeR";
  const sealedRequest = { ...REQUEST, request: { ...REQUEST.request, noise_key: TILL_KEY } };
  const app = await openApp({ answers: { scan_image: { ok: sealedRequest }, intent_create: { ok: { ...INTENT, sealed: true } } } });
  try {
    await app.show("pay");
    await app.page.fill("#pay-file", "/tmp/request.png");
    await app.page.click("#pay-file-form button[type=submit]");
    await app.page.click("#pay-confirm button[type=submit]");
    await app.page.getByText("Encrypted for this merchant's till: only it can read this code.").waitFor();
    const create = (await app.calls()).find(([cmd]) => cmd === "intent_create");
    assert.equal(create[1].tillKey, TILL_KEY, "the till's key from its request");
    assert.equal(create[1].reference, ADDRESS);
  } finally {
    await app.close();
  }
  const plain = await openApp({});
  try {
    await signedPayment(plain);
    await plain.page.getByText(/^Not encrypted: the merchant's code named no till key/).waitFor();
    const create = (await plain.calls()).find(([cmd]) => cmd === "intent_create");
    assert.equal(create[1].tillKey, null);
  } finally {
    await plain.close();
  }
});

test("pay over NFC: the reader is left to the settings, and a missing reader is said plainly", async () => {
  const app = await openApp({ answers: { nfc_pay: { err: "no NFC reader is connected: plug one in" } } });
  try {
    await signedPayment(app);
    await app.page.click("#pay-nfc");
    await app.page.getByText("Not handed over: no NFC reader is connected: plug one in").waitFor();
    const pay = (await app.calls()).find(([cmd]) => cmd === "nfc_pay");
    assert.deepEqual(pay[1], { intents: [INTENT.hex], reference: ADDRESS, tillKey: null }, "no reader named: Rust uses the one in Settings");
    assert.equal(await app.page.isDisabled("#pay-nfc"), false, "the button comes back after a failure");
  } finally {
    await app.close();
  }
});

test("a handover with nothing scanned asks the payer to compare the codes; the answer goes to Rust", async () => {
  const app = await openApp({ answers: { handover_confirm: { ok: null } } });
  try {
    await signedPayment(app);
    await app.emit("handover", { stage: "confirm", code: "493 027" });
    await app.page.getByText("Does the merchant's screen show the code 493 027?").waitFor();
    await app.page.click("#pay-code-differs");
    assert.equal(await app.page.isHidden("#pay-code"), true, "asked once");
    const answer = (await app.calls()).find(([cmd]) => cmd === "handover_confirm");
    assert.deepEqual(answer[1], { code: "493 027", same: false });
  } finally {
    await app.close();
  }
});

test("receive over Bluetooth: waiting, connected, then what was kept and refused", async () => {
  const app = await openApp({
    answers: {
      request_create: { ok: { url: `solana:${ADDRESS}?amount=2`, qr_svg: SVG(0), request: {} } },
      receipt: {
        ok: {
          payee: ADDRESS,
          total_text: "2 SOL",
          payments: [1, 2].map((n) => ({
            uri: `toss-receipt:${"cd".repeat(32)}?v=${n}`,
            qr_svg: SVG(8 + n),
            id: `${n}`.repeat(64),
            payer: MERCHANT,
            payee: ADDRESS,
            mint: null,
            amount: 1_000_000_000,
            amount_text: "1 SOL",
            memo: "coffee",
            verified_at: 1_790_000_000,
          })),
        },
      },
    },
  });
  try {
    await app.show("receive");
    await app.page.fill("#receive-amount", "2");
    await app.page.click("#receive-form button[type=submit]");
    await app.page.locator("#request-card").waitFor();
    await app.hold("ble_receive");
    await app.page.click("#receive-ble");
    assert.equal(await app.page.isDisabled("#receive-ble"), true, "one wait at a time");
    await app.emit("handover", { stage: "waiting", transport: "ble" });
    await app.page.getByText("Waiting on Bluetooth…").waitFor();
    await app.emit("handover", { stage: "connected", transport: "ble" });
    await app.page.getByText("Connected on Bluetooth: checking the payment…").waitFor();
    // The till shows the session's code for a payer who scanned nothing to compare.
    await app.emit("handover", { stage: "code", code: "200 417" });
    await app.page.getByText(/^Secure session, code 200 417/).waitFor();
    await app.settle("ble_receive", {
      ok: {
        verification_code: "200417",
        intents: [{ id: "1".repeat(64), refused: null }, { id: "2".repeat(64), refused: null }],
        sale: "paid: 2 SOL in 2 payments",
      },
    });
    await app.page.getByText("Sale paid: 2 SOL in 2 payments (code 200417)").waitFor();
    // One receipt for the sale, every payment kept on it, printed alone.
    await app.page.locator("#receipt-card").waitFor();
    assert.deepEqual((await app.calls()).find(([cmd]) => cmd === "receipt")[1], { ids: ["1".repeat(64), "2".repeat(64)] });
    const verified = new Date(1_790_000_000_000).toLocaleString();
    const line = (n) => `Paid by${MERCHANT}Amount1 SOLMemocoffeeAccepted${verified}Payment id${`${n}`.repeat(64)}`;
    assert.equal(await app.page.textContent('#receipt-fields'), `Paid to${ADDRESS}Total2 SOL${line(1)}${line(2)}`);
    assert.deepEqual(
      await app.page.$$eval("#receipt-qr [data-uri]", (codes) => codes.map((c) => c.dataset.uri)),
      [`toss-receipt:${"cd".repeat(32)}?v=1`, `toss-receipt:${"cd".repeat(32)}?v=2`],
    );
    await app.page.emulateMedia({ media: "print" });
    const style = (css, prop) => app.page.$eval(css, (e, p) => getComputedStyle(e)[p], prop);
    assert.equal(await style("#receipt-card", "visibility"), "visible");
    assert.equal(await style("#receipt-qr", "visibility"), "visible");
    assert.equal(await style("#request-card", "visibility"), "hidden");
    assert.equal(await style("#receipt-print", "display"), "none");
    await app.page.emulateMedia({ media: "screen" });

    // The next wait clears the last customer's payment: a refused one leaves no receipt.
    await app.hold("ble_receive");
    await app.page.click("#receive-ble");
    assert.equal(await app.page.isHidden("#receipt-card"), true);
    const short = "this payment is 0.002 SOL; the sale is 2 SOL";
    await app.settle("ble_receive", {
      ok: { verification_code: "1", intents: [{ id: null, refused: short }], sale: "waiting for 2 SOL" },
    });
    await app.page.getByText(`Sale waiting for 2 SOL (code 1); refused: ${short}`).waitFor();
    assert.equal(await app.page.isHidden("#receipt-card"), true);
    const call = (await app.calls()).find(([cmd]) => cmd === "ble_receive");
    assert.deepEqual(call[1], { name: "TOSS" }, "the sale Rust holds names the payee");
  } finally {
    await app.close();
  }
});

test("the live camera: preview, animated-code progress, the code read; a camera that fails is reported", async () => {
  const app = await openApp({
    config: { camera: "Integrated Camera", camera_mirror: true },
    answers: {
      cameras: { ok: [{ index: 0, name: "USB Camera" }, { index: 1, name: "Integrated Camera" }] },
      scan_start: { ok: null },
      scan_stop: { ok: null },
    },
  });
  try {
    await app.show("pay");
    // The settings' camera and mirror are the defaults.
    assert.equal(await app.page.inputValue("#pay-camera"), "1");
    assert.equal(await app.page.isChecked("#pay-mirror"), true);
    await app.page.click("#pay-scan");
    await app.page.locator("#pay-scan-stop").waitFor();
    assert.deepEqual((await app.calls()).find(([cmd]) => cmd === "scan_start")[1], { camera: 1, width: null, height: null, mirror: true });

    const png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    await app.emit("scan", { kind: "preview", png });
    await app.page.locator("#pay-preview").waitFor();
    await app.emit("scan", { kind: "progress", seen: 3, total: 7 });
    await app.page.getByText("Reading an animated code: 3 parts seen, about 7 needed").waitFor();
    await app.emit("scan", { kind: "unreadable", message: "not a TOSS code" });
    await app.page.getByText("That code cannot be used: not a TOSS code").waitFor();
    await app.emit("scan", { kind: "code", scanned: REQUEST });
    await app.page.locator("#pay-fields").getByText("A payment request").waitFor();
    assert.equal(await app.page.isHidden("#pay-preview"), true, "the preview goes when the code is read");
    assert.equal(await app.page.inputValue("#pay-amount"), "1.5");

    // A resolution picked for a cheap webcam goes to Rust.
    await app.page.selectOption("#pay-resolution", "640x480");
    await app.page.click("#pay-scan");
    await app.page.locator("#pay-scan-stop").waitFor();
    const starts = (await app.calls()).filter(([cmd]) => cmd === "scan_start");
    assert.deepEqual(starts.at(-1)[1], { camera: 1, width: 640, height: 480, mirror: true });
    await app.page.click("#pay-scan-stop");

    await app.answer("scan_start", { err: "the camera is busy (another app uses it)" });
    await app.page.click("#pay-scan");
    await app.page.getByText("The camera did not start: the camera is busy (another app uses it)").waitFor();
    assert.equal(await app.page.isVisible("#pay-scan"), true, "Start stays offered");
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("settle now: the engine's progress as it comes, then the outcome", async () => {
  const app = await openApp();
  try {
    await app.show("activity");
    await app.hold("settle_now");
    await app.page.click("#settle-now");
    await app.emit("settle", { event: "started", intents: 3, text: "Settling 3 payments…" });
    await app.page.getByText("Settling 3 payments…").waitFor();
    await app.emit("settle", {
      event: "retrying",
      after_ms: 2000,
      error: "connection refused",
      text: "The cluster did not answer (connection refused); trying again in 2 s…",
    });
    // A step with nothing to say leaves the last one shown.
    await app.emit("settle", { event: "cleaned-up", expired: 0, deleted: 0, text: null });
    await app.page.getByText("The cluster did not answer (connection refused); trying again in 2 s…").waitFor();
    await app.emit("settle", { event: "submitting", intents: 3, text: "Sending 3 payments to the cluster…" });
    await app.page.getByText("Sending 3 payments to the cluster…").waitFor();
    await app.settle("settle_now", { ok: { resolved: 3, paid: 2, text: "Done: 2 of 3 payments paid on-chain." } });
    await app.page.getByText("Done: 2 of 3 payments paid on-chain.").waitFor();
  } finally {
    await app.close();
  }
});

/** An escrow view as Rust sends it; `amounts` as it writes them (a comma here). */
const ESCROW = (now, unlocksAt, amounts = { balance: "2 SOL", promised: "0,25 SOL", spendable_offline: "1,25 SOL", pending_withdrawal: "0,5 SOL" }) => ({
  amounts,
  status: {
    address: "E8dYWVDB9s6QJrbt6i7tzb8BkBP5KXfA89Df6d9CB23W",
    balance: 2_000_000_000,
    pending_withdrawal: unlocksAt === null ? 0 : 500_000_000,
    requested_at: now - 90_000,
    withdraw_delay: 86_400,
    at: now - 60,
    unlocks_at: unlocksAt,
    promised: 250_000_000,
    spendable_offline: 1_250_000_000,
  },
  now,
  problem: null,
  signature: null,
  currency: CURRENCIES[0],
});

test("escrow: a withdrawal whose time lock ran out is paid out; amounts in the chosen separator", async () => {
  const now = 1_790_000_000;
  const app = await openApp({
    config: { decimal_separator: "comma" },
    answers: {
      escrow_view: { ok: ESCROW(now, now - 3600) },
      nonce_pool: { ok: { records: [], available: 0 } },
      escrow_act: { ok: { ...ESCROW(now, null), signature: "5ig" } },
    },
  });
  try {
    await app.show("escrow");
    const field = (key) => app.page.textContent(`#escrow-fields dd[data-key="${key}"]`);
    await app.page.locator('#escrow-fields dd[data-key="withdrawal"]').getByText("0,5 SOL, ready to withdraw").waitFor();
    assert.equal(await field("spendable"), "1,25 SOL");
    assert.equal(await field("time-lock"), "1 d");
    assert.equal(await app.page.textContent("#nonce-summary"), "No nonce accounts yet.");
    await app.page.click("#escrow-withdraw");
    await app.page.getByText("Done: transaction 5ig confirmed.").waitFor();
    const act = (await app.calls()).find(([cmd]) => cmd === "escrow_act");
    assert.deepEqual(act[1], { action: { kind: "withdraw" }, currency: "SOL", passphrase: null });
    assert.equal(await field("withdrawal"), "none pending");
    assert.equal(await app.page.isHidden("#escrow-withdraw"), true);
    assert.equal(await app.page.isHidden("#escrow-cancel"), true);

    // Still locked: the time left, and no payout offered.
    await app.answer("escrow_view", { ok: ESCROW(now, now + 5 * 3600 + 120) });
    await app.page.click("#escrow-refresh");
    await app.page.locator('#escrow-fields dd[data-key="withdrawal"]').getByText(/^0,5 SOL, unlocks in 5 h 2 min/).waitFor();
    assert.equal(await app.page.isHidden("#escrow-withdraw"), true);
    assert.equal(await app.page.isVisible("#escrow-cancel"), true);

    // The USDC escrow: asked for by its symbol, shown in USDC with six decimals.
    const usdc = { balance: "2000 USDC", promised: "250 USDC", spendable_offline: "1250 USDC", pending_withdrawal: "0 USDC" };
    await app.answer("escrow_view", { ok: { ...ESCROW(now, null, usdc), currency: CURRENCIES[1] } });
    await app.page.selectOption("#escrow-currency", "USDC");
    await app.page.locator('#escrow-fields dd[data-key="balance"]').getByText("2000 USDC").waitFor();
    const views = (await app.calls()).filter(([cmd]) => cmd === "escrow_view").map(([, a]) => a.currency);
    assert.equal(views.at(-1), "USDC");
  } finally {
    await app.close();
  }
});

test("nonces: what is created is the count whose rent was shown", async () => {
  const app = await openApp({
    answers: {
      escrow_view: { ok: { ...ESCROW(1_790_000_000, null) } },
      nonce_pool: { ok: { records: [], available: 0 } },
      nonce_cost: {
        ok: { accounts: 2, rent_each: 1_447_680, total: 2_895_360, rent_each_text: "0.00144768 SOL", total_text: "0.00289536 SOL" },
      },
      nonce_act: { ok: { records: [], available: 0 } },
    },
  });
  try {
    await app.show("escrow");
    await app.page.fill("#nonce-count", "2");
    await app.page.click("#nonce-create-form button[type=submit]");
    await app.page.getByText("2 accounts lock 0.00289536 SOL of rent (0.00144768 SOL each), returned when closed; plus fees.").waitFor();
    // Changing the number withdraws the offer; it has to be priced again.
    await app.page.fill("#nonce-count", "7");
    assert.equal(await app.page.isHidden("#nonce-confirm"), true);
    // A fraction is stopped by the field itself: nothing is priced.
    await app.page.fill("#nonce-count", "2.5");
    await app.page.click("#nonce-create-form button[type=submit]");
    assert.equal(await app.page.$eval("#nonce-count", (e) => e.validity.valid), false);
    await app.page.fill("#nonce-count", "2");
    await app.page.click("#nonce-create-form button[type=submit]");
    await app.page.click("#nonce-create");
    await app.page.getByText("Done.").waitFor();
    const create = (await app.calls()).find(([cmd]) => cmd === "nonce_act");
    assert.deepEqual(create[1].action, { kind: "create", count: 2 });
    assert.equal((await app.calls()).filter(([cmd]) => cmd === "nonce_cost").length, 2, "2.5 was never priced");
  } finally {
    await app.close();
  }
});

test("escrow: offline, the last snapshot stays and the reason is shown; a nonce held by a payment cannot be closed", async () => {
  const now = 1_790_000_000;
  const records = [
    { address: "6rR8ZPd1KrSjjbegbTqWrHQhh6sZCqydHvvnqPmsAHPB", state: "available", lamports: 1_447_680, lamports_text: "0.00144768 SOL" },
    { address: "E6p3fa3SnCP16T87Vqo1PQPuR6bW4cKrR27RE7vSQRmq", state: "assigned", lamports: 1_447_680, lamports_text: "0.00144768 SOL" },
    { address: "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin", state: "closed", lamports: 0, lamports_text: "0 SOL" },
  ];
  const app = await openApp({
    answers: {
      escrow_view: { ok: { ...ESCROW(now, null), problem: "the cluster could not be reached (https://api.devnet.solana.com: connection refused, after 4 attempts); payments waiting to settle stay waiting until it answers" } },
      nonce_pool: { ok: { records, available: 1 } },
    },
  });
  try {
    await app.show("escrow");
    await app.page.getByText("payments waiting to settle stay waiting until it answers", { exact: false }).waitFor();
    assert.equal(await app.page.textContent('#escrow-fields dd[data-key="balance"]'), "2 SOL");
    assert.equal(await app.page.textContent("#nonce-summary"), "1 of 2 accounts ready for offline payments.");
    const rows = app.page.locator("#nonce-rows tr");
    assert.equal(await rows.count(), 2, "closed accounts are not listed");
    assert.equal(await rows.nth(1).locator("td").nth(1).textContent(), "held by a payment");
    assert.equal(await rows.nth(1).locator("button").isDisabled(), true);
    assert.equal(await rows.nth(0).locator("button").isDisabled(), false);
  } finally {
    await app.close();
  }
});

test("settings: where keys are kept, and the kernel keyring's warning on settings and set-up", async () => {
  const warning = "the kernel keyring forgets every key at logout and at reboot: keep the recovery phrase, or the wallet is lost with them";
  const app = await openApp({
    answers: {
      app_info: {
        ok: {
          version: "0.1.0",
          data_dir: "/srv/till",
          config: null,
          problem: null,
          key_storage: { kind: "keyutils", description: "the kernel keyring (keyutils)", warning },
        },
      },
      // A command's refusal reads as its message, whatever its kind.
      metrics: { err: { kind: "keychain", message: "no keyring (Secret Service) is running on this desktop" } },
    },
  });
  try {
    await app.show("settings");
    assert.equal(await app.page.textContent("#key-storage"), "Keys are kept in the kernel keyring (keyutils).");
    assert.equal(await app.page.textContent("#key-storage-warning"), `Warning: ${warning}.`);
    assert.equal(await app.page.textContent("#onboarding-keys-warning"), `Warning: ${warning}.`);
    await app.page.getByText("no keyring (Secret Service) is running on this desktop").waitFor();
  } finally {
    await app.close();
  }
});

test("a key file locked at start is unlocked first; a wrong passphrase is said", async () => {
  const locked = { kind: "file", description: "a key file in the data directory, encrypted with the app passphrase", warning: null, locked: true, new_file: false };
  const app = await openApp({
    answers: {
      app_info: { ok: { version: "0.1.0", data_dir: "/srv/till", config: null, problem: null, key_storage: locked } },
      keys_unlock: { err: { kind: "gate", message: "wrong passphrase" } },
    },
    screen: "unlock",
  });
  try {
    await app.page.locator("#unlock-form").waitFor();
    assert.equal(await app.page.isHidden("#nav"), true, "nothing else until it is unlocked");
    await app.page.fill("#unlock-passphrase", "till passphrasf");
    await app.page.click("#unlock-form button");
    await app.page.getByText("wrong passphrase").waitFor();
    await app.answer("keys_unlock", { ok: null });
    await app.page.fill("#unlock-passphrase", "till passphrase");
    await app.page.click("#unlock-form button");
    await app.page.locator("#screen-home").waitFor();
    const unlocks = (await app.calls()).filter(([cmd]) => cmd === "keys_unlock");
    assert.deepEqual(unlocks.map(([, a]) => a), [{ passphrase: "till passphrasf" }, { passphrase: "till passphrase" }]);
    assert.equal(await app.page.inputValue("#unlock-passphrase"), "", "the passphrase leaves the screen");
  } finally {
    await app.close();
  }
});

test("set-up with no keychain offers the encrypted key file, then creates the wallet in it", async () => {
  const app = await openApp({
    answers: {
      wallet_status: { ok: { exists: false, accounts: [] } },
      wallet_create: { err: { kind: "keychain", message: "no keyring (Secret Service) is running on this desktop" } },
      keys_use_file: { ok: { ...CONFIG, keystore: "file" } },
    },
    screen: "onboarding",
  });
  try {
    await app.page.locator("#create-form").waitFor();
    assert.equal(await app.page.isHidden("#keyfile-card"), true, "not offered while the keychain may work");
    await app.page.click("#create-form button");
    await app.page.getByText("Could not create the wallet: no keyring (Secret Service) is running on this desktop").waitFor();
    await app.page.locator("#keyfile-card").waitFor();
    await app.page.fill("#keyfile-new", "till passphrase");
    await app.page.fill("#keyfile-again", "till passphrasf");
    await app.page.click("#keyfile-card button");
    await app.page.getByText("The two passphrases differ.").waitFor();
    await app.page.fill("#keyfile-new", "till passphrase");
    await app.page.fill("#keyfile-again", "till passphrase");
    await app.page.click("#keyfile-card button");
    await app.page.getByText("The keys will be kept in the encrypted file. Now create or import the wallet.").waitFor();
    const chosen = (await app.calls()).filter(([cmd]) => cmd === "keys_use_file");
    assert.deepEqual(chosen.map(([, a]) => a), [{ passphrase: "till passphrase" }]);
    assert.equal(await app.page.isHidden("#keyfile-card"), true);
  } finally {
    await app.close();
  }
});

test("receive online: the till watches for any wallet's payment and says when it is paid, or why not", async () => {
  const app = await openApp({
    answers: {
      request_create: { ok: { url: `solana:${ADDRESS}?amount=0.25`, qr_svg: SVG(0), request: {} } },
      online_receipt: { ok: onlineReceipt("5sig", 1_790_000_000) },
    },
  });
  try {
    // Counts the till's sounds (the page's own audio, stood in for).
    await app.page.evaluate(() => {
      window.chimes = 0;
      window.AudioContext = class {
        currentTime = 0;
        destination = {};
        createGain = () => ({ gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect: (n) => n });
        createOscillator = () => ({ frequency: {}, connect: (n) => n, start: () => (window.chimes += 1), stop() {} });
        close() {}
      };
    });
    await app.show("receive");
    await app.hold("sale_watch");
    await app.page.fill("#receive-amount", "0.25");
    await app.page.click("#receive-form button[type=submit]");
    await app.page.getByText("Waiting for the payment: online from any Solana wallet, or offline.").waitFor();
    assert.ok((await app.calls()).some(([cmd]) => cmd === "sale_watch"), "Rust is asked to watch");
    await app.emit("sale", {
      stage: "refused",
      signature: "3sig",
      reason: "the transaction pays 200000000 base units; the sale is 250000000",
    });
    await app.page
      .getByText("A transaction for this sale does not pay it: the transaction pays 200000000 base units; the sale is 250000000. Still waiting.")
      .waitFor();
    assert.equal(await app.page.isHidden("#online-paid"), true, "an underpayment is never shown paid");
    assert.equal(await app.page.evaluate(() => window.chimes), 0, "no sound for a refusal");
    await app.emit("sale", {
      stage: "paid-online",
      payer: MERCHANT,
      amount_text: "0.25 SOL",
      signature: "5sig",
      explorer: "https://explorer.solana.com/tx/5sig?cluster=devnet",
      sale: "paid online: 0.25 SOL in transaction 5sig",
    });
    await app.page.getByText(`Paid online: 0.25 SOL from ${MERCHANT} (paid online: 0.25 SOL in transaction 5sig).`).waitFor();
    assert.equal(await app.page.getAttribute("#online-explorer", "href"), "https://explorer.solana.com/tx/5sig?cluster=devnet");
    assert.equal(await app.page.isHidden("#online-paid"), false);
    assert.equal(await app.page.evaluate(() => window.chimes), 1, "one sound for the payment");
    await app.page.locator("#receipt-card").waitFor();
    assert.equal(await app.page.getAttribute("#receipt-qr div", "data-uri"), "https://explorer.solana.com/tx/5sig?cluster=devnet");
    const receipt = (await app.calls()).find(([cmd]) => cmd === "online_receipt");
    assert.deepEqual(receipt[1], { signature: "5sig" });
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("the till's sound can be turned off in the settings", async () => {
  const app = await openApp({ config: { sound: false } });
  try {
    await app.page.evaluate(() => {
      window.chimes = 0;
      window.AudioContext = class {
        constructor() {
          window.chimes += 1;
        }
      };
    });
    await app.show("receive");
    await app.emit("sale", { stage: "paid-online", payer: MERCHANT, amount_text: "0.25 SOL", signature: "5sig", explorer: "https://explorer.solana.com/tx/5sig", sale: "paid" });
    await app.page.waitForFunction(() => document.getElementById("online-status").textContent.startsWith("Paid online"));
    assert.equal(await app.page.evaluate(() => window.chimes), 0, "silent");
  } finally {
    await app.close();
  }
});

test("pay now is not offered while the cluster does not answer: the signed code is", async () => {
  const app = await openApp({ answers: { scan_image: { ok: REQUEST } } }); // balances: offline
  try {
    await app.show("pay");
    await app.page.fill("#pay-file", "/tmp/request.png");
    await app.page.click("#pay-file-form button[type=submit]");
    await app.page.locator("#pay-confirm").waitFor();
    assert.equal(await app.page.isHidden("#pay-now"), true);
    assert.equal(await app.page.isHidden("#pay-confirm"), false);
  } finally {
    await app.close();
  }
});

test("pay now: a request with its amount is paid online at once, and the screen shows where to see it", async () => {
  const app = await openApp({
    answers: {
      balances: { ok: { online: true, balances: [], problem: null } },
      scan_image: { ok: REQUEST },
      pay_now: {
        ok: { signature: "5sig", amount_text: "1.5 SOL", explorer: "https://explorer.solana.com/tx/5sig?cluster=devnet" },
      },
    },
  });
  try {
    await app.show("pay");
    await app.page.fill("#pay-file", "/tmp/request.png");
    await app.page.click("#pay-file-form button[type=submit]");
    await app.page.locator("#pay-now").waitFor();
    await app.page.click("#pay-now");
    await app.page.getByText("1.5 SOL (transaction 5sig)").waitFor();
    assert.equal(await app.page.getAttribute("#pay-now-explorer", "href"), "https://explorer.solana.com/tx/5sig?cluster=devnet");
    const call = (await app.calls()).find(([cmd]) => cmd === "pay_now");
    assert.deepEqual(call[1], { url: REQUEST.url, passphrase: null }, "Rust pays the request as scanned");
    // Refused: said, and nothing shown as paid.
    await app.answer("pay_now", { err: "the cluster could not be reached (connection refused, after 4 attempts)" });
    await app.page.click("#pay-file-form button[type=submit]");
    await app.page.locator("#pay-now").waitFor();
    assert.equal(await app.page.isHidden("#pay-now-result"), true);
    await app.page.click("#pay-now");
    await app.page.getByText("the cluster could not be reached (connection refused, after 4 attempts)").waitFor();
    assert.equal(await app.page.isHidden("#pay-now-result"), true);
  } finally {
    await app.close();
  }
});

test("a transaction request: what it does is shown before signing, then it is paid; a refused one shows why", async () => {
  const link = "https://shop.example/pay";
  const scanned = { kind: "transaction-request", link: { url: link, label: null, message: null }, url: `solana:${link}` };
  const app = await openApp({
    answers: {
      scan_image: { ok: scanned },
      transaction_request_open: {
        ok: {
          label: "Test Café",
          icon: "data:image/svg+xml;base64,PHN2Zy8+",
          message: "Thanks for your order",
          host: "shop.example",
          recipient: MERCHANT,
          amount_text: "0.1 SOL",
          fee_text: "0.000005 SOL",
          rent_text: null,
          memos: ["order 42"],
        },
      },
      transaction_request_pay: {
        ok: { signature: "5sig", amount_text: "0.1 SOL", explorer: "https://explorer.solana.com/tx/5sig?cluster=devnet" },
      },
    },
  });
  try {
    await app.show("pay");
    await app.page.fill("#pay-file", "/tmp/request.png");
    await app.page.click("#pay-file-form button[type=submit]");
    await app.page.locator("#pay-tx").waitFor();
    assert.equal(await app.page.textContent("#pay-tx-label"), "Test Café");
    const fields = await app.page.textContent("#pay-tx-fields");
    for (const shown of ["0.1 SOL", MERCHANT, "0.000005 SOL", "order 42", "Thanks for your order", "shop.example"]) {
      assert.ok(fields.includes(shown), `${shown} is shown before anything is signed`);
    }
    assert.equal(await app.page.isHidden("#pay-now"), true, "not a transfer request: no plain pay now");
    assert.equal(await app.page.isHidden("#pay-confirm"), true, "no offline intent for a server's transaction");
    const open = (await app.calls()).find(([cmd]) => cmd === "transaction_request_open");
    assert.deepEqual(open[1], { url: scanned.url });
    assert.equal((await app.calls()).some(([cmd]) => cmd === "transaction_request_pay"), false, "nothing paid before the click");
    await app.page.click("#pay-tx-form button[type=submit]");
    await app.page.getByText("0.1 SOL (transaction 5sig)").waitFor();
    const pay = (await app.calls()).find(([cmd]) => cmd === "transaction_request_pay");
    assert.deepEqual(pay[1], { url: scanned.url, passphrase: null });

    // A transaction the wallet cannot explain: the reason, and no way to pay it.
    await app.answer("transaction_request_open", {
      err: "the merchant's transaction is refused: it calls the program Thief1111, which this wallet cannot explain",
    });
    await app.page.click("#pay-file-form button[type=submit]");
    await app.page.getByText("which this wallet cannot explain").waitFor();
    assert.equal(await app.page.isHidden("#pay-tx"), true);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("settings: the TOSS program is checked against the carried build, and a different one is a warning", async () => {
  const app = await openApp({
    answers: {
      program_check: {
        ok: { program_id: ADDRESS, bundled: true, text: "the program is exactly this wallet's build (795d); upgradable by Me", build_sha256: "795d" },
      },
    },
  });
  try {
    await app.show("settings");
    await app.page.click("#program-check");
    await app.page.getByText(`${ADDRESS}: the program is exactly this wallet's build (795d); upgradable by Me`).waitFor();
    assert.equal(await app.page.isHidden("#program-warning"), true);
    await app.answer("program_check", {
      ok: { program_id: ADDRESS, bundled: false, text: "the program there is NOT this wallet's build", build_sha256: "795d" },
    });
    await app.page.click("#program-check");
    await app.page.locator("#program-warning").getByText("is NOT this wallet's build").waitFor();
    assert.equal(await app.page.textContent("#program-status"), "");
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("activity: payments made online are listed with their transaction's link", async () => {
  const app = await openApp({
    answers: {
      online_activity: {
        ok: [
          {
            signature: "5".repeat(88),
            reference: ADDRESS,
            payer: MERCHANT,
            recipient: ADDRESS,
            mint: null,
            amount: 250_000_000,
            slot: 42,
            block_time: 1_790_000_000,
            at: 1_790_000_005,
            amount_text: "0.25 SOL",
            explorer: `https://explorer.solana.com/tx/${"5".repeat(88)}?cluster=devnet`,
          },
        ],
      },
    },
  });
  try {
    await app.show("activity");
    await app.page.locator("#online-card").waitFor();
    const cells = await app.page.locator("#online-rows td").allTextContents();
    assert.deepEqual(cells, [new Date(1_790_000_000_000).toLocaleString(), "0.25 SOL", MERCHANT, ADDRESS, `${"5".repeat(12)}…`]);
    assert.equal(
      await app.page.getAttribute("#online-rows a", "href"),
      `https://explorer.solana.com/tx/${"5".repeat(88)}?cluster=devnet`,
    );
    // Its detail: who paid whom, how much, and its receipt code, as Rust makes them.
    const explorer = `https://explorer.solana.com/tx/${"5".repeat(88)}?cluster=devnet`;
    await app.answer("online_receipt", { ok: onlineReceipt("5".repeat(88), 1_790_000_005) });
    await app.page.click("#online-rows td:first-child");
    await app.page.locator("#detail-card").waitFor();
    const fields = await app.page.textContent("#detail-fields");
    for (const shown of ["paid online", MERCHANT, ADDRESS, "0.25 SOL"]) assert.ok(fields.includes(shown), shown);
    assert.equal(await app.page.getAttribute("#detail-fields a", "href"), explorer);
    assert.equal(await app.page.isHidden("#detail-qr"), false);
    assert.equal(await app.page.isHidden("#detail-history"), true);
    const asked = (await app.calls()).find(([cmd]) => cmd === "online_receipt");
    assert.deepEqual(asked[1], { signature: "5".repeat(88) });
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

/** A rate Rust read `age_text` ago, usable for pricing or not (`why`). */
const RATE = (usable, age_text, why = null) => ({
  fiat: "USD",
  currency: "SOL",
  rate_text: "1 SOL = 149.02 USD",
  published_at: 1_790_000_000,
  age_text,
  source: "Pyth SOL/USD, read over RPC",
  usable,
  why,
});
/** The request Rust makes, with the terms it worked out. */
const REQUEST_MADE = (terms) => ({ ok: { url: `solana:${ADDRESS}?amount=${terms.total_text}`, qr_svg: SVG(0), request: {}, terms } });
const requestArgs = async (app) => (await app.calls()).filter(([cmd]) => cmd === "request_create").map(([, a]) => a);

test("the till prices in fiat at a usable rate: the rate shown, the tip percent sent, the terms next to the code", async () => {
  const terms = {
    total_text: "0.0965 SOL",
    price_text: "12.50 USD",
    tip_text: "1.88 USD",
    fiat_text: "14.38 USD",
    rate_text: "1 SOL = 149.02 USD",
    rate_age_text: "4 minutes old",
  };
  const app = await openApp({
    config: { fiat_currency: "USD", tip_percents: "10, 15,20" },
    answers: {
      price_rate: { ok: RATE(true, "4 minutes old") },
      request_create: REQUEST_MADE(terms),
      customer_display_open: { ok: null },
    },
  });
  try {
    await app.show("receive");
    await app.page.locator("#receive-rate").getByText("1 SOL = 149.02 USD (4 minutes old; Pyth SOL/USD, read over RPC)", { exact: true }).waitFor();
    const rates = (await app.calls()).filter(([cmd]) => cmd === "price_rate").map(([, a]) => a);
    assert.deepEqual(rates, [{ currency: "SOL", fiat: "USD" }]);
    assert.equal(await app.page.inputValue("#receive-price-in"), "fiat", "a fiat currency in the settings is the default");
    assert.deepEqual(await app.page.locator("#receive-price-in option").allTextContents(), ["USD", "SOL"]);
    assert.equal((await app.page.textContent("#receive-amount-unit")), " in USD");
    assert.deepEqual(await app.page.locator("#receive-tip-choices button").allTextContents(), ["No tip", "10\u00a0%", "15\u00a0%", "20\u00a0%", "Custom"]);
    assert.equal(await app.page.getAttribute('#receive-tip-choices button[data-tip="none"]', "aria-pressed"), "true");

    await app.page.click('#receive-tip-choices button[data-tip="15"]');
    assert.equal(await app.page.getAttribute('#receive-tip-choices button[data-tip="15"]', "aria-pressed"), "true");
    assert.equal(await app.page.getAttribute('#receive-tip-choices button[data-tip="none"]', "aria-pressed"), "false");
    assert.equal(await app.page.isHidden("#receive-tip-label"), true, "a percent needs no amount");
    await app.page.fill("#receive-amount", "12.50");
    await app.page.click("#receive-form button[type=submit]");
    await app.page.locator("#request-terms").waitFor();
    assert.deepEqual(await requestArgs(app), [
      { to: ADDRESS, amount: "12.50", currency: "SOL", label: null, message: null, fiat: "USD", tip: null, tipPercent: 15 },
    ]);
    assert.equal(
      await app.page.textContent("#request-terms"),
      "Total0.0965 SOLPrice12.50 USDTip1.88 USDTotal in fiat14.38 USDRate1 SOL = 149.02 USD (4 minutes old)",
    );

    // The customer's own window, opened from the till.
    await app.page.click("#customer-display");
    await app.page.waitForFunction(() => window.__mock.calls.some(([cmd]) => cmd === "customer_display_open"));
    assert.deepEqual((await app.calls()).find(([cmd]) => cmd === "customer_display_open"), ["customer_display_open", null]);
    assert.equal(await app.page.isHidden("#receive-problem"), true);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("a rate too old is refused with Rust's reason and the sale is priced in SOL; no rate at all likewise", async () => {
  const why = "the rate is 2 hours old; the settings accept rates up to 1 hour old";
  const app = await openApp({
    config: { fiat_currency: "USD" },
    answers: {
      price_rate: { ok: RATE(false, "2 hours old", why) },
      request_create: REQUEST_MADE({ total_text: "0.1 SOL", price_text: "0.1 SOL", tip_text: null, fiat_text: null, rate_text: null, rate_age_text: null }),
    },
  });
  try {
    await app.show("receive");
    await app.page
      .locator("#receive-rate-problem")
      .getByText(`Not priced in USD (${why}): type the price in SOL.`, { exact: true })
      .waitFor();
    assert.equal(await app.page.inputValue("#receive-price-in"), "crypto");
    assert.equal(await app.page.isHidden("#receive-rate"), true, "a refused rate is not shown as the one used");
    assert.equal(await app.page.textContent("#receive-amount-unit"), " in SOL");
    await app.page.fill("#receive-amount", "0.1");
    await app.page.click("#receive-form button[type=submit]");
    await app.page.locator("#request-terms").waitFor();
    assert.deepEqual(await requestArgs(app), [
      { to: ADDRESS, amount: "0.1", currency: "SOL", label: null, message: null, fiat: null, tip: null, tipPercent: null },
    ]);
    assert.equal(await app.page.textContent("#request-terms"), "Total0.1 SOLPrice0.1 SOL");

    // Never read (offline since installed): Rust refuses, the till says so and prices in SOL.
    await app.answer("price_rate", { err: "no SOL/USD rate has been read yet: connect once to read one" });
    await app.page.selectOption("#receive-price-in", "fiat");
    await app.page
      .locator("#receive-rate-problem")
      .getByText("Not priced in USD (no SOL/USD rate has been read yet: connect once to read one): type the price in SOL.", { exact: true })
      .waitFor();
    assert.equal(await app.page.inputValue("#receive-price-in"), "crypto");
    assert.equal((await app.calls()).filter(([cmd]) => cmd === "price_rate").length, 2);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("a custom tip is sent as the amount typed; with tips off, none is offered or sent", async () => {
  const app = await openApp({
    answers: {
      request_create: REQUEST_MADE({ total_text: "0.52 SOL", price_text: "0.5 SOL", tip_text: "0.02 SOL", fiat_text: null, rate_text: null, rate_age_text: null }),
    },
  });
  try {
    await app.show("receive");
    assert.equal(await app.page.isHidden("#receive-price-label"), true, "no fiat currency in the settings: nothing to choose");
    assert.equal(await app.page.textContent("#receive-amount-unit"), "");
    await app.page.click('#receive-tip-choices button[data-tip="custom"]');
    assert.equal(await app.page.evaluate(() => document.activeElement.id), "receive-tip", "the tip's amount is asked at once");
    assert.equal(await app.page.textContent("#receive-tip-label"), "Tip amount (SOL) ");
    await app.page.fill("#receive-tip", "0.02");
    await app.page.fill("#receive-amount", "0.5");
    await app.page.click("#receive-form button[type=submit]");
    await app.page.locator("#request-terms").waitFor();
    assert.deepEqual(await requestArgs(app), [
      { to: ADDRESS, amount: "0.5", currency: "SOL", label: null, message: null, fiat: null, tip: "0.02", tipPercent: null },
    ]);
    assert.equal(await app.page.textContent("#request-terms"), "Total0.52 SOLPrice0.5 SOLTip0.02 SOL");
    assert.equal((await app.calls()).some(([cmd]) => cmd === "price_rate"), false, "no rate asked without a fiat currency");
  } finally {
    await app.close();
  }
  const plain = await openApp({ config: { tips: false }, answers: { request_create: { ok: { url: `solana:${ADDRESS}?amount=1`, qr_svg: SVG(0), request: {} } } } });
  try {
    await plain.show("receive");
    assert.equal(await plain.page.isHidden("#receive-tips"), true);
    await plain.page.fill("#receive-amount", "1");
    await plain.page.click("#receive-form button[type=submit]");
    await plain.page.locator("#request-card").waitFor();
    assert.deepEqual(await requestArgs(plain), [
      { to: ADDRESS, amount: "1", currency: "SOL", label: null, message: null, fiat: null, tip: null, tipPercent: null },
    ]);
    assert.equal(await plain.page.isHidden("#request-terms"), true, "no terms from Rust: none shown");
    assert.deepEqual(plain.errors, []);
  } finally {
    await plain.close();
  }
});

const RECEIVED_ID = "cd".repeat(32);
/** A payment this wallet received offline and settled, as intent_detail gives it. */
const RECEIVED = (refunds) => ({
  id: RECEIVED_ID,
  direction: "received",
  payer: MERCHANT,
  payee: ADDRESS,
  amount_text: "0.5 SOL",
  state: "settled",
  memo: null,
  expires_at: 1_790_086_400,
  signature: "3sig",
  settlement: "5set",
  explorer: "https://explorer.solana.com/tx/5set?cluster=devnet",
  history: [{ at: 1_790_000_000, state: "verified", detail: null }],
  refunds,
});
const QUOTE = {
  payment: RECEIVED_ID,
  to: MERCHANT,
  received_text: "0.5 SOL",
  refunded_text: "0 SOL",
  refundable_text: "0.5 SOL",
  max: "0.5",
  fee_text: "0.000005 SOL",
  rent: 0,
  rent_text: null,
};

test("a refund: what it sends and costs is shown before anything is sent, a part is refunded, and listed", async () => {
  const app = await openApp({
    answers: {
      activity: { ok: [{ id: RECEIVED_ID, direction: "received", amount_text: "0.5 SOL", payer: MERCHANT, payee: ADDRESS, state: "settled" }] },
      intent_detail: { ok: RECEIVED([]) },
      refund_quote: { ok: QUOTE },
      refund: { ok: { signature: "4ref", amount_text: "0.2 SOL", fee_text: "0.000005 SOL", rent_text: null, explorer: "https://explorer.solana.com/tx/4ref?cluster=devnet" } },
    },
  });
  try {
    await app.show("activity");
    await app.page.click("#activity-rows td:first-child");
    await app.page.locator("#refund-start").waitFor();
    assert.equal(await app.page.isHidden("#detail-refunds"), true, "no refunds yet");
    assert.equal(await app.page.isHidden("#refund-form"), true);

    await app.page.click("#refund-start");
    await app.page.locator("#refund-form").waitFor();
    assert.equal(
      await app.page.textContent("#refund-quote"),
      `Refund to${MERCHANT}Received0.5 SOLAlready refunded0 SOLCan be refunded0.5 SOLNetwork fee0.000005 SOL`,
    );
    assert.equal(await app.page.inputValue("#refund-amount"), "0.5", "all that is left, unless a part is typed");
    assert.equal(await app.page.textContent("#refund-max"), "0.5 SOL");
    assert.equal(await app.page.isHidden("#refund-passphrase-label"), true, "no passphrase asked for payments here");
    const asked = (await app.calls()).filter(([cmd]) => cmd.startsWith("refund"));
    assert.deepEqual(asked, [["refund_quote", { payment: RECEIVED_ID }]], "quoted, nothing sent");

    await app.page.fill("#refund-amount", "0.2");
    await app.answer("intent_detail", { ok: RECEIVED([{ signature: "4ref", amount_text: "0.2 SOL", cost_text: "0.000005 SOL", state: "confirmed", at: 1_790_000_600 }]) });
    await app.page.click("#refund-form button[type=submit]");
    await app.page.locator("#refund-done").waitFor();
    assert.equal(await app.page.textContent("#refund-text"), "0.2 SOL, network fee 0.000005 SOL (transaction 4ref)");
    assert.equal(await app.page.getAttribute("#refund-explorer", "href"), "https://explorer.solana.com/tx/4ref?cluster=devnet");
    const sent = (await app.calls()).filter(([cmd]) => cmd === "refund").map(([, a]) => a);
    assert.deepEqual(sent, [{ payment: RECEIVED_ID, amount: "0.2", rent: 0, passphrase: null }]);
    assert.deepEqual(await app.page.locator("#detail-refunds li").allTextContents(), [
      `${new Date(1_790_000_600_000).toLocaleString()}: 0.2 SOL, confirmed, costing 0.000005 SOL (transaction 4ref)`,
    ]);
    assert.equal(await app.page.isHidden("#refund-form"), true);

    // Not settled yet: Rust's reason, plainly, and nothing to send.
    await app.answer("refund_quote", { err: "refunds are made once the payment has settled" });
    await app.page.click("#refund-start");
    await app.page.locator("#refund-problem").getByText("Cannot refund: refunds are made once the payment has settled", { exact: true }).waitFor();
    assert.equal(await app.page.isHidden("#refund-form"), true);
    assert.equal(await app.page.isHidden("#refund-done"), true);

    // A payment this wallet made is not this wallet's to refund.
    await app.answer("intent_detail", { ok: { ...RECEIVED([]), direction: "sent" } });
    await app.page.click("#activity-rows td:first-child");
    await app.page.locator("#detail-fields").getByText("Paid to").waitFor();
    assert.equal(await app.page.isHidden("#refund"), true);
    assert.equal((await app.calls()).filter(([cmd]) => cmd === "refund").length, 1);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("a refund of a payment received online; a payment this wallet made online offers none", async () => {
  const row = (signature, payer, recipient, refunds) => ({
    signature,
    reference: ADDRESS,
    payer,
    recipient,
    mint: null,
    amount: 250_000_000,
    slot: 42,
    block_time: 1_790_000_000,
    at: 1_790_000_005,
    amount_text: "0.25 SOL",
    explorer: `https://explorer.solana.com/tx/${signature}?cluster=devnet`,
    refunds,
  });
  const app = await openApp({
    answers: {
      online_activity: {
        ok: [row("5in", MERCHANT, ADDRESS, [
          { signature: null, amount_text: "0.05 SOL", cost_text: "0.000005 SOL", state: "sending", at: 1_790_000_300 },
          { signature: "4no", amount_text: "0.1 SOL", cost_text: null, state: "failed", at: 1_790_000_200 },
        ]), row("5out", ADDRESS, MERCHANT, [])],
      },
      online_receipt: { ok: onlineReceipt("5in", 1_790_000_005) },
      // The payer's token account was closed since: reopening it costs rent, shown first.
      refund_quote: {
        ok: { ...QUOTE, payment: "5in", received_text: "0.25 SOL", refunded_text: "0.05 SOL", refundable_text: "0.2 SOL", max: "0.2", rent: 2_039_280, rent_text: "0.00203928 SOL" },
      },
      refund: { ok: { signature: "4ref", amount_text: "0.2 SOL", fee_text: "0.000005 SOL", rent_text: "0.00203928 SOL", explorer: "https://explorer.solana.com/tx/4ref?cluster=devnet" } },
    },
  });
  try {
    await app.show("activity");
    await app.page.click("#online-rows tr:first-child td:first-child");
    await app.page.locator("#refund-start").waitFor();
    assert.deepEqual(await app.page.locator("#detail-refunds li").allTextContents(), [
      `${new Date(1_790_000_300_000).toLocaleString()}: 0.05 SOL, sending, costing 0.000005 SOL`,
      `${new Date(1_790_000_200_000).toLocaleString()}: 0.1 SOL, failed (transaction 4no)`,
    ]);
    await app.page.click("#refund-start");
    await app.page.locator("#refund-form").waitFor();
    assert.equal(await app.page.inputValue("#refund-amount"), "0.2");
    assert.equal(await app.page.textContent('#refund-quote dd[data-key="refunded"]'), "0.05 SOL");
    assert.deepEqual((await app.calls()).find(([cmd]) => cmd === "refund_quote")[1], { payment: "5in" });
    assert.equal(await app.page.textContent('#refund-quote dd[data-key="rent"]'), "0.00203928 SOL");
    await app.page.click("#refund-form button[type=submit]");
    await app.page.locator("#refund-done").waitFor();
    assert.equal(await app.page.textContent("#refund-text"), "0.2 SOL, network fee 0.000005 SOL and rent 0.00203928 SOL (transaction 4ref)");
    const sent = (await app.calls()).filter(([cmd]) => cmd === "refund").map(([, a]) => a);
    assert.deepEqual(sent, [{ payment: "5in", amount: "0.2", rent: 2_039_280, passphrase: null }], "the rent shown goes with it");

    await app.page.click("#online-rows tr:nth-child(2) td:first-child");
    await app.page.waitForFunction(() => document.getElementById("refund").hidden);
    assert.equal(await app.page.isHidden("#detail-refunds"), true);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

/** The day's close as Rust reports it for the period asked. */
const REPORT = (from, to) => ({
  from,
  to,
  totals: [
    { currency: "SOL", payments: 2, received_text: "0.75 SOL", tips_text: "0.05 SOL", refunds_text: "0.2 SOL", net_text: "0.55 SOL", settled_text: "0.25 SOL", waiting_text: "0.5 SOL" },
  ],
  fiat: [{ fiat: "USD", amount_text: "111.77 USD", tips_text: "7.45 USD" }],
  exposure_text: "0.5 SOL owed by offline payers, not yet settled",
  rows: [
    { time: from + 3600, way: "offline", payment: RECEIVED_ID, payer: MERCHANT, currency: "SOL", amount_text: "0.5 SOL", fiat_text: "74.51 USD", rate_text: "1 SOL = 149.02 USD", tip_text: "0.05 SOL", refunded_text: "0.2 SOL", state: "verified", transaction: null },
    { time: from + 7200, way: "online", payment: "5in", payer: MERCHANT, currency: "SOL", amount_text: "0.25 SOL", fiat_text: null, rate_text: null, tip_text: null, refunded_text: null, state: "confirmed", transaction: "5in" },
  ],
});

/** Local midnight today and its date, in the page's time zone. */
const today = (app) =>
  app.page.evaluate(() => {
    const d = new Date();
    d.setHours(0, 0, 0, 0);
    const two = (n) => String(n).padStart(2, "0");
    return { midnight: d.getTime() / 1000, day: `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}` };
  });

test("the day's close: today until now by default, the report as Rust gives it, printed alone, exported where chosen", async () => {
  const app = await openApp({ answers: { close_export: { ok: 2 } } });
  try {
    await app.show("close");
    const { midnight, day } = await today(app);
    const before = Math.floor(Date.now() / 1000);
    await app.hold("close_report");
    await app.page.click("#close-form button[type=submit]");
    await app.page.waitForFunction(() => window.__mock.calls.some(([cmd]) => cmd === "close_report"));
    const asked = (await app.calls()).find(([cmd]) => cmd === "close_report")[1];
    assert.equal(asked.from, midnight, "from local midnight");
    assert.ok(asked.to >= before - 1 && asked.to <= Math.floor(Date.now() / 1000), `to now, not ${asked.to}`);
    await app.settle("close_report", { ok: REPORT(asked.from, asked.to) });
    await app.page.locator("#close-report").waitFor();

    assert.deepEqual(await app.page.locator("#close-totals-rows td").allTextContents(), [
      "SOL", "2", "0.75 SOL", "0.05 SOL", "0.2 SOL", "0.55 SOL", "0.25 SOL", "0.5 SOL",
    ]);
    assert.deepEqual(await app.page.locator("#close-fiat-rows td").allTextContents(), ["USD", "111.77 USD", "7.45 USD"]);
    assert.equal(await app.page.textContent("#close-exposure"), "0.5 SOL owed by offline payers, not yet settled");
    const cells = (n) => app.page.locator(`#close-rows tr:nth-child(${n}) td`).allTextContents();
    assert.deepEqual(await cells(1), [
      new Date((asked.from + 3600) * 1000).toLocaleString(), "offline", "0.5 SOL", "0.05 SOL", "74.51 USD", "1 SOL = 149.02 USD", "0.2 SOL", "verified", `${MERCHANT.slice(0, 8)}…`, `${RECEIVED_ID.slice(0, 8)}…`,
    ]);
    // Ids are shortened to fit the page; each cell keeps the whole one.
    assert.deepEqual(await app.page.locator("#close-rows tr:nth-child(1) td.id").evaluateAll((tds) => tds.map((td) => td.title)), [MERCHANT, RECEIVED_ID]);
    assert.deepEqual(await cells(2), [
      new Date((asked.from + 7200) * 1000).toLocaleString(), "online", "0.25 SOL", "—", "—", "—", "—", "confirmed", `${MERCHANT.slice(0, 8)}…`, "5in",
    ]);

    // Printed: the report alone, without its buttons.
    await app.page.emulateMedia({ media: "print" });
    const style = (css, prop) => app.page.$eval(css, (e, p) => getComputedStyle(e)[p], prop);
    assert.equal(await style("#close-report", "visibility"), "visible");
    assert.equal(await style("#close-rows", "visibility"), "visible");
    assert.equal(await style("#close-form", "visibility"), "hidden");
    assert.equal(await style("#nav", "visibility"), "hidden");
    assert.equal(await style("#close-report div.report-actions", "display"), "none", "Print and Export stay off the paper");
    assert.equal(await app.page.$eval("#close-print", (b) => b.getClientRects().length), 0);
    await app.page.emulateMedia({ media: "screen" });
    await app.page.evaluate(() => {
      window.printed = 0;
      window.print = () => (window.printed += 1);
    });
    await app.page.click("#close-print");
    assert.equal(await app.page.evaluate(() => window.printed), 1, "the desktop's print dialog");

    // Exported as CSV to the file chosen in the save dialog, for the period shown.
    await app.choose("/home/till/close.csv");
    await app.page.click("#close-csv");
    await app.page.getByText("2 payments written to /home/till/close.csv.", { exact: true }).waitFor();
    assert.deepEqual(await app.dialogs(), [["save", { defaultPath: `toss-close-${day}.csv`, filters: [{ name: "CSV", extensions: ["csv"] }] }]]);
    const exports = (await app.calls()).filter(([cmd]) => cmd === "close_export").map(([, a]) => a);
    assert.deepEqual(exports, [{ from: asked.from, to: asked.to, format: "csv", path: "/home/till/close.csv" }]);

    await app.choose("/home/till/close.json");
    await app.answer("close_export", { err: "cannot write /home/till/close.json: permission denied" });
    await app.page.click("#close-json");
    await app.page.getByText("Not exported: cannot write /home/till/close.json: permission denied", { exact: true }).waitFor();
    assert.deepEqual((await app.dialogs())[1], ["save", { defaultPath: `toss-close-${day}.json`, filters: [{ name: "JSON", extensions: ["json"] }] }]);
    assert.deepEqual((await app.calls()).filter(([cmd]) => cmd === "close_export").at(-1)[1], {
      from: asked.from, to: asked.to, format: "json", path: "/home/till/close.json",
    });
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

/** Waits until `n` dialogs were answered and the button that opened the last is back. */
const dialogDone = (app, n, button) =>
  app.page.waitForFunction(([n, b]) => window.__mock.dialogs.length === n && !document.querySelector(b).disabled, [n, button]);

test("a cancelled file dialog calls nothing: the till's image, the activity export, the close export, the keypair", async () => {
  const app = await openApp({
    answers: {
      request_create: REQUEST_MADE({ total_text: "1 SOL", price_text: "1 SOL", tip_text: null, fiat_text: null, rate_text: null, rate_age_text: null }),
      close_report: { ok: REPORT(1_790_000_000, 1_790_050_000) },
    },
  });
  try {
    await app.show("receive");
    await app.page.fill("#receive-amount", "1");
    await app.page.click("#receive-form button[type=submit]");
    await app.page.locator("#request-card").waitFor();
    const before = (await app.calls()).length;
    await app.choose(null);
    await app.page.click("#receive-file-choose");
    await dialogDone(app, 1, "#receive-file-choose");
    assert.equal(await app.page.inputValue("#receive-file"), "");
    assert.equal(await app.page.textContent("#receive-status"), "", "not even a reminder to choose");

    await app.show("activity");
    await app.page.locator("#activity-empty").waitFor();
    const listed = (await app.calls()).length;
    await app.choose(null);
    await app.page.click("#activity-export-choose");
    await dialogDone(app, 2, "#activity-export-choose");
    assert.equal(await app.page.inputValue("#activity-export"), "");
    assert.equal(await app.page.textContent("#activity-exported"), "");
    assert.equal(await app.page.isHidden("#activity-problem"), true);

    await app.show("close");
    await app.page.click("#close-form button[type=submit]");
    await app.page.locator("#close-report").waitFor();
    const reported = (await app.calls()).length;
    await app.choose(null);
    await app.page.click("#close-csv");
    await dialogDone(app, 3, "#close-csv");
    assert.equal(await app.page.textContent("#close-exported"), "");
    assert.equal(await app.page.isHidden("#close-problem"), true);

    const calls = (await app.calls()).map(([cmd]) => cmd);
    assert.deepEqual(calls.slice(before, listed).filter((c) => !["activity", "wallet_status", "online_activity"].includes(c)), []);
    assert.deepEqual(calls.slice(listed, reported), ["close_report"]);
    assert.equal(calls.length, reported, "nothing after the cancelled dialogs");
    assert.deepEqual((await app.dialogs()).map(([how, o]) => [how, o.filters[0].name]), [["open", "Images"], ["save", "CSV"], ["save", "CSV"]]);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }

  const setup = await openApp({
    answers: { wallet_status: { ok: { exists: false, accounts: [] } }, wallet_import_keypair: { ok: { label: "Main", address: ADDRESS, source: "keypair" } } },
    screen: "onboarding",
  });
  try {
    await setup.page.locator("#import-form").waitFor();
    await setup.choose(null);
    await setup.page.click("#import-keypair-choose");
    await dialogDone(setup, 1, "#import-keypair-choose");
    assert.equal((await setup.calls()).some(([cmd]) => cmd.startsWith("wallet_import")), false, "cancelled: nothing imported");
    // Chosen: imported at once, from the path chosen.
    await setup.choose("/home/till/.config/solana/id.json");
    await setup.page.click("#import-keypair-choose");
    await setup.page.getByText(`Account imported: ${ADDRESS}`, { exact: true }).waitFor();
    assert.equal(await setup.page.inputValue("#import-keypair"), "/home/till/.config/solana/id.json");
    const imports = (await setup.calls()).filter(([cmd]) => cmd.startsWith("wallet_import"));
    assert.deepEqual(imports, [["wallet_import_keypair", { label: "Main", path: "/home/till/.config/solana/id.json" }]]);
    assert.deepEqual(await setup.dialogs(), [
      ["open", { filters: [{ name: "Solana CLI keypair", extensions: ["json"] }] }],
      ["open", { filters: [{ name: "Solana CLI keypair", extensions: ["json"] }] }],
    ]);
  } finally {
    await setup.close();
  }
});

test("the payer's code is read from an image chosen in the dialog, and read again from the same file", async () => {
  const app = await openApp({
    answers: {
      request_create: REQUEST_MADE({ total_text: "0.5 SOL", price_text: "0.5 SOL", tip_text: null, fiat_text: null, rate_text: null, rate_age_text: null }),
      scan_image: { ok: { kind: "intent", hex: "0102" } },
      receive_intent: {
        ok: { payer: MERCHANT, amount_text: "0.5 SOL", memo: "coffee", id: RECEIVED_ID, sealed: false, sale: "paid: 0.5 SOL in 1 payment" },
      },
      receipt: { ok: { payee: ADDRESS, total_text: "0.5 SOL", payments: [] } },
      activity_export: { ok: 1 },
    },
  });
  try {
    await app.show("receive");
    await app.page.fill("#receive-amount", "0.5");
    await app.page.click("#receive-form button[type=submit]");
    await app.page.locator("#request-card").waitFor();
    assert.equal(await app.page.getAttribute("#receive-file", "readonly"), "", "chosen, never typed");
    await app.choose("/home/till/payment.png");
    await app.page.click("#receive-file-choose");
    await app.page.locator("#receive-status").getByText("Sale paid: 0.5 SOL in 1 payment", { exact: true }).waitFor();
    await app.page.locator("#received-fields").getByText("coffee").waitFor();
    assert.equal(await app.page.inputValue("#receive-file"), "/home/till/payment.png");
    assert.deepEqual(await app.dialogs(), [["open", { filters: [{ name: "Images", extensions: ["png", "jpg", "jpeg"] }] }]]);
    const scans = () => app.calls().then((c) => c.filter(([cmd]) => cmd === "scan_image").map(([, a]) => a));
    assert.deepEqual(await scans(), [{ path: "/home/till/payment.png" }]);
    assert.deepEqual((await app.calls()).find(([cmd]) => cmd === "receive_intent")[1], { hex: "0102" });

    // "Read it" reads the chosen file again (a replayed code is Rust's to refuse).
    await app.answer("receive_intent", { err: "refused: this payment was already taken" });
    await app.page.click("#receive-file-form button[type=submit]");
    await app.page.locator("#receive-status").getByText("refused: this payment was already taken", { exact: true }).waitFor();
    assert.deepEqual(await scans(), [{ path: "/home/till/payment.png" }, { path: "/home/till/payment.png" }]);
    assert.equal((await app.dialogs()).length, 1, "no second dialog");

    // The activity's CSV goes where the save dialog says.
    await app.show("activity");
    await app.choose("/home/till/activity.csv");
    await app.page.click("#activity-export-choose");
    await app.page.getByText("1 payment written to /home/till/activity.csv.", { exact: true }).waitFor();
    assert.deepEqual((await app.calls()).filter(([cmd]) => cmd === "activity_export").map(([, a]) => a), [{ path: "/home/till/activity.csv" }]);
    assert.deepEqual((await app.dialogs())[1], ["save", { defaultPath: "toss-activity.csv", filters: [{ name: "CSV", extensions: ["csv"] }] }]);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("the customer's window follows the till: a sale under way, paid, then a refusal; nothing to press", async () => {
  const waiting = { state: "waiting", total_text: "0.0965 SOL", fiat_text: "14.38 USD", qr_svg: SVG(3), message: null };
  const app = await openApp({ page: "customer.html", ready: "#customer-view", answers: { customer_now: { ok: waiting } } });
  try {
    // Opened mid-sale: what the till shows now.
    await app.page.locator("#customer-qr svg").waitFor();
    const seen = async () =>
      app.page.evaluate(() => ({
        state: document.body.dataset.state,
        total: document.getElementById("customer-total").hidden ? null : document.getElementById("customer-total").textContent,
        fiat: document.getElementById("customer-fiat").hidden ? null : document.getElementById("customer-fiat").textContent,
        qr: document.getElementById("customer-qr").hidden ? null : document.querySelector("#customer-qr svg")?.dataset.frame,
        status: document.getElementById("customer-status").textContent,
        message: document.getElementById("customer-message").hidden ? null : document.getElementById("customer-message").textContent,
      }));
    assert.deepEqual(await seen(), { state: "waiting", total: "0.0965 SOL", fiat: "14.38 USD", qr: "3", status: "Scan to pay", message: null });

    // Paid: the code goes, even if the event still carries it.
    await app.emit("customer", { state: "paid", total_text: "0.0965 SOL", fiat_text: "14.38 USD", qr_svg: SVG(3), message: "Paid. Thank you!" });
    assert.deepEqual(await seen(), { state: "paid", total: "0.0965 SOL", fiat: "14.38 USD", qr: null, status: "Paid. Thank you!", message: null });
    await app.emit("customer", { state: "paid", total_text: "0.0965 SOL", fiat_text: null, qr_svg: null, message: null });
    assert.deepEqual(await seen(), { state: "paid", total: "0.0965 SOL", fiat: null, qr: null, status: "Paid", message: null });

    await app.emit("customer", { state: "idle", total_text: null, fiat_text: null, qr_svg: null, message: null });
    assert.deepEqual(await seen(), { state: "idle", total: null, fiat: null, qr: null, status: "Welcome", message: null });

    await app.emit("customer", { ...waiting, total_text: "2 SOL", fiat_text: null, qr_svg: SVG(4) });
    assert.deepEqual(await seen(), { state: "waiting", total: "2 SOL", fiat: null, qr: "4", status: "Scan to pay", message: null });
    const refusal = "this payment is 0.002 SOL; the sale is 2 SOL";
    await app.emit("customer", { state: "refused", total_text: "2 SOL", fiat_text: null, qr_svg: SVG(4), message: refusal });
    assert.deepEqual(await seen(), { state: "refused", total: "2 SOL", fiat: null, qr: "4", status: "Not paid", message: refusal });

    assert.equal(await app.page.locator("button, input, select, textarea, a").count(), 0, "no controls");
    assert.deepEqual(await app.calls(), [["customer_now", null]]);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("settings: the till's new settings are labelled, the fiat currency and switches offered as choices", async () => {
  const schema = ["fiat_currency", "max_rate_age_seconds", "tips", "tip_percents", "notifications"].map((key) => ({
    key,
    env: `TOSS_${key.toUpperCase()}`,
    allowed: "see the manual",
    overridden: false,
  }));
  const app = await openApp({ config: { fiat_currency: "EUR" }, answers: { settings_schema: { ok: schema } } });
  try {
    await app.show("settings");
    const shown = async (key) =>
      app.page.$eval(`#settings dd[data-key="${key}"]`, (dd) => [dd.previousElementSibling.textContent, dd.textContent]);
    assert.deepEqual(await shown("fiat_currency"), ["Fiat currency to price sales in", "EUR"]);
    assert.deepEqual(await shown("max_rate_age_seconds"), ["Oldest exchange rate used (s)", "3600"]);
    assert.deepEqual(await shown("tips"), ["Offer tips at the till", "true"]);
    assert.deepEqual(await shown("tip_percents"), ["Tip percentages offered", "10,15,20"]);
    assert.deepEqual(await shown("notifications"), ["A desktop notification when a payment is verified or confirmed", "true"]);
    const options = (name) => app.page.locator(`#settings-fields select[name="${name}"] option`).allTextContents();
    assert.deepEqual(await options("fiat_currency"), ["none", "USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD"]);
    assert.equal(await app.page.inputValue('#settings-fields select[name="fiat_currency"]'), "EUR");
    assert.deepEqual(await options("tips"), ["true", "false"]);
    assert.deepEqual(await options("notifications"), ["true", "false"]);
    assert.equal(await app.page.inputValue('#settings-fields input[name="tip_percents"]'), "10,15,20");
  } finally {
    await app.close();
  }
});

// Sign for another tool (#18): a Keystone request read, described by Rust, signed, answered.
const SIGN_UR = "ur:sol-sign-request/onadtpdagdndcawmgtfrkigrpmndutdnbtkgfssbjnaohdgryagalalnascsgljpnbaelfdibemwaeaeaeae";
const SIGNED = { ur: "UR:SOL-SIGNATURE/OEADTPDAGDNDCAWMGTFRKIGRPMNDUTDNBTKGFSSBJNAOHDFZHYDMJP", qr_svg: SVG(5) };
const SENDS = { text: `sends 0.25 SOL from ${ADDRESS} to ${MERCHANT}`, explained: true };
const EXPLAINED = {
  sign_type: "transaction",
  signer: ADDRESS,
  origin: "Keystone test",
  steps: [SENDS],
  fee_text: `0.000005 SOL paid by ${ADDRESS}`,
  message_text: null,
  unexplained: false,
};
const STAKE = "Stake11111111111111111111111111111111111111";
const UNEXPLAINED = {
  ...EXPLAINED,
  steps: [SENDS, { text: `calls the program ${STAKE} with 12 bytes of data`, explained: false }],
  unexplained: true,
};
const IMAGE_FILTERS = { filters: [{ name: "Images", extensions: ["png", "jpg", "jpeg"] }] };
/** The commands called with `name`, their arguments in order. */
const argsOf = async (app, name) => (await app.calls()).filter(([cmd]) => cmd === name).map(([, a]) => a);
/** The rows of a description list, as [label, value]. */
const rows = (app, dl) =>
  app.page.$$eval(`${dl} dt`, (dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent]));

/** Pastes `text` on the Sign screen and opens it. */
async function pasteRequest(app, text) {
  await app.show("sign");
  await app.page.fill("#sign-text", text);
  await app.page.click("#sign-open");
}

test("sign for another tool: a request explained in full is shown, signed, and its answer shown to scan and copy", async () => {
  const app = await openApp({ answers: { sign_request_open: { ok: EXPLAINED }, sign_request_sign: { ok: SIGNED } } });
  try {
    await pasteRequest(app, `  ${SIGN_UR}\n`);
    await app.page.locator("#sign-request").waitFor();
    assert.deepEqual(await argsOf(app, "sign_request_open"), [{ text: SIGN_UR }], "the text pasted, trimmed");
    assert.deepEqual(await rows(app, "#sign-fields"), [
      ["What", "A transaction to sign"],
      ["Asked by", "“Keystone test” (the requester's own words, not checked)"],
      ["Signing account", ADDRESS],
      ["Network fee", `0.000005 SOL paid by ${ADDRESS}`],
    ]);
    assert.deepEqual(await app.page.locator("#sign-steps li").allTextContents(), [SENDS.text]);
    assert.equal(await app.page.isHidden("#sign-unexplained-box"), true, "nothing unexplained: no second confirmation");
    assert.equal(await app.page.isHidden("#sign-message"), true);
    assert.equal(await app.page.isHidden("#sign-passphrase-label"), true, "the settings ask no passphrase for payments");
    assert.equal(await app.page.isDisabled("#sign-sign"), false);
    assert.deepEqual(await argsOf(app, "sign_request_sign"), [], "nothing signed before Sign is pressed");

    // The clipboard as the desktop's webview offers it, recorded.
    await app.page.evaluate(() => {
      window.copied = [];
      Object.defineProperty(navigator, "clipboard", { value: { writeText: async (t) => window.copied.push(t) } });
    });
    await app.page.click("#sign-sign");
    await app.page.locator("#sign-answer").waitFor();
    assert.deepEqual(await argsOf(app, "sign_request_sign"), [{ confirmedUnexplained: false, passphrase: null }]);
    assert.equal(await app.page.textContent("#sign-answer h2"), "Show this to the tool that asked");
    assert.equal(await app.page.getAttribute("#sign-answer-qr svg", "data-frame"), "5", "the QR Rust rendered");
    assert.equal(await app.page.textContent("#sign-answer-ur"), SIGNED.ur);
    assert.equal(await app.page.$eval("#sign-answer-ur", (e) => getComputedStyle(e).userSelect), "all", "selected whole");
    await app.page.click("#sign-answer-copy");
    await app.page.locator("#sign-answer-copied").getByText("Copied.", { exact: true }).waitFor();
    assert.deepEqual(await app.page.evaluate(() => window.copied), [SIGNED.ur]);
    assert.equal(await app.page.isHidden("#sign-problem"), true);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("sign for another tool: an unexplained step is marked, and Sign waits for the second confirmation, which is sent", async () => {
  const app = await openApp({
    answers: {
      passphrase_asked: { ok: { payment: true, settlement: false, funds: false } },
      sign_request_open: { ok: UNEXPLAINED },
      sign_request_sign: { ok: SIGNED },
    },
  });
  try {
    await pasteRequest(app, SIGN_UR);
    await app.page.locator("#sign-request").waitFor();
    assert.deepEqual(await app.page.locator("#sign-steps li").allTextContents(), [
      SENDS.text,
      `calls the program ${STAKE} with 12 bytes of data not explained by this wallet`,
    ]);
    assert.deepEqual(await app.page.locator("#sign-steps li").evaluateAll((lis) => lis.map((li) => li.dataset.explained)), ["true", "false"]);
    assert.equal(await app.page.isVisible("#sign-steps li >> nth=1 >> text=not explained by this wallet"), true);
    const box = app.page.getByLabel("I understand this transaction does things this wallet cannot explain, and I still want to sign it");
    assert.equal(await box.isVisible(), true);
    assert.equal(await box.isChecked(), false);
    assert.equal(await app.page.isDisabled("#sign-sign"), true, "Sign waits for the confirmation");
    assert.equal(await app.page.isVisible("#sign-passphrase-label"), true, "asked as for a payment");

    // Enter in the passphrase field does not sign either.
    await app.page.fill("#sign-passphrase", "correct horse");
    await app.page.press("#sign-passphrase", "Enter");
    await app.page.waitForTimeout(100);
    assert.deepEqual(await argsOf(app, "sign_request_sign"), []);

    await box.check();
    assert.equal(await app.page.isDisabled("#sign-sign"), false);
    await box.uncheck();
    assert.equal(await app.page.isDisabled("#sign-sign"), true, "unticked again: off again");
    await box.check();
    await app.page.click("#sign-sign");
    await app.page.locator("#sign-answer").waitFor();
    assert.deepEqual(await argsOf(app, "sign_request_sign"), [{ confirmedUnexplained: true, passphrase: "correct horse" }]);
    assert.equal(await app.page.inputValue("#sign-passphrase"), "", "never kept on screen");
    assert.equal(await app.page.textContent("#sign-answer-ur"), SIGNED.ur);

    // A refusal to sign is said in the alert, and no answer stays shown.
    await app.answer("sign_request_sign", { err: "the passphrase is wrong" });
    await app.page.click("#sign-sign");
    await app.page.locator("#sign-problem[role=alert]").getByText("the passphrase is wrong", { exact: true }).waitFor();
    assert.equal(await app.page.isHidden("#sign-answer"), true);
    assert.equal(await app.page.isDisabled("#sign-sign"), false, "still confirmed: Sign stays offered");

    // A new request asks again.
    await app.page.click("#sign-open");
    await app.page.locator("#sign-request").waitFor();
    assert.equal(await box.isChecked(), false);
    assert.equal(await app.page.isDisabled("#sign-sign"), true);
    assert.equal(await app.page.isHidden("#sign-problem"), true);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("sign for another tool: a request Rust refuses is said, and nothing is offered or signed", async () => {
  const refusal = "this request was made for another wallet (fingerprint 00c0ffee)";
  const app = await openApp({ answers: { sign_request_open: { ok: EXPLAINED } } });
  try {
    // Nothing pasted: said, nothing asked.
    await app.show("sign");
    await app.page.click("#sign-open");
    await app.page.locator("#sign-open-problem").getByText("Paste the request's text first, or choose an image of its code.", { exact: true }).waitFor();
    assert.deepEqual(await argsOf(app, "sign_request_open"), []);

    await pasteRequest(app, SIGN_UR);
    await app.page.locator("#sign-request").waitFor();
    await app.answer("sign_request_open", { err: refusal });
    await pasteRequest(app, "ur:sol-sign-request/other");
    await app.page.locator("#sign-open-problem[role=alert]").getByText(refusal, { exact: true }).waitFor();
    assert.equal(await app.page.isHidden("#sign-request"), true, "the earlier request leaves the screen");
    assert.equal(await app.page.isHidden("#sign-answer"), true);
    assert.deepEqual(await argsOf(app, "sign_request_open"), [{ text: SIGN_UR }, { text: "ur:sol-sign-request/other" }]);
    assert.deepEqual(await argsOf(app, "sign_request_sign"), [], "nothing signed");
    assert.equal(await app.page.isDisabled("#sign-open"), false, "Open is offered again");
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("sign for another tool: an image chosen in the dialog must hold a request to sign; a cancelled dialog reads nothing", async () => {
  const app = await openApp({ answers: { scan_image: { ok: REQUEST }, sign_request_open: { ok: EXPLAINED } } });
  try {
    await app.show("sign");
    await app.choose("/home/me/pay.png");
    await app.page.click("#sign-image");
    await app.page.locator("#sign-open-problem[role=alert]").getByText("That code is not a request to sign.", { exact: true }).waitFor();
    assert.deepEqual(await argsOf(app, "scan_image"), [{ path: "/home/me/pay.png" }]);
    assert.deepEqual(await argsOf(app, "sign_request_open"), [], "a payment request is not opened to sign");
    assert.equal(await app.page.isHidden("#sign-request"), true);

    await app.choose(null);
    await app.page.click("#sign-image");
    await dialogDone(app, 2, "#sign-image");
    assert.deepEqual(await argsOf(app, "scan_image"), [{ path: "/home/me/pay.png" }], "cancelled: nothing read");

    await app.answer("scan_image", { ok: { kind: "sign-request", ur: SIGN_UR } });
    await app.choose("/home/me/keystone.png");
    await app.page.click("#sign-image");
    await app.page.locator("#sign-request").waitFor();
    assert.deepEqual(await argsOf(app, "sign_request_open"), [{ text: SIGN_UR }]);
    assert.equal(await app.page.inputValue("#sign-text"), SIGN_UR, "the request read is shown as text");
    assert.equal(await app.page.isHidden("#sign-open-problem"), true);
    assert.deepEqual(await app.dialogs(), [["open", IMAGE_FILTERS], ["open", IMAGE_FILTERS], ["open", IMAGE_FILTERS]]);

    await app.answer("scan_image", { err: "no QR code in /home/me/blank.png" });
    await app.choose("/home/me/blank.png");
    await app.page.click("#sign-image");
    await app.page.locator("#sign-open-problem").getByText("no QR code in /home/me/blank.png", { exact: true }).waitFor();
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("sign for another tool: a message to sign shows its text, and no steps or fee", async () => {
  const message = {
    sign_type: "message",
    signer: ADDRESS,
    origin: null,
    steps: [],
    fee_text: null,
    message_text: "Sign in to example.com\nNonce: 42",
    unexplained: false,
  };
  const app = await openApp({ answers: { sign_request_open: { ok: message }, sign_request_sign: { ok: SIGNED } } });
  try {
    await pasteRequest(app, SIGN_UR);
    await app.page.locator("#sign-message").waitFor();
    assert.equal(await app.page.textContent("#sign-message"), "Sign in to example.com\nNonce: 42");
    assert.deepEqual(await rows(app, "#sign-fields"), [
      ["What", "A message to sign"],
      ["Asked by", "not named by the request"],
      ["Signing account", ADDRESS],
    ]);
    assert.equal(await app.page.isHidden("#sign-steps"), true);
    assert.equal(await app.page.isHidden("#sign-steps-title"), true);
    assert.equal(await app.page.isHidden("#sign-unexplained-box"), true);
    await app.page.click("#sign-sign");
    await app.page.locator("#sign-answer").waitFor();
    assert.deepEqual(await argsOf(app, "sign_request_sign"), [{ confirmedUnexplained: false, passphrase: null }]);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("sign for another tool: my accounts, watch-only, as a QR with the fingerprint and each account", async () => {
  const shown = {
    ur: "UR:CRYPTO-MULTI-ACCOUNTS/OTADCYCNTIFDWTAOLNTAADDLOSAOWKAXHDCLAOYKAXHDCL",
    qr_svg: SVG(6),
    fingerprint: "1a2b3c4d",
    accounts: [
      { address: ADDRESS, label: "Main", path: "m/44'/501'/0'/0'" },
      { address: MERCHANT, label: "Imported", path: null },
    ],
  };
  const app = await openApp({ answers: { accounts_ur: { err: "no account in this wallet yet" } } });
  try {
    await app.show("sign");
    await app.page.click("#sign-accounts");
    await app.page.locator("#sign-accounts-problem[role=alert]").getByText("no account in this wallet yet", { exact: true }).waitFor();
    assert.equal(await app.page.isHidden("#sign-accounts-shown"), true);

    await app.answer("accounts_ur", { ok: shown });
    await app.page.click("#sign-accounts");
    await app.page.locator("#sign-accounts-shown").waitFor();
    assert.deepEqual(await argsOf(app, "accounts_ur"), [null, null]);
    assert.equal(await app.page.getAttribute("#sign-accounts-qr svg", "data-frame"), "6");
    assert.equal(await app.page.textContent("#sign-accounts-fingerprint"), "1a2b3c4d");
    assert.deepEqual(await app.page.locator("#sign-accounts-list li").allTextContents(), [
      `Main ${ADDRESS} m/44'/501'/0'/0'`,
      `Imported ${MERCHANT} no derivation path`,
    ]);
    assert.equal(await app.page.textContent("#sign-accounts-ur"), shown.ur);
    assert.equal(await app.page.isHidden("#sign-accounts-problem"), true);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("a request to sign read on the pay screen (image, clipboard, camera) opens on the Sign screen", async () => {
  const app = await openApp({
    answers: {
      scan_image: { ok: { kind: "sign-request", ur: SIGN_UR } },
      scan_clipboard: { ok: { kind: "sign-request", ur: `${SIGN_UR}/clipboard` } },
      sign_request_open: { ok: UNEXPLAINED },
    },
  });
  const onSign = async (text) => {
    await app.page.locator("#sign-request").waitFor();
    assert.equal(await app.page.isHidden("#screen-pay"), true);
    assert.equal(await app.page.getAttribute('#nav button[data-screen="sign"]', "aria-current"), "page");
    assert.equal(await app.page.inputValue("#sign-text"), text);
    assert.equal((await argsOf(app, "sign_request_open")).at(-1).text, text);
    assert.equal(await app.page.isDisabled("#sign-sign"), true, "the second confirmation is asked here too");
  };
  try {
    await app.show("pay");
    await app.page.fill("#pay-file", "/tmp/keystone.png");
    await app.page.click("#pay-file-form button[type=submit]");
    await onSign(SIGN_UR);
    assert.equal(await app.page.isHidden("#pay-result"), true, "not shown as a code to pay");

    await app.show("pay");
    await app.page.click("#pay-clipboard");
    await onSign(`${SIGN_UR}/clipboard`);

    await app.show("pay");
    await app.emit("scan", { kind: "code", scanned: { kind: "sign-request", ur: `${SIGN_UR}/camera` } });
    await onSign(`${SIGN_UR}/camera`);
    assert.deepEqual(await argsOf(app, "sign_request_open"), [
      { text: SIGN_UR },
      { text: `${SIGN_UR}/clipboard` },
      { text: `${SIGN_UR}/camera` },
    ]);
    assert.deepEqual(await argsOf(app, "sign_request_sign"), [], "opened, not signed");
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("sign for another tool at 800x600: no label, button or heading cut mid-word, nothing wider than the window", async () => {
  const app = await openApp({
    answers: {
      sign_request_open: { ok: UNEXPLAINED },
      sign_request_sign: { ok: SIGNED },
      accounts_ur: { ok: { ur: "UR:CRYPTO-MULTI-ACCOUNTS/OTADCYCNTIFDWT", qr_svg: SVG(6), fingerprint: "1a2b3c4d", accounts: [{ address: ADDRESS, label: "Main", path: "m/44'/501'/0'/0'" }] } },
    },
  });
  try {
    await app.page.setViewportSize({ width: 800, height: 600 });
    await pasteRequest(app, SIGN_UR);
    await app.page.locator("#sign-request").waitFor();
    await app.page.check("#sign-unexplained");
    await app.page.click("#sign-sign");
    await app.page.locator("#sign-answer").waitFor();
    await app.page.click("#sign-accounts");
    await app.page.locator("#sign-accounts-shown").waitFor();
    // The rules tests/e2e/app.test.mjs applies to every screen (WORDS_CUT, OVERFLOWING_CARDS, UNNAMED_CONTROLS).
    const cut = await app.page.evaluate(() =>
      [...document.querySelectorAll("label, button, th, h2")]
        .filter((e) => e.getClientRects().length > 0)
        .filter((e) => { const s = getComputedStyle(e); return s.overflowWrap !== "normal" || s.wordBreak !== "normal"; })
        .map((e) => e.id || e.textContent.trim().slice(0, 30)),
    );
    assert.deepEqual(cut, [], "labels that could wrap mid-word");
    const wide = await app.page.evaluate(() =>
      [...document.querySelectorAll(".card")]
        .filter((c) => c.getClientRects().length > 0 && c.scrollWidth > c.clientWidth + 1)
        .map((c) => c.id || c.querySelector("h2")?.textContent),
    );
    assert.deepEqual(wide, [], "content wider than its card");
    const unnamed = await app.page.evaluate(() => {
      const name = (el) =>
        (el.getAttribute("aria-label") ||
          [...(el.labels ?? [])].map((l) => l.textContent).join(" ") ||
          (el.tagName === "BUTTON" || el.getAttribute("role") === "button" ? el.textContent : "") ||
          el.title || "").trim();
      return [...document.querySelectorAll("button, input, select, textarea, [tabindex]")]
        .filter((el) => el.tabIndex >= 0 && el.getClientRects().length > 0 && !name(el))
        .map((el) => el.outerHTML.slice(0, 100));
    });
    assert.deepEqual(unnamed, [], "controls without a name");
    const [scroll, width] = await app.page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(width <= 800 && scroll <= width, `${scroll}px of content in a ${width}px window`);
    assert.deepEqual(app.errors, []);
  } finally {
    await app.close();
  }
});

test("settings: requests to sign with unexplained steps are confirmed or refused, as chosen", async () => {
  const schema = [{ key: "unexplained_instructions", env: "TOSS_UNEXPLAINED_INSTRUCTIONS", allowed: "confirm, refuse", overridden: false }];
  const app = await openApp({ config: { unexplained_instructions: "refuse" }, answers: { settings_schema: { ok: schema } } });
  try {
    await app.show("settings");
    assert.deepEqual(
      await app.page.$eval('#settings dd[data-key="unexplained_instructions"]', (dd) => [dd.previousElementSibling.textContent, dd.textContent]),
      ["Requests to sign with steps this wallet cannot explain", "refuse"],
    );
    assert.deepEqual(await app.page.locator('#settings-fields select[name="unexplained_instructions"] option').allTextContents(), ["confirm", "refuse"]);
    assert.equal(await app.page.inputValue('#settings-fields select[name="unexplained_instructions"]'), "refuse");
  } finally {
    await app.close();
  }
});
