/* Sharing statistics charts (ECharts, vendored under supervision/vendor). The data comes
   from the page as JSON (json_script "sharing-stats-data"). */
(function () {
  "use strict";

  function bars(node, rows, label, color) {
    if (!node) return null;
    var chart = echarts.init(node, null, { renderer: "canvas" });
    var names = rows.map(function (row) { return row[0]; }).reverse();
    var values = rows.map(function (row) { return row[1]; }).reverse();
    chart.setOption({
      color: [color],
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: names, axisLabel: { width: 140, overflow: "truncate" } },
      series: [{ name: label, type: "bar", data: values }]
    });
    return chart;
  }

  function draw() {
    var source = document.getElementById("sharing-stats-data");
    var trendNode = document.getElementById("sharing-trend");
    if (!source || !trendNode || typeof echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    var charts = [];
    var trend = echarts.init(trendNode, null, { renderer: "canvas" });
    trend.setOption({
      color: ["#0b5cad", "#1a7f37", "#9a6700"],
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [data.labels.calls, data.labels.ok, data.labels.records] },
      grid: { left: 56, right: 64, top: 40, bottom: 36 },
      xAxis: { type: "category", data: data.days.map(function (day) { return day.slice(5); }) },
      yAxis: [
        { type: "value", name: data.labels.calls, minInterval: 1 },
        { type: "value", name: data.labels.records, minInterval: 1, splitLine: { show: false } }
      ],
      series: [
        { name: data.labels.calls, type: "bar", data: data.calls },
        { name: data.labels.ok, type: "bar", data: data.ok },
        { name: data.labels.records, type: "line", yAxisIndex: 1, data: data.records }
      ]
    });
    charts.push(trend);
    charts.push(bars(document.getElementById("sharing-top-resources"), data.topResources, data.labels.calls, "#0b5cad"));
    charts.push(bars(document.getElementById("sharing-top-consumers"), data.topConsumers, data.labels.calls, "#1a7f37"));
    charts.push(bars(document.getElementById("sharing-by-provider"), data.byProvider, data.labels.calls, "#8250df"));
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { if (chart) chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
