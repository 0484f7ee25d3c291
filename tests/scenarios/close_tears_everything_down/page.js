// close() removes what the client put in the page (the forever frame's
// iframe and its global callback), stops delivery, and says CLOSED.
const { PushClient } = await sdk();
const name = channel("close");
const globalsBefore = Object.keys(window).filter((k) => k.startsWith("__pushwire")).length;
const client = new PushClient(`/sub/${name}`, { transports: ["iframe"] });
const got = [];
client.onmessage = (e) => got.push(e.data);
await until(() => client.readyState === 1, "open");
const framesOpen = document.querySelectorAll("iframe").length;
const globalsOpen = Object.keys(window).filter((k) => k.startsWith("__pushwire")).length;
await publish(name, "before");
await until(() => got.length === 1, "the first message");
client.close();
await publish(name, "after");
await sleep(500);
return {
  framesOpen,
  framesClosed: document.querySelectorAll("iframe").length,
  globalsBefore,
  globalsOpen,
  globalsClosed: Object.keys(window).filter((k) => k.startsWith("__pushwire")).length,
  got,
  readyState: client.readyState,
};
