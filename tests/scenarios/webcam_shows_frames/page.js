// The webcam helper on a channel fed with JPEG frames made in the page:
// an <img> reads the stream natively, a <canvas> and an <img> with request
// headers read it through fetch + core's multipart parser; close() ends all.
const { Webcam } = await sdk();
const name = channel("cam");
const source = document.createElement("canvas");
source.width = 32;
source.height = 24;
const context = source.getContext("2d");
async function frame(i) {
  context.fillStyle = `rgb(${(i * 40) % 255}, 90, 30)`;
  context.fillRect(0, 0, source.width, source.height);
  const blob = await new Promise((resolve) => source.toBlob(resolve, "image/jpeg"));
  await fetch(`/pub/${name}`, { method: "POST", headers: { "content-type": "image/jpeg" }, body: blob });
}
await frame(0);
const canvas = document.createElement("canvas");
const img = document.createElement("img");
const headed = document.createElement("img");
document.body.append(canvas, img, headed);
const viaCanvas = new Webcam(canvas, `/stream/${name}.mjpg`);
const native = new Webcam(img, `/stream/${name}.mjpg`);
const withHeaders = new Webcam(headed, `/stream/${name}.mjpg`, { headers: { "x-test": "1" } });
let i = 1;
const pump = setInterval(() => frame(i++), 150);
try {
  await until(
    () => viaCanvas.frames >= 2 && withHeaders.frames >= 2 && img.naturalWidth > 0,
    `frames (canvas ${viaCanvas.frames}, headers ${withHeaders.frames}, img ${img.naturalWidth})`,
  );
} finally {
  clearInterval(pump);
}
const result = {
  modes: [viaCanvas.mode, native.mode, withHeaders.mode],
  canvas: [canvas.width, canvas.height],
  img: [img.naturalWidth, img.naturalHeight],
  headed: [headed.naturalWidth, headed.naturalHeight],
  headedSrc: headed.src.slice(0, 5),
};
viaCanvas.close();
native.close();
withHeaders.close();
result.srcsAfterClose = [img.getAttribute("src"), headed.getAttribute("src")];
return result;
