/**
 * The report page's inline script, as the browser runs it (plain ES2017, no build step): reads the chart
 * specifications from the `report-charts` JSON block (see charts.ts), adds the number formatters each axis names,
 * draws every chart with Chart.js (loaded before it from /reports/assets/chart.umd.js), then sets
 * `document.body.dataset.chartsReady` to the number of charts drawn (or `chartsError` when it could not draw).
 */
export const REPORT_PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var formats = {
    count: function (v) { return Number.isInteger(v) ? String(v) : v.toFixed(2); },
    percent: function (v) { return (v * 100).toFixed(1) + '%'; },
    pp: function (v) { return (v > 0 ? '+' : '') + (v * 100).toFixed(1) + ' pp'; },
    nps: function (v) { return (v > 0 ? '+' : '') + (Math.round(v * 10) / 10); }
  };
  function formatter(name) { return formats[name] || formats.count; }

  function prepare(spec) {
    var options = spec.config.options || (spec.config.options = {});
    var scales = options.scales || (options.scales = {});
    Object.keys(spec.formats).forEach(function (axis) {
      var format = formatter(spec.formats[axis]);
      var scale = scales[axis] || (scales[axis] = {});
      scale.ticks = Object.assign({}, scale.ticks, { callback: function (value) { return format(Number(value)); } });
    });
    options.animation = false;
    options.responsive = true;
    options.maintainAspectRatio = false;
    options.plugins = Object.assign({ legend: { position: 'bottom' } }, options.plugins, {
      tooltip: {
        callbacks: {
          label: function (item) {
            var format = formatter(spec.formats[item.dataset.yAxisID || 'y']);
            var raw = item.raw;
            if (raw === null || raw === undefined) return item.dataset.label + ': no data';
            var text = Array.isArray(raw) ? format(raw[0]) + ' to ' + format(raw[1]) : format(raw);
            return item.dataset.label + ': ' + text;
          }
        }
      }
    });
    return spec.config;
  }

  try {
    if (typeof Chart === 'undefined') throw new Error('Chart.js did not load');
    var specs = JSON.parse(document.getElementById('report-charts').textContent);
    var drawn = 0;
    specs.forEach(function (spec) {
      var canvas = document.getElementById(spec.id);
      if (!canvas) return;
      new Chart(canvas, prepare(spec));
      drawn += 1;
    });
    document.body.dataset.chartsReady = String(drawn);
  } catch (error) {
    document.body.dataset.chartsError = String(error && error.message || error);
    throw error;
  }
})();
`;
