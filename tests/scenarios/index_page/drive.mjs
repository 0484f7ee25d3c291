// The index links every demo with a line about it, and each link answers.
export default async function (t) {
  await t.open("/");
  const demos = await t.page.$$eval("ul.demos a", (links) =>
    links.map((a) => ({ href: a.getAttribute("href"), title: a.querySelector("h2")?.textContent, text: a.querySelector("p")?.textContent })));
  const nav = await t.texts("header.top a");
  const statuses = [];
  for (const { href } of demos) statuses.push((await fetch(t.origin + href)).status);
  await t.shot("index");
  return { title: await t.page.title(), demos, nav, statuses };
}
