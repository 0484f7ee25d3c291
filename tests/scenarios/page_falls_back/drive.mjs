// The chat page on the default ladder while the test proxy breaks native
// EventSource (params.mode: "fail-sse" answers 503, "stall-sse" holds the
// response): it steps down to `stream`, the badge says so, and chat works.
export default async function (t) {
  await t.proxy(`mode/${t.params.mode}`);
  await t.open("/chat.html?connectTimeout=1500&failuresBeforeStepDown=1&retry=200&maxBackoff=500");
  const first = (await t.texts("#status .badge"))[0];
  await t.until(() => {
    const [shown, state] = document.querySelectorAll("#status .badge");
    return shown?.textContent === "stream" && state?.classList.contains("open");
  }, "the badge to say stream and open", 15000);
  await t.page.fill("#text", "sent after the fallback");
  await t.page.click("#say button[type=submit]");
  await t.until(() => document.querySelectorAll("#messages li:not(.sys)").length >= 1, "the sent message");
  await t.publish("chat-lobby", JSON.stringify({ name: "curl", text: "published after the fallback", time: Date.now() }));
  await t.until(() => document.querySelectorAll("#messages li:not(.sys)").length >= 2, "both messages");
  const texts = await t.page.$$eval("#messages li:not(.sys)", (items) => items.map((li) => li.lastChild.nodeValue));
  await t.shot(`chat-fallback-${t.params.mode}`);
  return { first, badges: await t.texts("#status .badge"), texts, system: await t.texts("#messages li.sys") };
}
