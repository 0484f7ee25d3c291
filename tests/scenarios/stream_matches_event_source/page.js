// The same server bytes read by the browser's EventSource (`sse`) and by
// fetch + core's SSE parser (`stream` with streamFormat "sse") give the same
// events, hostile payloads included; the JSON transports (NDJSON stream,
// forever frame, long-poll) give the payloads exactly.
const { PushClient } = await sdk();
const name = channel("hostile");
const setups = {
  sse: { transports: ["sse"] },
  streamSse: { transports: ["stream"], streamFormat: "sse" },
  streamNdjson: { transports: ["stream"] },
  iframe: { transports: ["iframe"] },
  longpoll: { transports: ["longpoll"] },
};
const clients = {};
const seen = {};
for (const [key, options] of Object.entries(setups)) {
  const client = new PushClient(`/sub/${name}`, { ...options, retry: 200 });
  seen[key] = [];
  const record = (e) => seen[key].push({ type: e.type, data: e.data, lastEventId: e.lastEventId, channel: e.channel });
  client.onmessage = record;
  client.addEventListener("price", record);
  clients[key] = client;
}
await until(() => Object.values(clients).every((c) => c.readyState === 1), "every client open");
for (const [data, event] of params.payloads) await publish(name, data, event);
const n = params.payloads.length;
await until(() => Object.values(seen).every((events) => events.length >= n), "every payload on every client");
await sleep(200);
for (const client of Object.values(clients)) client.close();
return { seen, injected: window.__x === 1, frames: document.querySelectorAll("iframe").length };
