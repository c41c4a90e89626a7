// Start-up and idle memory of the real app (issue 7's targets: interactive within 1.5 s,
// at most 150 MB resident when idle). Runs the binary named by TOSS_APP_BIN (the release
// build scripts/bundle makes) through tauri-driver under Xvfb, like the e2e tests:
//
//   TOSS_APP_BIN=~/.cache/toss-desktop/bundle-target/release/toss-desktop \
//     keyctl session - xvfb-run -a node benches/app.mjs
//
// "Interactive" is when the first screen shows what Rust answered (the set-up screen's
// "No wallet on this computer yet."), timed from the WebDriver request that launches the app:
// an upper bound, as it includes WebKitWebDriver starting the app. Memory is the resident set
// (VmRSS) of the app process and of the WebKit processes it starts, after 5 s idle.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

import { freshHome, launchApp } from "../tests/e2e/webdriver.mjs";

const RUNS = Number(process.env.RUNS ?? 5);

function rssKiB(pid, field = "VmRSS") {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0);
}

function pids(pattern) {
  try {
    return execFileSync("pgrep", ["-f", pattern], { encoding: "utf8" }).trim().split("\n").map(Number);
  } catch {
    return [];
  }
}

// Kibibytes resident in mappings of Mesa's software renderer (llvmpipe and the LLVM it
// links), which GTK loads at start when the display offers GL and there is no GPU driver.
function softwareGlKiB(pid) {
  let name = "";
  let kib = 0;
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) name = line.split(/\s+/)[5] ?? "";
    else if (line.startsWith("Rss:") && /libLLVM|\/dri\/|libGLX_mesa|libEGL_mesa|libgallium/.test(name)) {
      kib += Number(line.match(/(\d+) kB/)[1]);
    }
  }
  return kib;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const starts = [];
const apps = [];
const anons = [];
const gls = [];
const totals = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  const app = await launchApp({
    TOSS_HOME: freshHome(),
    TOSS_KEYSTORE: "keyutils",
    SOLANA_RPC_URL: "http://127.0.0.1:9",
    ...JSON.parse(process.env.APP_ENV ?? "{}"),
  });
  try {
    await app.waitForText("#wallet-state", (t) => t === "No wallet on this computer yet.", 30000);
    starts.push(performance.now() - t0);
    await sleep(5000);
    const own = pids(process.env.TOSS_APP_BIN).filter((p) => p !== process.pid);
    const webkit = [...pids("WebKitWebProcess"), ...pids("WebKitNetworkProcess")];
    const app_kib = own.reduce((s, p) => s + rssKiB(p), 0);
    apps.push(app_kib);
    anons.push(own.reduce((s, p) => s + rssKiB(p, "RssAnon"), 0));
    gls.push(own.reduce((s, p) => s + softwareGlKiB(p), 0));
    totals.push(app_kib + webkit.reduce((s, p) => s + rssKiB(p), 0));
  } finally {
    await app.close();
  }
  await sleep(500);
}
const mb = (kib) => (kib / 1024).toFixed(0);
console.log(`runs: ${RUNS}`);
console.log(`start to interactive, median: ${median(starts).toFixed(0)} ms (all: ${starts.map((s) => s.toFixed(0)).join(", ")})`);
console.log(`idle RSS, app process, median: ${mb(median(apps))} MB (of which private, not file-backed: ${mb(median(anons))} MB)`);
console.log(`  of which Mesa's software renderer (llvmpipe, LLVM), median: ${mb(median(gls))} MB`);
console.log(`idle RSS, app + WebKit processes, median: ${mb(median(totals))} MB`);
