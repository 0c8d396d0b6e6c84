/* The overview's bar chart: income by village (万元), from the page's json_script "economy-income-data".
   The figures are computed on the server; this only draws them. */
(function () {
  "use strict";
  var el = document.getElementById("economy-income-chart");
  var source = document.getElementById("economy-income-data");
  if (!el || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  if (!data.names.length) return;
  var names = data.names.slice().reverse();
  var values = data.values.map(Number).reverse();
  var chart = window.echarts.init(el);
  chart.setOption({
    tooltip: {trigger: "axis", axisPointer: {type: "shadow"},
              valueFormatter: function (v) { return v.toFixed(2) + " 万元"; }},
    grid: {left: 8, right: 24, top: 8, bottom: 24, containLabel: true},
    xAxis: {type: "value", name: "万元", nameLocation: "end"},
    yAxis: {type: "category", data: names, axisLabel: {interval: 0}},
    series: [{type: "bar", data: values, itemStyle: {color: "#2e7d32"},
              label: {show: values.length <= 30, position: "right", fontSize: 10,
                      formatter: function (p) { return p.value.toFixed(0); }}}]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
