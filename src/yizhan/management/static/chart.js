/* A small line chart on a canvas for the dashboard's live series (written for yizhan: no
 * library). new LineChart(canvas, legend, [{label, color}], capacity) then
 * chart.push(timeMs, [value per series]) redraws with the newest `capacity` points. */
"use strict";

class LineChart {
  constructor(canvas, legend, series, capacity) {
    this.canvas = canvas;
    this.series = series;
    this.capacity = capacity || 120;
    this.times = [];
    this.values = series.map(() => []);
    if (legend) {
      legend.textContent = "";
      for (const s of series) {
        const item = document.createElement("span");
        item.style.setProperty("--swatch", s.color);
        item.textContent = s.label;
        legend.appendChild(item);
      }
    }
    this.draw();
  }

  push(time, values) {
    this.times.push(time);
    values.forEach((v, i) => this.values[i].push(Number.isFinite(v) ? v : null));
    if (this.times.length > this.capacity) {
      this.times.shift();
      this.values.forEach((column) => column.shift());
    }
    this.draw();
  }

  /* The top of the y axis: 1, 2 or 5 times a power of ten, at least the largest value. */
  static niceMax(value) {
    if (!(value > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 5, 10]) {
      if (step * power >= value) return step * power;
    }
    return 10 * power;
  }

  static label(value) {
    if (value >= 1e6) return (value / 1e6).toFixed(1).replace(/\.0$/, "") + "M";
    if (value >= 1e3) return (value / 1e3).toFixed(1).replace(/\.0$/, "") + "k";
    return String(Math.round(value * 100) / 100);
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || canvas.width;
    const height = canvas.clientHeight || canvas.height;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const left = 48, right = 10, top = 10, bottom = 22;
    const plotW = width - left - right, plotH = height - top - bottom;
    let highest = 0;
    for (const column of this.values) for (const v of column) if (v !== null && v > highest) highest = v;
    const yMax = LineChart.niceMax(highest);
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#6b7385";
    ctx.strokeStyle = "#e5e7eb";
    ctx.lineWidth = 1;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let i = 0; i <= 4; i++) {
      const y = top + plotH - (plotH * i) / 4;
      ctx.beginPath();
      ctx.moveTo(left, Math.round(y) + 0.5);
      ctx.lineTo(left + plotW, Math.round(y) + 0.5);
      ctx.stroke();
      ctx.fillText(LineChart.label((yMax * i) / 4), left - 6, y);
    }
    const n = this.times.length;
    if (n === 0) return;
    const t0 = this.times[0], t1 = this.times[n - 1];
    const span = Math.max(t1 - t0, 1);
    const x = (t) => left + (n === 1 ? plotW : (plotW * (t - t0)) / span);
    const y = (v) => top + plotH - (plotH * v) / yMax;
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillText(new Date(t0).toLocaleTimeString(), left, top + plotH + 6);
    ctx.textAlign = "right";
    ctx.fillText(new Date(t1).toLocaleTimeString(), left + plotW, top + plotH + 6);
    this.series.forEach((s, i) => {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      let drawing = false;
      this.values[i].forEach((v, j) => {
        if (v === null) { drawing = false; return; }
        if (drawing) ctx.lineTo(x(this.times[j]), y(v));
        else { ctx.moveTo(x(this.times[j]), y(v)); drawing = true; }
      });
      ctx.stroke();
    });
  }
}

window.LineChart = LineChart;
