// The coverage dashboard's charts (Apache ECharts): the child units on a bar chart for the
// chosen coverage, with its target as a line; the coverages term by term and week by week. The
// figures come from the page (#dashboard-data); the cards, the unit list and the table beside the
// charts are their text alternative. The term and school-setting pickers reload the page.
(function () {
  "use strict";

  document.querySelectorAll("select.autosubmit").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  var source = document.getElementById("dashboard-data");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var charts = [];

  function percent(metric) { return metric ? Math.round(metric.rate * 1000) / 10 : null; }

  function keysOf(points) {
    var first = points.length ? points[0].metrics : {};
    return Object.keys(data.labels).filter(function (key) {
      return first[key] && points.some(function (p) { return p.metrics[key].denominator > 0; });
    });
  }

  function make(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    var chart = window.echarts.init(node);
    charts.push(chart);
    return chart;
  }

  var bars = make("children-chart");
  var picker = document.getElementById("dashboard-metric");

  function drawBars() {
    if (!bars) return;
    var key = picker ? picker.value : "students";
    var rows = data.children.filter(function (c) { return c.metrics[key]; });
    var target = rows.length ? rows[0].metrics[key].target * 100 : 100;
    // a row's height per unit: two schools need less room than forty
    var node = document.getElementById("children-chart");
    node.style.height = Math.max(160, Math.min(rows.length, 60) * 32 + 64) + "px";
    bars.resize();
    bars.setOption({
      animation: false,
      grid: { left: 8, right: 40, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.name; }) },
      series: [{
        type: "bar",
        name: data.labels[key],
        data: rows.map(function (r) {
          var metric = r.metrics[key];
          return {
            value: percent(metric),
            itemStyle: { color: metric.denominator && metric.rate < metric.target ? "#c0392b" : "#1a7f37" }
          };
        }),
        markLine: { symbol: "none", data: [{ xAxis: target }], label: { formatter: "{c}%" } }
      }]
    }, true);
    node.dataset.drawn = String(rows.length);
  }

  function drawLines(id, points, name) {
    var chart = make(id);
    if (!chart || !points.length) return;
    var keys = keysOf(points);
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 48, bottom: 8, containLabel: true },
      legend: { top: 0, type: "scroll" },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
      xAxis: { type: "category", data: points.map(name) },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: keys.map(function (key) {
        return {
          type: "line", name: data.labels[key],
          data: points.map(function (p) { return percent(p.metrics[key]); })
        };
      })
    });
    document.getElementById(id).dataset.drawn = String(points.length);
  }

  drawBars();
  if (picker) picker.addEventListener("change", drawBars);
  drawLines("terms-chart", data.terms, function (p) { return p.name; });
  drawLines("weeks-chart", data.weeks, function (p) { return p.week.slice(5); });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
