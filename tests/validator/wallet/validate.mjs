// Checks a payment to a Solana Pay transfer request as merchants' own tools
// do, with the official @solana/pay (0.2): findReference, then
// validateTransfer. Used to check the payments our wallet makes.
//
//   node validate.mjs URL
//
// RPC_URL names the cluster; TOSS_NPM_DIR holds the packages. Prints the
// signature found; exits non-zero (with the library's reason) otherwise.
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.env.TOSS_NPM_DIR, "node_modules", "x.js"));
const { Connection } = require("@solana/web3.js");
const { parseURL, findReference, validateTransfer } = require("@solana/pay");

const [url] = process.argv.slice(2);
const connection = new Connection(process.env.RPC_URL, "confirmed");
const { recipient, amount, splToken, reference, memo } = parseURL(url);
const found = await findReference(connection, reference[0], { finality: "confirmed" });
await validateTransfer(
  connection,
  found.signature,
  { recipient, amount, splToken, reference, memo },
  { commitment: "confirmed" },
);
console.log(found.signature);
