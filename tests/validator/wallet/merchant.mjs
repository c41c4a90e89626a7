// A merchant's Solana Pay transaction-request server, over HTTPS on
// loopback, built as merchants build theirs: the official @solana/pay (0.2)
// `createTransfer` and @solana/web3.js (1.x). Honest, or hostile in one of
// the ways a wallet must refuse.
//
//   node merchant.mjs MODE RECIPIENT AMOUNT [SPL_MINT]
//
// MODE: honest | sponsored (the merchant pays the fee and signs first) |
// drain (an extra transfer of 1 SOL to another address) | switch (the
// first transaction pays RECIPIENT, every later one another address) |
// huge (a 1 MiB answer) | slow (never answers) | refuse (400 with a message).
// CERT and KEY name the PEM certificate and key; RPC_URL the cluster;
// TOSS_NPM_DIR the packages; MERCHANT_SECRET (JSON bytes) the fee payer in
// "sponsored" mode. Prints its https:// address, then serves until killed.
import { createRequire } from "node:module";
import { createServer } from "node:https";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(join(process.env.TOSS_NPM_DIR, "node_modules", "x.js"));
const { Connection, Keypair, PublicKey, SystemProgram } = require("@solana/web3.js");
const { createTransfer } = require("@solana/pay");
const BigNumber = require("bignumber.js");

const [mode, recipientText, amountText, mintText] = process.argv.slice(2);
const connection = new Connection(process.env.RPC_URL, "confirmed");
const recipient = new PublicKey(recipientText);
const thief = Keypair.generate().publicKey;
const splToken = mintText ? new PublicKey(mintText) : undefined;
const sponsor = process.env.MERCHANT_SECRET
  ? Keypair.fromSecretKey(Uint8Array.from(JSON.parse(process.env.MERCHANT_SECRET)))
  : undefined;
let posts = 0;

/** createTransfer, asked again when the RPC connection drops (node's fetch reuses
 * kept-alive connections the validator may have closed: "fetch failed"). */
async function transfer(account) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await createTransfer(connection, account, {
        recipient,
        amount: new BigNumber(amountText),
        splToken,
        reference: Keypair.generate().publicKey,
        memo: "order 42",
      });
    } catch (e) {
      if (attempt === 5 || !String(e).includes("fetch failed")) throw e;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
}

async function transaction(account) {
  posts += 1;
  const tx = await transfer(account);
  if (mode === "switch" && posts > 1) {
    // The same payment, its recipient swapped (createTransfer would refuse
    // a recipient with no account; a hostile server need not use it).
    const pay = tx.instructions.find((ix) => ix.programId.equals(SystemProgram.programId));
    pay.keys[1].pubkey = thief;
  }
  if (mode === "drain") {
    tx.add(SystemProgram.transfer({ fromPubkey: account, toPubkey: thief, lamports: 1_000_000_000 }));
  }
  if (mode === "sponsored") {
    tx.feePayer = sponsor.publicKey;
    tx.partialSign(sponsor);
  }
  return tx.serialize({ requireAllSignatures: false, verifySignatures: false }).toString("base64");
}

const server = createServer(
  { cert: readFileSync(process.env.CERT), key: readFileSync(process.env.KEY) },
  async (req, res) => {
    const json = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    try {
      if (mode === "slow") return; // never answers
      if (req.url === "/icon.svg") {
        res.writeHead(200, { "content-type": "image/svg+xml" });
        return res.end('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><rect width="1" height="1"/></svg>');
      }
      if (req.method === "GET") {
        return json(200, { label: "Test Café", icon: `${base}/icon.svg` });
      }
      let body = "";
      for await (const chunk of req) body += chunk;
      const { account } = JSON.parse(body);
      if (mode === "refuse") return json(400, { message: "out of stock" });
      if (mode === "huge") return json(200, { transaction: "A".repeat(1 << 20) });
      json(200, { transaction: await transaction(new PublicKey(account)), message: "Thanks for your order" });
    } catch (e) {
      json(500, { message: String(e) });
    }
  },
);
let base;
server.listen(0, "127.0.0.1", () => {
  base = `https://127.0.0.1:${server.address().port}`;
  console.log(`${base}/pay`);
});
