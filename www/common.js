// What every demo page shares: the SDK, the navigation bar, a status line.
import init, { PushClient, Webcam } from "/sdk/pushwire_client.js";

export { PushClient, Webcam };

/** Resolves once the SDK's WebAssembly is loaded. */
export const ready = init();

const PAGES = [
  ["/", "Demos"],
  ["/chat.html", "Chat"],
  ["/ticker.html", "Ticker"],
  ["/webcam.html", "Webcam"],
  ["/console.html", "Console"],
  ["/lab.html", "Transport lab"],
];

/** Put the navigation bar at the top of the page. */
export function nav() {
  const header = document.createElement("header");
  header.className = "top";
  const brand = document.createElement("span");
  brand.className = "brand";
  brand.textContent = "pushwire";
  header.append(brand);
  for (const [href, label] of PAGES) {
    const link = document.createElement("a");
    link.href = href;
    link.textContent = label;
    if (location.pathname === href || (href === "/" && location.pathname === "/index.html")) {
      link.setAttribute("aria-current", "page");
    }
    header.append(link);
  }
  document.body.prepend(header);
}

const STATES = ["connecting", "open", "closed"];

/**
 * Keep `element` showing a client's transport and readyState; returns a
 * function to call after replacing the client.
 */
export function showStatus(element, getClient) {
  element.classList.add("status");
  const render = () => {
    const client = getClient();
    element.replaceChildren();
    if (!client) {
      element.append(badge("closed", "closed"));
      return;
    }
    const state = STATES[client.readyState] ?? "closed";
    element.append("transport", badge(client.transport, "badge"), "state", badge(state, state));
  };
  render();
  setInterval(render, 500);
  return render;
}

function badge(text, kind) {
  const span = document.createElement("span");
  span.className = `badge ${kind}`;
  span.textContent = text;
  return span;
}

const TIMINGS = [
  "retry", "heartbeatWindow", "connectTimeout", "longPollTimeout", "pollInterval", "maxBackoff", "failuresBeforeStepDown",
];

/**
 * PushClient options from the page's query string: `?transport=` (one, or a
 * comma-separated ladder) and the SDK's timings in ms, e.g.
 * `?transport=iframe&heartbeatWindow=3000` or `?pollInterval=500`. Nothing
 * given: the SDK's defaults (the whole ladder).
 */
export function optionsFromQuery() {
  const query = new URLSearchParams(location.search);
  const options = {};
  const transports = query.get("transport");
  if (transports) options.transports = transports.split(",");
  for (const name of TIMINGS) {
    const value = Number(query.get(name) ?? "");
    if (query.get(name) && Number.isInteger(value) && value >= 0) options[name] = value;
  }
  return options;
}

/** POST `data` to `/pub/{channel}` (with `?event=` when given). */
export async function publish(channel, data, event) {
  const url = `/pub/${encodeURIComponent(channel)}` + (event ? `?event=${encodeURIComponent(event)}` : "");
  const response = await fetch(url, { method: "POST", body: data });
  if (!response.ok) throw new Error(`${response.status}: ${await response.text()}`);
  return response.json();
}

/** Append `<li>` with `text` (never parsed as HTML) to a log list, newest last. */
export function logLine(list, text, kind = "", meta = "") {
  const item = document.createElement("li");
  if (kind) item.className = kind;
  if (meta) {
    const small = document.createElement("span");
    small.className = "meta";
    small.textContent = meta;
    item.append(small);
  }
  item.append(text);
  list.append(item);
  while (list.children.length > 500) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
  return item;
}

/** `12.3 k` style numbers. */
export function human(value, unit = "") {
  const steps = ["", " k", " M", " G"];
  let step = 0;
  while (Math.abs(value) >= 1000 && step < steps.length - 1) {
    value /= 1000;
    step += 1;
  }
  const digits = Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : 1;
  return `${value.toFixed(digits)}${steps[step]}${unit}`;
}
