// Pyth's side of the till's prices, with Pyth's own Solana receiver SDK
// (@pythnetwork/pyth-solana-receiver: its receiver program's IDL and
// program ids) and Anchor, as Pyth's SDK itself reads them: it writes the
// price update accounts the local validator starts with, at the push
// oracle's address for a feed (shard 0), and reads them back over RPC.
// (The SDK's PythSolanaReceiver class is not loaded: its Jito dependency
// needs an older web3.js than @solana/pay's.)
//
//   node pyth.mjs encode FEED_ID_HEX PRICE CONF EXPONENT PUBLISH_TIME full|partial
//     prints {"address", "owner", "data" (base64)}: a PriceUpdateV2
//     account (fully verified, or checked by 5 guardians only), encoded by
//     the SDK's Anchor coder.
//   node pyth.mjs read FEED_ID_HEX
//     prints {"price", "exponent", "publishTime"} of the feed's account
//     (RPC_URL names the cluster).
//
// TOSS_NPM_DIR holds the packages.
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.env.TOSS_NPM_DIR, "node_modules", "x.js"));
const { Connection, Keypair, PublicKey } = require("@solana/web3.js");
const { AnchorProvider, Program } = require("@coral-xyz/anchor");
const { IDL } = require("@pythnetwork/pyth-solana-receiver/idl/pyth_solana_receiver");
const { DEFAULT_RECEIVER_PROGRAM_ID, DEFAULT_PUSH_ORACLE_PROGRAM_ID } = require("@pythnetwork/pyth-solana-receiver/address");
const BN = require("bn.js");

const [mode, feedHex, ...rest] = process.argv.slice(2);
const wallet = { publicKey: Keypair.generate().publicKey, signTransaction: async (t) => t, signAllTransactions: async (t) => t };
const connection = new Connection(process.env.RPC_URL ?? "http://127.0.0.1:1", "confirmed");
const receiver = new Program(IDL, DEFAULT_RECEIVER_PROGRAM_ID, new AnchorProvider(connection, wallet, {}));
const feedId = Buffer.from(feedHex, "hex");
const shard = Buffer.alloc(2);
const address = PublicKey.findProgramAddressSync([shard, feedId], DEFAULT_PUSH_ORACLE_PROGRAM_ID)[0];

if (mode === "encode") {
  const [price, conf, exponent, publishTime, level] = rest;
  const data = await receiver.coder.accounts.encode("priceUpdateV2", {
    writeAuthority: wallet.publicKey,
    verificationLevel: level === "partial" ? { partial: { numSignatures: 5 } } : { full: {} },
    priceMessage: {
      feedId: [...feedId],
      price: new BN(price),
      conf: new BN(conf),
      exponent: Number(exponent),
      publishTime: new BN(publishTime),
      prevPublishTime: new BN(publishTime).subn(1),
      emaPrice: new BN(price),
      emaConf: new BN(conf),
    },
    postedSlot: new BN(1),
  });
  console.log(JSON.stringify({
    address: address.toBase58(),
    owner: receiver.programId.toBase58(),
    data: data.toString("base64"),
  }));
} else if (mode === "read") {
  const update = await receiver.account.priceUpdateV2.fetch(address);
  console.log(JSON.stringify({
    price: update.priceMessage.price.toString(),
    exponent: update.priceMessage.exponent,
    publishTime: update.priceMessage.publishTime.toString(),
  }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
