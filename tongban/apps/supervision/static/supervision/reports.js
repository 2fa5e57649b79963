/* Evaluation charts (绩效评估): the score bar chart and the monthly trend of 办结率/超期率.
   Data comes from the page's json_script block "sv-report-data" (no inline script: CSP). */
(function () {
  "use strict";

  function start() {
    var source = document.getElementById("sv-report-data");
    if (!source || typeof window.echarts === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var charts = [];

    var rankingBox = document.getElementById("sv-ranking-chart");
    if (rankingBox && data.ranking) {
      var ranking = window.echarts.init(rankingBox);
      ranking.setOption({
        animation: false,
        grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
        tooltip: {
          trigger: "axis",
          formatter: function (items) {
            var item = items[0];
            var encode = window.echarts.format.encodeHTML;
            return encode(item.name) + "<br>" + encode(data.ranking.label) + "：" + item.value +
              "（" + encode(data.ranking.grades[item.dataIndex]) + "）";
          }
        },
        xAxis: { type: "category", data: data.ranking.names,
                 axisLabel: { interval: 0, rotate: data.ranking.names.length > 6 ? 30 : 0 } },
        yAxis: { type: "value", min: 0 },
        series: [{ type: "bar", name: data.ranking.label, data: data.ranking.scores,
                   itemStyle: { color: "#b3161b" }, label: { show: true, position: "top" } }]
      });
      charts.push(ranking);
    }

    var trendBox = document.getElementById("sv-trend-chart");
    if (trendBox && data.trend) {
      var trend = window.echarts.init(trendBox);
      trend.setOption({
        animation: false,
        grid: { left: 8, right: 16, top: 48, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis" },
        legend: { top: 0, data: [data.trend.completionLabel, data.trend.overdueLabel] },
        xAxis: { type: "category", data: data.trend.months },
        yAxis: { type: "value", min: 0, axisLabel: { formatter: "{value}%" } },
        series: [
          { type: "line", name: data.trend.completionLabel, data: data.trend.completion,
            connectNulls: false, itemStyle: { color: "#0b5cad" } },
          { type: "line", name: data.trend.overdueLabel, data: data.trend.overdue,
            connectNulls: false, itemStyle: { color: "#b3161b" } }
        ]
      });
      charts.push(trend);
    }

    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
