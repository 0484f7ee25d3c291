// One transport forced alone: published messages arrive in order, the test
// proxy then cuts every connection, messages published meanwhile still
// arrive (the client resumes from its last id), and `transport` says which.
const { PushClient } = await sdk();
const name = channel(params.transport);
const client = new PushClient(`/sub/${name}`, {
  transports: [params.transport],
  retry: 200,
  pollInterval: 200,
  maxBackoff: 500,
  // The test server heartbeats every second. Chromium fires no `load` on an
  // iframe whose chunked response breaks, so the frame is caught by silence.
  heartbeatWindow: 3000,
});
const got = [];
const opens = [];
client.onopen = (e) => opens.push(e.transport);
client.onerror = (e) => console.log(`error ${e.reason} readyState=${e.readyState} in ${e.reconnectingIn}`);
client.onmessage = (e) => got.push({ data: e.data, channel: e.channel, type: e.type, id: e.lastEventId });
await until(() => client.readyState === 1, "open");
for (let i = 1; i <= 5; i++) await publish(name, `m${i}`);
await until(() => got.length >= 5, "the first five messages");
const idBeforeCut = client.lastEventId;
await proxy("cut");
for (let i = 6; i <= 10; i++) await publish(name, `m${i}`);
await until(() => got.length >= 10, "the five messages published across the cut");
await sleep(300); // nothing more (no duplicates) may arrive
const result = {
  data: got.map((m) => m.data),
  channels: [...new Set(got.map((m) => m.channel))],
  types: [...new Set(got.map((m) => m.type))],
  channel: name,
  transport: client.transport,
  opens,
  idBeforeCut,
  lastEventId: client.lastEventId,
  lastMessageId: got[got.length - 1].id,
  readyState: client.readyState,
};
client.close();
return result;
