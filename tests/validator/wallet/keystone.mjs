// The other side of the air-gapped signer, with Keystone's own UR registry
// (@keystonehq/bc-ur-registry-sol, its UR codec @ngraveio/bc-ur) and
// @solana/web3.js, as the Solana wallet adapter's Keystone support does:
//
//   node keystone.mjs request FROM TO LAMPORTS FINGERPRINT [unknown]
//     a transfer FROM → TO on the cluster's latest blockhash (with an
//     instruction to a program nobody knows when "unknown" is given), as a
//     ur:sol-sign-request for the wallet FINGERPRINT (hex, from its
//     accounts) naming FROM by address and m/44'/501'/0'/0';
//     prints {"ur", "message"} (the message bytes, hex).
//   node keystone.mjs send MESSAGE_HEX SIGNATURE_UR FROM
//     reads our ur:sol-signature with Keystone's registry, puts it in the
//     transaction with web3.js, checks it verifies, sends it; prints the
//     transaction signature.
//   node keystone.mjs accounts ACCOUNTS_UR
//     reads our ur:crypto-multi-accounts; prints {"fingerprint", "keys", "paths"}.
//
// RPC_URL names the cluster; TOSS_NPM_DIR holds the packages.
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.env.TOSS_NPM_DIR, "node_modules", "x.js"));
const { Connection, Message, PublicKey, SystemProgram, Transaction, TransactionInstruction } = require("@solana/web3.js");
const { SolSignRequest, SolSignature, SignType, CryptoMultiAccounts } = require("@keystonehq/bc-ur-registry-sol");
const { URDecoder } = require("@ngraveio/bc-ur");

const ID = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d";
const connection = new Connection(process.env.RPC_URL ?? "http://127.0.0.1:1", "confirmed");

/** The CBOR inside a single-part UR, as Keystone's codec reads it. */
function cborOf(text) {
  const decoder = new URDecoder();
  decoder.receivePart(text.toLowerCase());
  if (!decoder.isSuccess()) throw new Error(`not a complete UR: ${decoder.resultError?.() ?? text}`);
  return decoder.resultUR().cbor;
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "request") {
  const [fromText, toText, lamports, fingerprint, unknown] = args;
  const from = new PublicKey(fromText);
  const { blockhash } = await connection.getLatestBlockhash("confirmed");
  const tx = new Transaction({ feePayer: from, recentBlockhash: blockhash });
  tx.add(SystemProgram.transfer({ fromPubkey: from, toPubkey: new PublicKey(toText), lamports: Number(lamports) }));
  if (unknown) tx.add(new TransactionInstruction({ programId: new PublicKey("Stake11111111111111111111111111111111111111"), keys: [], data: Buffer.from([9, 9]) }));
  const message = tx.serializeMessage();
  const request = SolSignRequest.constructSOLRequest(message, "m/44'/501'/0'/0'", fingerprint, SignType.Transaction, ID, from.toBuffer().toString("hex"), "Keystone test");
  console.log(JSON.stringify({ ur: request.toUREncoder(4000).nextPart(), message: message.toString("hex") }));
} else if (mode === "send") {
  const [messageHex, signatureUr, fromText] = args;
  const answer = SolSignature.fromCBOR(cborOf(signatureUr));
  if (answer.getRequestId().toString("hex") !== ID.replace(/-/g, "")) throw new Error("the answer names another request");
  const tx = Transaction.populate(Message.from(Buffer.from(messageHex, "hex")), []);
  tx.addSignature(new PublicKey(fromText), answer.getSignature());
  if (!tx.verifySignatures()) throw new Error("the signature does not verify");
  const signature = await connection.sendRawTransaction(tx.serialize());
  await connection.confirmTransaction(signature, "confirmed");
  console.log(signature);
} else if (mode === "accounts") {
  const accounts = CryptoMultiAccounts.fromCBOR(cborOf(args[0]));
  console.log(JSON.stringify({
    fingerprint: accounts.getMasterFingerprint().toString("hex"),
    keys: accounts.getKeys().map((k) => new PublicKey(k.getKey()).toBase58()),
    paths: accounts.getKeys().map((k) => k.getOrigin()?.getPath() ?? null),
  }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
