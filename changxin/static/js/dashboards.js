/* Dashboards (insight/boards.py): draws each chart from the JSON the page carries in #board-charts.
   A chart is {key, kind, columns, rows, series}: the first column names the categories, the next
   `series` columns (default: all) are drawn; the same rows are the table and the CSV. */
(function () {
  "use strict";
  var source = document.getElementById("board-charts");
  if (!source || !window.echarts) { return; }
  var specs = JSON.parse(source.textContent);
  var palette = ["#b3261e", "#1f6f8b", "#e0a800", "#5b8c3a", "#7a4fa3", "#c2185b", "#00897b"];
  var grid = { left: 8, right: 32, top: 32, bottom: 8, containLabel: true };
  var charts = [];

  function valueColumns(spec) {
    var n = spec.series || spec.columns.length - 1;
    var out = [];
    for (var i = 1; i <= n && i < spec.columns.length; i++) { out.push(i); }
    return out;
  }
  function column(spec, i) { return spec.rows.map(function (r) { return r[i]; }); }

  function option(spec) {
    var names = column(spec, 0);
    var cols = valueColumns(spec);
    var legend = cols.length > 1 ? { top: 0 } : undefined;
    if (spec.kind === "pie") {
      return { color: palette, tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["35%", "65%"], label: { formatter: "{b}\n{c}" },
          data: spec.rows.map(function (r) { return { name: r[0], value: r[1] }; }) }] };
    }
    if (spec.kind === "treemap") {
      var values = spec.rows.map(function (r) { return r[2]; }).filter(function (v) { return v !== null; });
      return {
        tooltip: { formatter: function (p) {
          var v = p.data.value; return p.name + "<br>" + spec.columns[1] + ": " + v[0] + "<br>" + spec.columns[2] + ": " + (v[1] === null ? "—" : v[1]); } },
        visualMap: values.length ? { type: "continuous", dimension: 1, min: Math.min.apply(null, values), max: Math.max.apply(null, values),
          inRange: { color: ["#f4c7c3", "#b3261e"] }, orient: "horizontal", left: "center", bottom: 0, calculable: false, text: [spec.columns[2], ""] } : undefined,
        series: [{ type: "treemap", roam: false, nodeClick: false, breadcrumb: { show: false }, bottom: 40,
          visualDimension: 1, label: { show: true, formatter: "{b}" },
          data: spec.rows.map(function (r) { return { name: r[0], value: [Math.max(r[1], 0.0001), r[2]] }; }) }]
      };
    }
    var horizontal = spec.kind === "hbar" || spec.kind === "stack";
    var series = cols.map(function (i, n) {
      return { name: spec.columns[i], type: spec.kind === "line" ? "line" : "bar", data: column(spec, i),
        stack: spec.kind === "stack" ? "s" : undefined, smooth: spec.kind === "line",
        itemStyle: { color: palette[n % palette.length] },
        label: { show: !horizontal ? false : cols.length === 1, position: "right" } };
    });
    var category = { type: "category", data: names, inverse: horizontal };
    var value = { type: "value", minInterval: 1 };
    return { color: palette, tooltip: { trigger: "axis" }, legend: legend, grid: grid,
      xAxis: horizontal ? value : category, yAxis: horizontal ? category : value, series: series };
  }

  specs.forEach(function (spec) {
    var el = document.getElementById("chart-" + spec.key);
    if (!el || !spec.rows.length) { return; }
    var chart = echarts.init(el);
    chart.setOption(option(spec));
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
