// slogate report: the values under the pointer on every chart. Reads each
// chart's data-hover (plot pixels, x range, lines); builds text nodes only.
(function () {
  var states = ["-", "pending", "firing", "wanted here"];
  function fmt(v) {
    if (v === null || !isFinite(v)) return "-";
    var a = Math.abs(v);
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    if (a >= 1) return v.toFixed(2);
    return a === 0 ? "0" : v.toPrecision(3);
  }
  function nearest(points, x) {
    var lo = 0, hi = points.length - 1;
    if (hi < 0) return null;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (points[mid][0] < x) lo = mid + 1; else hi = mid;
    }
    if (lo > 0 && Math.abs(points[lo - 1][0] - x) <= Math.abs(points[lo][0] - x)) lo--;
    return points[lo];
  }
  function atOrBefore(points, x) {
    var found = null;
    for (var i = 0; i < points.length && points[i][0] <= x; i++) found = points[i];
    return found;
  }
  document.querySelectorAll(".plot[data-hover]").forEach(function (plot) {
    var data;
    try { data = JSON.parse(plot.getAttribute("data-hover")); } catch (e) { return; }
    var svg = plot.querySelector("svg");
    if (!svg) return;
    var tip = document.createElement("div");
    tip.className = "tip";
    tip.hidden = true;
    var guide = document.createElement("div");
    guide.className = "guide";
    guide.hidden = true;
    plot.appendChild(guide);
    plot.appendChild(tip);
    function hide() { tip.hidden = true; guide.hidden = true; }
    function xText(x) {
      if (data.kind === "pct") return "p" + (+(100 * (1 - Math.pow(10, -x))).toFixed(3));
      return "t = " + x.toFixed(1) + " s";
    }
    function show(event) {
      var box = svg.getBoundingClientRect();
      if (!box.width) return;
      var fx = (event.clientX - box.left) / box.width * data.w;
      if (fx < data.px[0] || fx > data.px[1]) { hide(); return; }
      var x = data.x[0] + (fx - data.px[0]) / (data.px[1] - data.px[0]) * (data.x[1] - data.x[0]);
      tip.textContent = "";
      var head = document.createElement("b");
      head.textContent = xText(x);
      tip.appendChild(head);
      data.lines.forEach(function (line) {
        var text;
        if (data.kind === "alerts") {
          var state = atOrBefore(line.p, x);
          text = line.l + ": " + states[state ? state[1] : 0];
        } else {
          var point = nearest(line.p, x);
          if (!point) return;
          text = line.l + ": " + fmt(point[1]) + (data.unit && point[1] !== null ? " " + data.unit : "");
        }
        var row = document.createElement("div");
        if (line.c) row.style.borderLeftColor = line.c;
        row.textContent = text;
        tip.appendChild(row);
      });
      var outer = plot.getBoundingClientRect();
      var left = event.clientX - outer.left;
      guide.style.left = left + "px";
      guide.hidden = false;
      tip.hidden = false;
      var width = tip.offsetWidth;
      var at = left + 14 + width > outer.width ? left - 14 - width : left + 14;
      tip.style.left = Math.max(0, at) + "px";
      tip.style.top = Math.max(0, Math.min(event.clientY - outer.top + 10, outer.height - tip.offsetHeight)) + "px";
    }
    plot.addEventListener("mousemove", show);
    plot.addEventListener("mouseleave", hide);
  });
})();
