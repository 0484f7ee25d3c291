// In-page helpers every scenario can use (prepended to the scenario body).
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Import and initialise the SDK the server under test serves. */
async function sdk() {
  const module = await import("/sdk/pushwire_client.js");
  await module.default();
  return module;
}

/** Wait until `check()` is truthy; throw `what` after `ms`. */
async function until(check, what, ms = 10000) {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** POST `data` to /pub/<channel> (retried once: a cut may have killed the pooled connection). */
async function publish(channel, data, event) {
  const url = `/pub/${channel}` + (event ? `?event=${encodeURIComponent(event)}` : "");
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
}

/** Ask the test proxy to do something (`cut`, `mode/fail-sse`, …). */
async function proxy(command) {
  const status = await window.__proxyControl(command);
  if (status !== 204) throw new Error(`proxy ${command}: ${status}`);
}

/** A unique channel name. */
function channel(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
