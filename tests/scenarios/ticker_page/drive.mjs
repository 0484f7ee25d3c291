// The ticker page fills its table from the built-in ticker and counts updates.
export default async function (t) {
  await t.open("/ticker.html");
  await t.until(() => document.querySelectorAll("#quotes tr").length === 5, "five rows of quotes");
  const first = Number(await t.page.textContent("#updates"));
  await t.sleep(2000);
  const second = Number(await t.page.textContent("#updates"));
  const rows = await t.page.$$eval("#quotes tr", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
  const inked = await t.page.evaluate(() => {
    const canvas = document.getElementById("chart");
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) n += 1;
    return n;
  });
  const badges = await t.texts("#status .badge");
  await t.shot("ticker");
  // The README's picture (docs/screenshot.png): the page down to its cards.
  const bottom = await t.page.evaluate(() => document.querySelector(".grid").getBoundingClientRect().bottom);
  await t.shot("ticker-top", { x: 0, y: 0, width: 1200, height: Math.ceil(bottom) + 24 });
  return { first, second, rows, inked, badges, last: await t.page.textContent("#last") };
}
