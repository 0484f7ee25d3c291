// Run one scenario in headless Chromium and print its result as one JSON line.
//
//   node run.mjs <origin> <scenario.js> <params-json> <timeout-ms>
//
// The page is <origin>/__test.html (an empty document served by the route
// below, so it shares the origin of the server under test). The scenario file
// is the body of an async function of `params`, run after helpers.js; what it
// returns is printed as {"ok":true,"result":…,"logs":[…]}. Any failure or the
// timeout prints {"ok":false,"error":…,"logs":[…]} and exits non-zero.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium } from "./chromium.mjs";

const [origin, scenarioFile, paramsJson = "{}", timeoutMs = "30000"] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
const helpers = readFileSync(join(here, "helpers.js"), "utf8");
const scenario = readFileSync(scenarioFile, "utf8");
const logs = [];
let browser;

function finish(code, report) {
  process.stdout.write(JSON.stringify({ ...report, logs }) + "\n");
  const close = browser ? browser.close().catch(() => {}) : Promise.resolve();
  close.finally(() => process.exit(code));
}

setTimeout(() => finish(2, { ok: false, error: `scenario timed out after ${timeoutMs} ms` }), Number(timeoutMs)).unref();

try {
  browser = await launchChromium();
  const page = await browser.newPage();
  page.on("console", (message) => logs.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => logs.push(`pageerror: ${error.message}`));
  // The test proxy's control port, reached from Node (no CORS in the way).
  const params = JSON.parse(paramsJson);
  await page.exposeFunction("__proxyControl", async (command) => {
    if (!params.control) throw new Error("this scenario has no proxy");
    const response = await fetch(`${params.control}/${command}`, { method: "POST" });
    return response.status;
  });
  await page.route(`${origin}/__test.html`, (route) =>
    route.fulfill({ contentType: "text/html", body: "<!doctype html><html><head><meta charset=utf-8></head><body></body></html>" }));
  await page.goto(`${origin}/__test.html`);
  const source = `(async (params) => {\n${helpers}\n${scenario}\n})(${paramsJson})`;
  const result = await page.evaluate(source);
  finish(0, { ok: true, result });
} catch (error) {
  finish(1, { ok: false, error: String(error && error.stack || error) });
}
