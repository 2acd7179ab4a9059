// Draws the usage page's plots with the vendored uPlot from the page's JSON data island
// (#usage-data): one bar chart per meter, one bar per day. No inline script: the page's
// CSP is default-src 'self'. The table under the plots holds the same numbers.
(function () {
  "use strict";

  var COLORS = ["#1f6fb2", "#2e8b57", "#b8621b", "#7b4fa6", "#a33b5c", "#3f7f8c"];
  var DAY = 86400;

  function seconds(isoDay) {
    return Date.parse(isoDay + "T00:00:00Z") / 1000;
  }

  function width(element) {
    return Math.max(280, element.clientWidth || element.parentNode.clientWidth || 600);
  }

  function options(series, index, element) {
    var color = COLORS[index % COLORS.length];
    return {
      width: width(element),
      height: 220,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // half a day either side, so the first and last bars show whole
        x: { time: true, range: function (u, min, max) { return [min - DAY / 2, max + DAY / 2]; } },
        y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } }
      },
      axes: [{}, { label: series.unit + " per day", size: 70 }],
      series: [
        { label: "Day", value: "{YYYY}-{MM}-{DD}" },
        {
          label: series.label + " (" + series.unit + ")",
          stroke: color,
          fill: color + "99",
          width: 1,
          paths: uPlot.paths.bars({ size: [0.7, 40] }),
          points: { show: false },
          value: function (u, v) { return v == null ? "-" : v.toFixed(2); }
        }
      ]
    };
  }

  function draw() {
    var island = document.getElementById("usage-data");
    if (!island || typeof uPlot === "undefined") {
      return;
    }
    var data = JSON.parse(island.textContent);
    var days = data.days.map(seconds);
    var plots = [];
    document.querySelectorAll(".usage-plot").forEach(function (element) {
      var index = Number(element.getAttribute("data-series"));
      var series = data.series[index];
      var plot = new uPlot(options(series, index, element), [days, series.values], element);
      plots.push([plot, element]);
    });
    window.addEventListener("resize", function () {
      plots.forEach(function (pair) {
        pair[0].setSize({ width: width(pair[1]), height: 220 });
      });
    });
    document.documentElement.setAttribute("data-usage-charts", String(plots.length));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
