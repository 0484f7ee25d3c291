// Drive the real demo pages in headless Chromium and print one JSON line.
//
//   node pages.mjs <origin> <drive.mjs> <params-json> <timeout-ms>
//
// Unlike run.mjs (a scenario body evaluated in an empty page), a page
// scenario runs here in Node: `drive.mjs` exports a default async function
// of a context `t` (below) that opens pages of the server under test, clicks,
// types, reads the DOM and takes screenshots. What it returns is printed as
// {"ok":true,"result":…,"errors":[…],"logs":[…]}; `errors` holds every
// console error and uncaught page error, each prefixed with the page path.
// A failure or the timeout prints {"ok":false,"error":…} and exits non-zero.
//
// With PUSHWIRE_WWW=<dir> the pages are read from that folder instead of the
// server (which compiles them in), to edit a page and re-run without a rebuild.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { launchChromium } from "./chromium.mjs";

const [origin, driveFile, paramsJson = "{}", timeoutMs = "30000"] = process.argv.slice(2);
const params = JSON.parse(paramsJson);
const logs = [];
const errors = [];
let browser;

function finish(code, report) {
  process.stdout.write(JSON.stringify({ ...report, errors, logs }) + "\n");
  const close = browser ? browser.close().catch(() => {}) : Promise.resolve();
  close.finally(() => process.exit(code));
}

setTimeout(() => finish(2, { ok: false, error: `page scenario timed out after ${timeoutMs} ms` }), Number(timeoutMs)).unref();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  browser = await launchChromium();
  // A laptop-sized window at scale 1: screenshots stay small and readable.
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  if (process.env.PUSHWIRE_WWW) {
    const types = { html: "text/html", js: "text/javascript", css: "text/css", svg: "image/svg+xml" };
    await page.route(/\/(?:[a-z]+\.(?:html|js|css|svg))?(?:\?.*)?$/, (route) => {
      const url = new URL(route.request().url());
      if (url.origin !== origin || url.pathname.startsWith("/sdk/")) return route.fallback();
      const file = url.pathname === "/" ? "index.html" : url.pathname.slice(1);
      const ext = file.split(".").pop();
      return route.fulfill({ contentType: types[ext], body: readFileSync(join(process.env.PUSHWIRE_WWW, file)) });
    });
  }
  const where = () => {
    try {
      const url = new URL(page.url());
      return url.pathname + url.search;
    } catch {
      return page.url();
    }
  };
  page.on("console", (message) => {
    const line = `${where()} ${message.type()}: ${message.text()}`;
    logs.push(line);
    if (message.type() === "error") errors.push(line);
  });
  page.on("pageerror", (error) => {
    const line = `${where()} pageerror: ${error.message}`;
    logs.push(line);
    errors.push(line);
  });

  /** What a page scenario gets. */
  const t = {
    page,
    origin,
    params,
    sleep,
    /** Open `path` (e.g. "/chat.html?transport=sse") and wait for its navigation bar. */
    async open(path) {
      // Not "load": a page with a multipart <img> may never finish loading.
      await page.goto(origin + path, { waitUntil: "domcontentloaded" });
      await page.waitForSelector("header.top", { timeout: 10000 });
    },
    /** Wait until `fn` (evaluated in the page with `arg`) is truthy; its value. */
    async until(fn, what, ms = 10000, arg = undefined) {
      const deadline = Date.now() + ms;
      let last;
      for (;;) {
        last = await page.evaluate(fn, arg);
        if (last) return last;
        if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
        await sleep(50);
      }
    },
    /** Text of every element matching `selector`. */
    texts(selector) {
      return page.$$eval(selector, (nodes) => nodes.map((node) => node.textContent));
    },
    /** Save a screenshot of the whole page (or of `clip`: {x, y, width, height}) as `<params.screenshots>/<name>.png`. */
    async shot(name, clip = undefined) {
      if (!params.screenshots) return null;
      mkdirSync(params.screenshots, { recursive: true });
      const path = join(params.screenshots, `${name}.png`);
      await page.screenshot(clip ? { path, clip } : { path, fullPage: true });
      return path;
    },
    /** POST `data` to /pub/<channel> from outside the browser (like curl); retried twice, as a cut may kill a pooled connection. */
    async publish(channel, data, event) {
      const url = `${origin}/pub/${encodeURIComponent(channel)}` + (event ? `?event=${encodeURIComponent(event)}` : "");
      for (let attempt = 0; ; attempt++) {
        try {
          const response = await fetch(url, { method: "POST", body: data });
          if (!response.ok) throw new Error(`publish ${response.status}: ${await response.text()}`);
          return await response.json();
        } catch (error) {
          if (attempt >= 2) throw error;
          await sleep(50);
        }
      }
    },
    /** Ask the test proxy to do something (`cut`, `mode/fail-sse`, …). */
    async proxy(command) {
      if (!params.control) throw new Error("this scenario has no proxy");
      const response = await fetch(`${params.control}/${command}`, { method: "POST" });
      if (response.status !== 204) throw new Error(`proxy ${command}: ${response.status}`);
    },
  };

  const drive = (await import(pathToFileURL(driveFile).href)).default;
  const result = await drive(t);
  finish(0, { ok: true, result });
} catch (error) {
  finish(1, { ok: false, error: String((error && error.stack) || error) });
}
