// Type-checked by `tsc --noEmit` (tests/tests/sdk_package.rs) against the
// .d.ts the server serves at /sdk/: the README's usage must compile.
import init, { PushClient, Webcam } from "./sdk/pushwire_client.js";
import type { PushClientOptions, PushMessageEvent, PushTransport } from "./sdk/pushwire_client.js";

export async function main(): Promise<void> {
  await init();
  const options: PushClientOptions = {
    transports: ["sse", "stream", "iframe", "longpoll", "poll"],
    lastEventId: "7.1",
    withCredentials: false,
    headers: { Authorization: "Bearer token" },
    streamFormat: "sse",
    retry: 1000,
  };
  const c = new PushClient("/sub/chat,news", options);
  c.onopen = (e) => console.log(e.transport);
  c.onmessage = (e: PushMessageEvent) => {
    const text: string = e.data;
    const kind: string = e.type;
    const id: string = e.lastEventId;
    const channel: string | null = e.channel;
    console.log(text, kind, id, channel);
  };
  c.addEventListener("price", (e) => console.log(e.data));
  c.addEventListener("transport", (e) => console.log(e.from, e.to));
  c.ongap = (e) => console.log(JSON.parse(e.data).missed);
  c.onerror = (e) => console.log(e.reason, e.readyState);
  const transport: PushTransport = c.transport;
  const state: 0 | 1 | 2 = c.readyState;
  const last: string = c.lastEventId;
  console.log(transport, state, last);
  c.close();

  const img = document.createElement("img");
  const cam = new Webcam(img, "/stream/cam.mjpg");
  const mode: "native" | "fetch" = cam.mode;
  console.log(mode, cam.frames);
  cam.close();

  // @ts-expect-error: not a transport
  new PushClient("/sub/x", { transports: ["websocket"] });
}
