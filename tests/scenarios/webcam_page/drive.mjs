// The webcam page: the plain <img> shows changing frames of the demo camera
// (its pixels a second apart differ, and so do two screenshots of it), and
// the SDK's canvas view counts frames.
export default async function (t) {
  await t.open("/webcam.html");
  await t.until(() => document.getElementById("native").naturalWidth > 0, "a frame in the <img>");
  const sample = () => t.page.evaluate(() => {
    const img = document.getElementById("native");
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const context = canvas.getContext("2d");
    context.drawImage(img, 0, 0);
    return Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data);
  });
  const before = await sample();
  const shotBefore = await t.page.locator("#native").screenshot();
  await t.sleep(1000);
  const after = await sample();
  const shotAfter = await t.page.locator("#native").screenshot();
  let changed = 0;
  for (let i = 0; i < before.length; i += 4) {
    if (before[i] !== after[i] || before[i + 1] !== after[i + 1] || before[i + 2] !== after[i + 2]) changed += 1;
  }
  let lit = 0;
  for (let i = 0; i < after.length; i += 4) if (after[i] + after[i + 1] + after[i + 2] > 60) lit += 1;
  const frames = async () => Number((await t.page.textContent("#frames")).split(" ")[0]);
  await t.until(() => parseInt(document.getElementById("frames").textContent, 10) > 0, "the SDK canvas to count frames");
  const framesFirst = await frames();
  await t.sleep(1200);
  const framesLater = await frames();
  await t.shot("webcam");
  return {
    size: await t.page.evaluate(() => [document.getElementById("native").naturalWidth, document.getElementById("native").naturalHeight]),
    pixels: before.length / 4,
    changed,
    lit,
    screenshotsDiffer: !shotBefore.equals(shotAfter),
    framesFirst,
    framesLater,
    fps: await t.page.textContent("#fps-now"),
    channel: await t.page.textContent("#channel-name"),
  };
}
