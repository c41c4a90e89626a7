// A small W3C WebDriver client and a launcher for the real TOSS app through
// tauri-driver (which drives WebKitWebDriver, which starts the app's WebView).
// Node's fetch is all it needs, so the e2e suite installs nothing from npm.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
let nextPort = 4444 + (process.pid % 1000) * 2;

export const appBinary = () => {
  const bin = process.env.TOSS_APP_BIN;
  if (!bin) throw new Error("TOSS_APP_BIN must name the built toss-desktop binary");
  return bin;
};

export const screenshotDir = () => {
  const target = process.env.CARGO_TARGET_DIR ?? "target";
  const dir = join(target, "e2e-screenshots");
  mkdirSync(dir, { recursive: true });
  return dir;
};

/** A fresh, empty TOSS_HOME for one app instance. */
export const freshHome = () => mkdtempSync(join(tmpdir(), "toss-e2e-"));

class Session {
  constructor(base, id, driver) {
    this.base = base;
    this.id = id;
    this.driver = driver;
  }

  async cmd(method, path, body) {
    const res = await fetch(`${this.base}/session/${this.id}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${JSON.stringify(json.value)}`);
    return json.value;
  }

  /**
   * Puts `path` in the read-only field `css` as the system's file dialog leaves its choice
   * there: WebDriver cannot drive the native dialog, so the path goes where it would.
   */
  chosen(css, path) {
    return this.run("document.querySelector(arguments[0]).value = arguments[1]", css, path);
  }

  async find(css) {
    const v = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return v[ELEMENT];
  }

  async text(css) {
    return this.cmd("GET", `/element/${await this.find(css)}/text`);
  }

  async click(css) {
    await this.cmd("POST", `/element/${await this.find(css)}/click`, {});
  }

  /** Types `text` into the element `css` (after what it holds). */
  async type(css, text) {
    await this.typeInto(await this.find(css), text);
  }

  async typeInto(element, text) {
    await this.cmd("POST", `/element/${element}/value`, { text });
  }

  async clear(css) {
    await this.clearElement(await this.find(css));
  }

  async clearElement(element) {
    await this.cmd("POST", `/element/${element}/clear`, {});
  }

  /** Every element matching `css`, as WebDriver element ids. */
  async findAll(css) {
    const v = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return v.map((e) => e[ELEMENT]);
  }

  attributeOf(element, name) {
    return this.cmd("GET", `/element/${element}/attribute/${name}`);
  }

  async attribute(css, name) {
    return this.attributeOf(await this.find(css), name);
  }

  /** Presses `keys` one after another, as a keyboard would (WebDriver key codes or characters). */
  async press(...keys) {
    const actions = keys.flatMap((value) => [
      { type: "keyDown", value },
      { type: "keyUp", value },
    ]);
    await this.cmd("POST", "/actions", { actions: [{ type: "key", id: "keyboard", actions }] });
  }

  /** Resizes the window (its outer size). */
  async resize(width, height) {
    await this.cmd("POST", "/window/rect", { width, height });
  }

  /** Runs `script` in the page and returns its result. */
  run(script, ...args) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  title() {
    return this.cmd("GET", "/title");
  }

  /** Polls `css`'s text until `predicate` holds; fails with the last text seen. */
  async waitForText(css, predicate, timeoutMs = 10000) {
    const end = Date.now() + timeoutMs;
    let last;
    while (Date.now() < end) {
      try {
        last = await this.text(css);
        if (predicate(last)) return last;
      } catch (err) {
        last = `(${err.message})`;
      }
      await sleep(100);
    }
    throw new Error(`timed out waiting on ${css}; last text: ${JSON.stringify(last)}`);
  }

  /** Saves a PNG after two animation frames, so the last DOM change is painted. */
  async screenshot(name) {
    await this.cmd("POST", "/execute/async", {
      script: "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
      args: [],
    });
    const png = Buffer.from(await this.cmd("GET", "/screenshot"), "base64");
    const path = join(screenshotDir(), `${name}.png`);
    writeFileSync(path, png);
    return { path, png };
  }

  async close() {
    try {
      await this.cmd("DELETE", "");
    } finally {
      this.driver.stop();
    }
  }
}

/**
 * Starts tauri-driver with `env` added to its environment (the app inherits it),
 * opens a WebDriver session on the app and returns it. A driver that gives no session
 * within 20 s is replaced once, on new ports (seen once in CI: WebKitWebDriver never
 * started listening); a second failure fails the test with the last error.
 */
export async function launchApp(env) {
  let lastError;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const { session, error } = await tryLaunch(env);
    if (session) return session;
    lastError = error;
  }
  throw new Error(`could not open a WebDriver session on the app: ${lastError}`);
}

async function tryLaunch(env) {
  const port = nextPort;
  nextPort += 2;
  // Its own process group: killing the group also ends WebKitWebDriver and the app.
  const child = spawn(
    "tauri-driver",
    ["--port", String(port), "--native-port", String(port + 1)],
    { env: { ...process.env, ...env }, detached: true, stdio: ["ignore", "inherit", "inherit"] },
  );
  const driver = {
    stop() {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    },
  };
  const base = `http://127.0.0.1:${port}`;
  const end = Date.now() + 20000;
  let error;
  while (Date.now() < end) {
    try {
      const res = await fetch(`${base}/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          capabilities: { alwaysMatch: { "tauri:options": { application: appBinary() } } },
        }),
      });
      const json = await res.json();
      if (res.ok) return { session: new Session(base, json.value.sessionId, driver) };
      error = JSON.stringify(json.value);
    } catch (err) {
      error = err.message; // driver not listening yet
    }
    await sleep(200);
  }
  driver.stop();
  return { error };
}
