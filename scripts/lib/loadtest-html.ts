import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { RunSummary } from './loadtest-summary.js';
import type { Quantiles } from './loadtest-timeline.js';

const require = createRequire(import.meta.url);

/** uPlot's script and style, read from node_modules to be inlined (the report works offline). */
export function uplotAssets(): { js: string; css: string } {
  const dist = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  return {
    js: readFileSync(path.join(dist, 'uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(path.join(dist, 'uPlot.min.css'), 'utf8'),
  };
}

/** JSON that can sit inside a <script> element: no `</script>` or `<!--` can close it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Draws the charts from the embedded summaries; runs in the browser, with uPlot already loaded. */
const DRAW = `
(function () {
  var runs = JSON.parse(document.getElementById('summary').textContent);
  var width = Math.min(1100, document.body.clientWidth - 40);
  var colours = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
  function pick(list, f) { return list.map(function (x) { var v = f(x); return v === undefined ? null : v; }); }
  function chart(el, title, unit, xs, series) {
    var opts = {
      title: title, width: width, height: 260,
      scales: { x: { time: false } },
      axes: [{ label: 's' }, { label: unit }],
      series: [{ label: 't (s)' }].concat(series.map(function (s, i) {
        return { label: s.label, stroke: colours[i % colours.length], width: 1.5, spanGaps: false };
      })),
    };
    var div = document.createElement('div');
    el.appendChild(div);
    new uPlot(opts, [xs].concat(series.map(function (s) { return s.data; })), div);
  }
  runs.forEach(function (run, k) {
    var el = document.getElementById('run-' + k);
    var sec = run.perSecond;
    var t = pick(sec, function (s) { return s.t; });
    chart(el, 'Check-ins per second: achieved vs offered', 'per s', t, [
      { label: run.mode === 'open' ? 'offered' : 'sent', data: pick(sec, function (s) { return run.mode === 'open' ? s.offered : s.sent; }) },
      { label: 'achieved (acked)', data: pick(sec, function (s) { return s.acked; }) },
      { label: 'errors', data: pick(sec, function (s) { return Object.values(s.errors).reduce(function (a, b) { return a + b; }, 0); }) },
    ]);
    chart(el, 'Acknowledgement latency', 'ms', t, ['p50', 'p95', 'p99', 'max'].map(function (q) {
      return { label: 'ack ' + q, data: pick(sec, function (s) { return s.ack[q]; }) };
    }));
    chart(el, 'Roster latency (submit to every screen of the room)', 'ms', t, ['p50', 'p95', 'p99', 'max'].map(function (q) {
      return { label: 'roster ' + q, data: pick(sec, function (s) { return s.roster[q]; }) };
    }));
    var nodes = run.perNode.filter(function (n) { return n.samples.length > 0; });
    if (nodes.length > 0) {
      var nt = pick(nodes[0].samples, function (s) { return s.t; });
      var at = function (n, f) { return nt.map(function (x, i) { var s = n.samples[i]; return s ? f(s) : null; }); };
      chart(el, 'CPU per node (100 = one core)', '%', nt, nodes.map(function (n) { return { label: n.name, data: at(n, function (s) { return s.cpuPct; }) }; })
        .concat([{ label: 'load generator', data: pick(run.generator.slice(0, nt.length), function (s) { return s.cpuPct; }) }]));
      chart(el, 'RSS per node', 'MB', nt, nodes.map(function (n) { return { label: n.name, data: at(n, function (s) { return s.rssMB; }) }; }));
      chart(el, 'Event-loop lag', 'ms', nt, nodes.map(function (n) { return { label: n.name + ' p99', data: at(n, function (s) { return s.lagP99Ms; }) }; })
        .concat([{ label: 'load generator p99', data: pick(run.generator.slice(0, nt.length), function (s) { return s.lagP99Ms; }) }]));
    }
  });
})();
`;

function totalsTable(run: RunSummary): string {
  const q = (x: Quantiles) =>
    `p50 ${x.p50 ?? 'n/a'} ms, p95 ${x.p95 ?? 'n/a'} ms, p99 ${x.p99 ?? 'n/a'} ms, max ${x.max ?? 'n/a'} ms (${x.n})`;
  const rows: [string, string][] = [
    [
      'mode',
      run.mode === 'open' ? `open loop, ${run.rate}/s offered (at most ${run.window} in flight)` : `closed loop, ${run.window} in flight`,
    ],
    ['nodes', String(run.nodes)],
    ['sockets', `${run.sockets.connected}/${run.sockets.total} (connect errors ${run.sockets.connectErrors})`],
    [
      'check-ins',
      `${run.totals.sent} sent of ${run.totals.offered} offered, ${run.totals.acked} acked in ${run.totals.elapsedS} s = ${run.totals.achievedPerS}/s`,
    ],
    ['ack latency', q(run.totals.ack)],
    [
      'roster latency from submit',
      `${q(run.totals.roster)}; ${run.totals.rosterIncomplete} incomplete; ${run.totals.rosterMessages} roster:updates messages`,
    ],
    ['roster latency from ack (stored)', q(run.totals.rosterFromAck)],
    [
      'roster messages per screen',
      `${run.totals.rosterMessageRate.meanPerActiveSecond ?? 'n/a'} per active second, at most ${run.totals.rosterMessageRate.maxPerSecond} in one second`,
    ],
    ['BUSY', String(run.totals.busy)],
    [
      'errors',
      Object.keys(run.totals.errors).length === 0
        ? 'none'
        : Object.entries(run.totals.errors)
            .map(([c, n]) => `${c} ${n}`)
            .join(', '),
    ],
  ];
  return `<table>${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}

/** A self-contained page: uPlot and the data inlined, nothing fetched when it is opened. */
export function renderHtml(runs: RunSummary[], text: string, assets = uplotAssets()): string {
  const sections = runs.map((run, k) => `<section id="run-${k}"><h2>${escapeHtml(run.label)}</h2>${totalsTable(run)}</section>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Load test report</title>
<style>${assets.css}</style>
<style>
body { font: 14px system-ui, sans-serif; margin: 20px; color: #222; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { text-align: left; padding: 2px 12px 2px 0; vertical-align: top; }
pre { background: #f4f4f4; padding: 10px; overflow-x: auto; }
section { margin-bottom: 32px; }
</style>
</head>
<body>
<h1>Load test report</h1>
${sections}
<h2>Text report</h2>
<pre>${escapeHtml(text)}</pre>
<script id="summary" type="application/json">${scriptJson(runs)}</script>
<script>${assets.js.replace(/<\/script/gi, '<\\/script')}</script>
<script>${DRAW}</script>
</body>
</html>
`;
}
