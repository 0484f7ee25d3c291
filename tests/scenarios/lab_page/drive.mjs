// The transport lab: its transport buttons switch the client (the status
// badge follows); "Cut" then "Restore from last id" shows the messages
// published meanwhile; "Flood" past the replay log, then restore, shows a gap.
export default async function (t) {
  await t.open("/lab.html");
  // The page makes its buttons once the SDK is ready (after the header that
  // `open` waits for).
  await t.until(() => document.querySelector("#transports button"), "the transport buttons");
  const buttons = await t.texts("#transports button");
  const badge = (name) => t.until((name) => {
    const [transport, state] = document.querySelectorAll("#status .badge");
    return transport?.textContent === name && state?.classList.contains("open");
  }, `the badge to say ${name} and open`, 10000, name);
  await badge("sse");
  const switched = [];
  for (const name of ["stream", "iframe", "longpoll", "poll", "sse", "auto"]) {
    await t.page.click(`#transports button[data-transport="${name}"]`);
    await badge(name === "auto" ? "sse" : name);
    switched.push(name);
  }
  const data = () => t.page.$$eval("#log li:not(.sys):not(.gap)", (items) => items.map((li) => li.lastChild.nodeValue));
  const count = (n, what, ms) =>
    t.until((n) => document.querySelectorAll("#log li:not(.sys):not(.gap)").length >= n, what, ms, n);
  await t.page.click("#publish");
  await count(1, "the first message");
  await t.page.click("#burst");
  await count(21, "twenty more");
  await t.page.click("#cut");
  const restoreEnabled = await t.page.isEnabled("#restore");
  const cutBadge = await t.texts("#status .badge");
  for (let i = 1; i <= 3; i++) await t.publish("lab", `missed ${i}`);
  await t.sleep(300);
  const whileCut = (await data()).length;
  await t.page.click("#restore");
  await count(24, "the missed messages after restore");
  const resumed = (await data()).slice(21);
  const resumeLine = await t.page.$$eval("#log li.sys", (items) => items.map((li) => li.textContent).find((s) => s.includes("resuming after")));
  const floodStarted = Date.now();
  await t.page.click("#flood");
  await t.until(() => [...document.querySelectorAll("#log li.sys")].some((li) => li.textContent.startsWith("done")), "the flood to finish", 30000);
  const floodMillis = Date.now() - floodStarted;
  await t.page.click("#restore");
  // The log line may already have scrolled out under the backlog: read the summary.
  await t.until(() => document.getElementById("last-gap").textContent !== "none", "the gap to show");
  const gap = await t.page.textContent("#last-gap");
  await t.until(() => document.querySelectorAll("#log li:not(.sys):not(.gap)").length >= 300, "the backlog after the gap");
  await t.shot("lab");
  return { buttons, switched, restoreEnabled, cutBadge, whileCut, resumed, resumeLine, gap, floodMillis, first21: (await data()).length };
}
