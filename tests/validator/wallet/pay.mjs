// Pays a Solana Pay transfer request as an ordinary wallet does, with the
// official @solana/pay (0.2) and @solana/web3.js (1.x) packages, so the
// till's look-up is tested against the ecosystem's own client, not ours.
//
//   node pay.mjs URL SECRET_KEY_JSON [AMOUNT]
//
// RPC_URL names the cluster; TOSS_NPM_DIR holds the packages. AMOUNT, when
// given, replaces the request's (to pay too little). Prints the signature.
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.env.TOSS_NPM_DIR, "node_modules", "x.js"));
const { Connection, Keypair, sendAndConfirmTransaction } = require("@solana/web3.js");
const { parseURL, createTransfer } = require("@solana/pay");
const BigNumber = require("bignumber.js");

const [url, secret, amount] = process.argv.slice(2);
const connection = new Connection(process.env.RPC_URL, "confirmed");
const payer = Keypair.fromSecretKey(Uint8Array.from(JSON.parse(secret)));
const request = parseURL(url);
const transaction = await createTransfer(connection, payer.publicKey, {
  recipient: request.recipient,
  amount: amount ? new BigNumber(amount) : request.amount,
  splToken: request.splToken,
  reference: request.reference,
  memo: request.memo,
});
const signature = await sendAndConfirmTransaction(connection, transaction, [payer], {
  commitment: "confirmed",
});
console.log(signature);
