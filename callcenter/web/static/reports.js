// The reports page's plots, drawn by Chart.js (static/vendor, installed by scripts/setup)
// from the figures the page carries in each canvas's data-chart attribute:
// {kind: "bar"|"line", labels: [...], series: [{label, values}], percent?, horizontal?}.
"use strict";
(function () {
  const COLOURS = ["#2563eb", "#15803d", "#b91c1c", "#d97706"];

  // A long label (a reason's wording) on lines of about 20 characters.
  function wrap(label) {
    const text = String(label);
    if (text.length <= 20) { return text; }
    const lines = [];
    let line = "";
    text.split(" ").forEach(function (word) {
      if (line && (line + " " + word).length > 20) { lines.push(line); line = word; }
      else { line = line ? line + " " + word : word; }
    });
    if (line) { lines.push(line); }
    return lines;
  }

  function draw(canvas) {
    let spec;
    try { spec = JSON.parse(canvas.dataset.chart || "{}"); } catch (e) { return; }
    if (!spec.labels || !spec.series) { return; }
    const valueAxis = spec.horizontal ? "x" : "y";
    const scales = {};
    scales[valueAxis] = { beginAtZero: true, ticks: { precision: 0 } };
    if (spec.percent) { scales[valueAxis].max = 100; }
    if (spec.horizontal) {
      // every reason named beside its bar: none skipped, the box as tall as they need
      scales.y = { ticks: { autoSkip: false } };
      // (each reason gets the same band: the band fits the longest reason's lines)
      const lines = spec.labels.reduce(function (n, l) {
        const w = wrap(l);
        return Math.max(n, Array.isArray(w) ? w.length : 1);
      }, 1);
      const box = canvas.parentElement;
      const needed = 50 + spec.labels.length * (lines * 14 + 8);
      box.style.height = Math.max(box.clientHeight, needed) + "px";
    }
    new window.Chart(canvas, {
      type: spec.kind,
      data: {
        labels: spec.labels.map(wrap),
        datasets: spec.series.map(function (s, i) {
          return {
            label: s.label,
            data: s.values,
            backgroundColor: COLOURS[i % COLOURS.length],
            borderColor: COLOURS[i % COLOURS.length],
            spanGaps: false,
          };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        scales: scales,
        plugins: { legend: { display: spec.series.length > 1 } },
      },
    });
    canvas.dataset.drawn = "true";
  }

  function start() {
    if (!window.Chart) {
      document.querySelectorAll(".chart figcaption").forEach(function (c) {
        const note = document.createElement("span");
        note.className = "error";
        note.textContent = " (biblioteka wykresów niedostępna)";
        c.appendChild(note);
      });
      return;
    }
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
