// One transport forced alone (params.transport) on the pages:
// 1. the chat page shows hostile payloads (params.payloads, published raw
//    and inside a chat message) as text, intact, and none of them runs
//    (window.__x stays undefined, in the page and in any iframe);
// 2. the lab page gets messages in order, and after the test proxy cuts
//    every connection resumes with nothing lost.
export default async function (t) {
  const transport = t.params.transport;
  const query = `transport=${transport}&retry=200&pollInterval=200&maxBackoff=500&heartbeatWindow=3000`;
  const badge = () => t.until((name) => {
    const [shown, state] = document.querySelectorAll("#status .badge");
    return shown?.textContent === name && state?.classList.contains("open");
  }, `the badge to say ${transport} and open`, 10000, transport);

  await t.open(`/chat.html?${query}`);
  await badge();
  const payloads = t.params.payloads;
  for (const payload of payloads) await t.publish("chat-lobby", payload);
  const wrapped = { name: "</script><script>window.__x=1</script>", text: payloads.join(" | "), time: Date.now() };
  await t.publish("chat-lobby", JSON.stringify(wrapped));
  await t.until((n) => document.querySelectorAll("#messages li:not(.sys)").length >= n, "every payload in the list", 10000, payloads.length + 1);
  await t.sleep(300);
  const chat = await t.page.evaluate(() => ({
    texts: [...document.querySelectorAll("#messages li:not(.sys)")].map((li) => li.lastChild.nodeValue),
    metas: [...document.querySelectorAll("#messages li:not(.sys) .meta")].map((span) => span.textContent),
    elements: document.querySelectorAll("#messages script, #messages b, #messages img").length,
    injected: window.__x !== undefined,
    frames: [...document.querySelectorAll("iframe")].map((frame) => {
      try {
        return { injected: frame.contentWindow.__x !== undefined, scripts: frame.contentDocument.scripts.length };
      } catch (error) {
        return { error: String(error) };
      }
    }),
  }));
  await t.shot(`chat-hostile-${transport}`);

  await t.open(`/lab.html?${query}`);
  await badge();
  const data = () => t.page.$$eval("#log li:not(.sys):not(.gap)", (items) => items.map((li) => li.lastChild.nodeValue));
  const count = (n, what) => t.until((n) => document.querySelectorAll("#log li:not(.sys):not(.gap)").length >= n, what, 15000, n);
  for (let i = 1; i <= 5; i++) await t.publish("lab", `m${i}`);
  await count(5, "the first five messages");
  await t.proxy("cut");
  for (let i = 6; i <= 10; i++) await t.publish("lab", `m${i}`);
  await count(10, "the five messages published across the cut");
  await t.sleep(300); // nothing more (no duplicates) may arrive
  const lab = {
    data: await data(),
    system: await t.texts("#log li.sys"),
    badges: await t.texts("#status .badge"),
    lastId: await t.page.textContent("#last-id"),
    injected: await t.page.evaluate(() => window.__x !== undefined),
  };
  return { chat, lab };
}
