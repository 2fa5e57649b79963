/* The monitoring screen's 30-day trend chart (ECharts). Data comes from the page as JSON
   (json_script "monitor-trend-data"); clicking a day opens the cases or alerts behind it. */
(function () {
  "use strict";

  function drill(data, seriesIndex, day) {
    if (seriesIndex === 0) return data.casesUrl + "?date=" + day;
    if (seriesIndex === 1) return data.casesUrl + "?status=completed&date=" + day;
    return data.alertsUrl ? data.alertsUrl + "?date=" + day : "";
  }

  function draw() {
    var node = document.getElementById("monitor-trend");
    var source = document.getElementById("monitor-trend-data");
    if (!node || !source || typeof echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(node, null, { renderer: "canvas" });
    var labels = data.days.map(function (day) { return day.slice(5); });
    chart.setOption({
      color: ["#0b5cad", "#1a7f37", "#b3161b"],
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [data.labels.received, data.labels.completed, data.labels.alerts] },
      grid: { left: 48, right: 48, top: 40, bottom: 36 },
      xAxis: { type: "category", data: labels, axisTick: { alignWithLabel: true } },
      yAxis: [
        { type: "value", name: data.labels.cases, minInterval: 1 },
        { type: "value", name: data.labels.alertsAxis, minInterval: 1, splitLine: { show: false } }
      ],
      series: [
        { name: data.labels.received, type: "bar", data: data.received },
        { name: data.labels.completed, type: "bar", data: data.completed },
        { name: data.labels.alerts, type: "line", yAxisIndex: 1, data: data.alerts }
      ]
    });
    chart.on("click", function (params) {
      var url = drill(data, params.seriesIndex, data.days[params.dataIndex]);
      if (url) window.location.href = url;
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
