// An announcement's receipts per child unit as a bar chart (Apache ECharts): the share of
// recipients who read it and, when it asks for one, who gave the 回执. The counts come from the
// page, then from /api/v1/announcements/<id>/receipts every 15 seconds, so the chart moves as
// people read. The table beside it stays the text alternative.
(function () {
  var node = document.getElementById("receipts-chart");
  var source = document.getElementById("receipts-data");
  if (!node || !source || !window.echarts) return;
  var labels = node.dataset;
  var withAck = labels.ack === "1";
  var chart = window.echarts.init(node);

  function share(part, whole) { return whole ? Math.round(1000 * part / whole) / 10 : 0; }

  function draw(counts) {
    var rows = counts.children.length ? counts.children : [{
      name: labels.total, recipients: counts.recipients, read: counts.read,
      acknowledged: counts.acknowledged
    }];
    var series = [{
      name: labels.readLabel, type: "bar",
      data: rows.map(function (r) { return share(r.read, r.recipients); })
    }];
    if (withAck) series.push({
      name: labels.ackedLabel, type: "bar",
      data: rows.map(function (r) { return share(r.acknowledged, r.recipients); })
    });
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 24, top: 32, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.name; }) },
      series: series
    });
    node.dataset.read = String(counts.read);
    node.dataset.acknowledged = String(counts.acknowledged);
    fill(document.querySelector("#receipts .stats"), counts);
    counts.children.forEach(function (child) {
      fill(document.querySelector('#receipts tr[data-unit="' + child.unit_id + '"]'), child);
    });
  }

  // the figures beside the chart (the summary line and the table) follow it
  function fill(scope, counts) {
    if (!scope) return;
    ["recipients", "read", "acknowledged"].forEach(function (name) {
      var cell = scope.querySelector('[data-count="' + name + '"]');
      if (cell) cell.textContent = String(counts[name]);
    });
  }

  draw(JSON.parse(source.textContent));
  window.addEventListener("resize", function () { chart.resize(); });
  setInterval(function () {
    if (document.hidden) return;
    fetch(labels.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (counts) { if (counts) draw(counts); })
      .catch(function () { /* the next round tries again */ });
  }, 15000);
})();
