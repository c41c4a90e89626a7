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
const { Connection, Keypair } = require("@solana/web3.js");
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
// Sent with web3.js, confirmed by asking for its status: web3.js's own
// confirmation listens on a websocket it guesses at the RPC's port + 1,
// which a local validator need not use.
const signature = await connection.sendTransaction(transaction, [payer]);
for (let i = 0; ; i += 1) {
  const { value } = await connection.getSignatureStatus(signature, { searchTransactionHistory: true });
  if (value?.err) throw new Error(`the payment failed on chain: ${JSON.stringify(value.err)}`);
  if (value && ["confirmed", "finalized"].includes(value.confirmationStatus)) break;
  if (i === 120) throw new Error(`the payment ${signature} was not confirmed in a minute`);
  await new Promise((resolve) => setTimeout(resolve, 500));
}
console.log(signature);
