// The chat page: connects, sends through its form, and shows a message
// published from outside the browser (as curl would) in the list.
export default async function (t) {
  await t.open("/chat.html");
  await t.until(() => document.querySelector("#status .badge.open"), "the chat to connect");
  await t.page.fill("#name", "tester");
  await t.page.fill("#text", "hello from the form");
  await t.page.click("#say button[type=submit]");
  await t.until(() => document.querySelectorAll("#messages li:not(.sys)").length >= 1, "the sent message in the list");
  const cleared = await t.page.inputValue("#text");
  await t.publish("chat-lobby", JSON.stringify({ name: "curl", text: "hello from outside", time: Date.now() }));
  await t.until(() => document.querySelectorAll("#messages li:not(.sys)").length >= 2, "the published message in the list");
  const messages = await t.page.$$eval("#messages li:not(.sys)", (items) =>
    items.map((li) => ({ who: li.querySelector(".meta")?.textContent, text: li.lastChild.nodeValue })));
  const badges = await t.texts("#status .badge");
  const error = await t.page.textContent("#error");
  await t.shot("chat");
  return { messages, badges, cleared, error };
}
