// The default ladder while the test proxy breaks native EventSource
// (params.mode: "fail-sse" answers 503, "stall-sse" holds the response):
// the client steps down to `stream` and keeps delivering in order.
await proxy(`mode/${params.mode}`);
const { PushClient } = await sdk();
const name = channel("ladder");
const client = new PushClient(`/sub/${name}`, {
  retry: 200,
  connectTimeout: 1500,
  failuresBeforeStepDown: 1,
  maxBackoff: 500,
});
const got = [];
const changes = [];
client.onmessage = (e) => got.push(e.data);
client.addEventListener("transport", (e) => changes.push([e.from, e.to]));
const first = client.transport;
await until(() => client.readyState === 1, "open on a lower rung", 15000);
for (let i = 1; i <= 5; i++) await publish(name, `m${i}`);
await until(() => got.length >= 5, "messages after the fallback");
const result = { first, transport: client.transport, changes, data: got };
client.close();
return result;
