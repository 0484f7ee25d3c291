// The monitoring console: connection count and rates from pushwire-stats,
// and the charts drawn.
export default async function (t) {
  await t.open("/console.html");
  await t.until(() => /^\d+$/.test(document.getElementById("connections").textContent), "a connection count");
  await t.until(() => document.getElementById("rate").textContent !== "–", "a rate (two stats messages)", 6000);
  await t.sleep(2500); // a few more points, for the screenshot
  const inked = await t.page.evaluate(() =>
    ["by-transport", "messages", "throughput", "edge"].map((id) => {
      const canvas = document.getElementById(id);
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) n += 1;
      return n;
    }));
  const big = await t.texts(".big");
  const badges = await t.texts("#status .badge");
  await t.shot("console");
  return { big, inked, badges, legends: await t.texts(".legend") };
}
