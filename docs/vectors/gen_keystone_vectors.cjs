// Writes keystone-v1.json: Keystone's own UR registry (@keystonehq/bc-ur-registry-sol 0.9.5,
// @keystonehq/bc-ur-registry) and @solana/web3.js make a sol-sign-request for a SOL transfer's
// message, a sol-signature and crypto-multi-accounts; core/tests/airgap_vectors.rs checks the
// wallet reads and writes the same bytes.
//
//   npm install @keystonehq/bc-ur-registry-sol@0.9.5 @solana/web3.js@1
//   node gen_keystone_vectors.cjs > keystone-v1.json
const { SolSignRequest, SolSignature, SignType, CryptoMultiAccounts, CryptoHDKey, CryptoKeypath, PathComponent } =
  require("@keystonehq/bc-ur-registry-sol");
const { PublicKey, SystemProgram, Transaction } = require("@solana/web3.js");

const from = new PublicKey("HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk");
const to = new PublicKey("mvines9iiHiQTysrwkJjGf2gb9Ex9jXJX8ns3qwf2kN");
const tx = new Transaction({ feePayer: from, recentBlockhash: "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N" });
tx.add(SystemProgram.transfer({ fromPubkey: from, toPubkey: to, lamports: 1500000 }));
const message = tx.serializeMessage();
const id = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d";
const request = SolSignRequest.constructSOLRequest(message, "m/44'/501'/0'/0'", "12345678", SignType.Transaction, id, undefined, "TOSS test");
const text = SolSignRequest.constructSOLRequest(Buffer.from("Sign in to TOSS"), "m/44'/501'/0'/0'", "12345678", SignType.Message, id);
const signature = new SolSignature(Buffer.alloc(64, 7), Buffer.from(id.replace(/-/g, ""), "hex"));
const path = new CryptoKeypath([44, 501, 0, 0].map((index) => new PathComponent({ index, hardened: true })), Buffer.from("12345678", "hex"));
const key = new CryptoHDKey({ isMaster: false, key: from.toBuffer(), origin: path, name: "Main" });
const accounts = new CryptoMultiAccounts(Buffer.from("12345678", "hex"), [key], "TOSS");
console.log(JSON.stringify({
  made_by: "@keystonehq/bc-ur-registry-sol 0.9.5 (docs/vectors/gen_keystone_vectors.cjs)",
  transfer: { from: from.toBase58(), to: to.toBase58(), lamports: 1500000 },
  message_hex: message.toString("hex"),
  sign_request_cbor: request.toCBOR().toString("hex"),
  sign_request_ur: request.toUREncoder(1000).nextPart(),
  message_request_cbor: text.toCBOR().toString("hex"),
  signature_cbor: signature.toCBOR().toString("hex"),
  multi_accounts_cbor: accounts.toCBOR().toString("hex"),
}, null, 2));
