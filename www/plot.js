// A small line chart on a <canvas>: a rolling window of points per series.

/** A chart of `series` ([{name, color}]) keeping the last `capacity` points. */
export class Plot {
  constructor(canvas, series, { capacity = 120, format = (v) => String(Math.round(v * 10) / 10) } = {}) {
    this.canvas = canvas;
    this.series = series.map((s) => ({ ...s, points: [] }));
    this.capacity = capacity;
    this.format = format;
    this.legend(canvas);
  }

  legend(canvas) {
    const legend = document.createElement("div");
    legend.className = "legend";
    for (const s of this.series) {
      const item = document.createElement("span");
      const swatch = document.createElement("i");
      swatch.style.background = s.color;
      item.append(swatch, s.name);
      legend.append(item);
    }
    canvas.after(legend);
  }

  /** Add one value per series (in series order) and redraw. */
  push(values) {
    this.series.forEach((s, i) => {
      s.points.push(values[i] ?? 0);
      if (s.points.length > this.capacity) s.points.shift();
    });
    this.draw();
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== width * ratio || canvas.height !== height * ratio) {
      canvas.width = width * ratio;
      canvas.height = height * ratio;
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const all = this.series.flatMap((s) => s.points);
    let min = Math.min(...all, 0);
    let max = Math.max(...all, 1);
    if (this.series.every((s) => s.points.every((p) => p > 0)) && all.length) {
      min = Math.min(...all);
      max = Math.max(...all);
      const pad = (max - min) * 0.1 || 1;
      min = Math.max(0, min - pad); // positive numbers get no negative axis
      max += pad;
    }
    const left = 44;
    // The first points spread over the width (at least 10 slots), then the window rolls.
    const longest = Math.max(...this.series.map((s) => s.points.length), 0);
    const span = Math.min(this.capacity, Math.max(longest, 10));
    const x = (i) => left + (i / Math.max(span - 1, 1)) * (width - left - 4);
    const y = (v) => 6 + (1 - (v - min) / (max - min || 1)) * (height - 14);
    ctx.strokeStyle = "#dde2e8";
    ctx.fillStyle = "#5f6b7a";
    ctx.font = "11px system-ui, sans-serif";
    ctx.lineWidth = 1;
    let previous = null;
    for (const v of [min, (min + max) / 2, max]) {
      ctx.beginPath();
      ctx.moveTo(left, y(v));
      ctx.lineTo(width, y(v));
      ctx.stroke();
      // A narrow range can round two labels alike ("1", "1"): write each once.
      const label = this.format(v);
      if (label !== previous) ctx.fillText(label, 2, y(v) + 4);
      previous = label;
    }
    for (const s of this.series) {
      const offset = span - s.points.length;
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      s.points.forEach((p, i) => (i ? ctx.lineTo(x(i + offset), y(p)) : ctx.moveTo(x(i + offset), y(p))));
      ctx.stroke();
    }
  }
}
