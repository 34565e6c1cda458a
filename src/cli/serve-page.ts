/**
 * The page `kiln serve` shows: loads the artifact with the browser runtime, runs its
 * entry function on the server's inputs (on WebGPU for a WebGPU artifact, else on the
 * CPU), and shows the outputs, the per-call time, the per-kernel times and the
 * allocations the program makes; it runs again whenever a rebuild finishes.
 * What it shows is also `window.kilnResult` (for tests and scripts), with the
 * `kiln:result` event and `data-kiln-version` on <html> when a run is done.
 */

export function servePage(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)} · kiln serve</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
  h1 { font-size: 1.2rem; margin: 0 0 .5rem; }
  h2 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
  #status { padding: .4rem .6rem; border-radius: 4px; background: #eef; white-space: pre-wrap; font-family: ui-monospace, monospace; }
  #status.error { background: #fdd; }
  #status.ok { background: #dfd; }
  table { border-collapse: collapse; }
  td, th { padding: .15rem .6rem; text-align: left; border-bottom: 1px solid #ddd; font-family: ui-monospace, monospace; font-size: 13px; }
  th { font-family: system-ui, sans-serif; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<div id="status">loading…</div>
<h2>Run</h2><table id="run"></table>
<h2>Outputs</h2><table id="outputs"></table>
<h2>Kernels (one profiled call)</h2><table id="kernels"></table>
<h2>Memory</h2><div id="memory"></div>
<script type="module">
import * as kiln from '/_kiln/runtime.mjs';

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
const REPEAT = Number(query.get('repeat') ?? 5);
const fmt = (ms) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0)) + ' ms';
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const rows = (table, head, body) => {
  $(table).innerHTML = '<tr>' + head.map((h) => '<th>' + esc(h) + '</th>').join('') + '</tr>' +
    body.map((r) => '<tr>' + r.map((c) => '<td>' + esc(c) + '</td>').join('') + '</tr>').join('');
};
const status = (kind, text) => { $('status').className = kind; $('status').textContent = text; };
const flatten = (v) => (Array.isArray(v) ? v.flatMap(flatten) : [v]);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function publish(result) {
  window.kilnResult = result;
  document.documentElement.dataset.kilnVersion = String(result.version);
  window.dispatchEvent(new CustomEvent('kiln:result', { detail: result }));
}

function webgpuOptions() {
  const o = {};
  if (query.get('featureLevel')) o.featureLevel = query.get('featureLevel');
  if (query.get('powerPreference')) o.powerPreference = query.get('powerPreference');
  return o;
}

let current = 0;
async function runOnce() {
  const state = await (await fetch('/_kiln/state', { cache: 'no-store' })).json();
  current = state.version;
  if (!state.artifact) {
    status('error', state.error ?? 'no artifact yet');
    publish({ version: state.version, ok: false, error: state.error ?? 'no artifact' });
    return;
  }
  const a = state.artifact;
  const device = query.get('device') ?? (a.device === 'webgpu' ? 'webgpu' : 'cpu');
  status('', 'loading ' + a.name + ' (version ' + state.version + ') on ' + device + '…');
  const t0 = performance.now();
  const module = await kiln.loadFromUrl(a.url, {
    device,
    ...(device === 'webgpu' ? { webgpu: webgpuOptions() } : {}),
    onProgress: (done, total) => status('', 'loading ' + a.name + ' on ' + device + ': ' + done + ' of ' + total + ' kernels compiled'),
  });
  const loadMs = performance.now() - t0;
  const inputs = await Promise.all(
    a.inputs.map(async (url) => kiln.readNpy(new Uint8Array(await (await fetch(url)).arrayBuffer()), url)),
  );
  const read = async (v) => Promise.all(flatten(v).map((t) => (t instanceof kiln.NDArray ? t.toCpu() : t)));
  let outputs = await read(await module.call(a.entry, ...inputs));
  const times = [];
  for (let i = 0; i < REPEAT; i++) {
    const t = performance.now();
    outputs = await read(await module.call(a.entry, ...inputs));
    times.push(performance.now() - t);
  }
  const profiled = await module.profile(a.entry, ...inputs);
  const program = await (await fetch(a.url + module.manifest.program)).json();
  const allocs = Object.entries(program.functions).flatMap(([fn, f]) =>
    f.code.filter((i) => i.op === 'alloc').map((i) => ({ fn, dtype: i.dtype, shape: i.shape })),
  );
  const result = {
    version: state.version,
    ok: true,
    error: state.error,
    pipeline: state.pipeline,
    device: module.device.name,
    deviceKind: module.device.kind,
    adapter: module.device.adapterReport ?? null,
    entry: a.entry,
    loadMs,
    callMs: median(times),
    callTimes: times,
    kernels: profiled.kernels,
    allocations: allocs.length,
    outputs: outputs.map((t, i) =>
      t instanceof kiln.NDArray
        ? { name: module.manifest.entries[a.entry].outputs?.[i] ?? 'output ' + i, shape: t.shape, dtype: t.dtype, data: t.toNumbers() }
        : { name: 'output ' + i, value: String(t) },
    ),
  };
  status(state.error ? 'error' : 'ok', (state.error ? 'the last rebuild failed; showing the last good artifact\\n' + state.error + '\\n' : '') +
    a.name + ' version ' + state.version + ': ' + result.device + ', ' + fmt(result.callMs) + ' per call');
  rows('run', ['', ''], [
    ['device', result.device],
    ...(result.adapter ? [['adapter', JSON.stringify(result.adapter)]] : []),
    ['load', fmt(loadMs)],
    ['call (median of ' + REPEAT + ', outputs read back)', fmt(result.callMs)],
    ['calls', times.map(fmt).join(', ')],
  ]);
  rows('outputs', ['name', 'shape', 'dtype', 'first values'], result.outputs.map((o) =>
    o.data ? [o.name, '[' + o.shape.join(', ') + ']', o.dtype, o.data.slice(0, 8).map((x) => x.toPrecision(5)).join(', ') + (o.data.length > 8 ? ', …' : '')] : [o.name, '', '', o.value]));
  rows('kernels', ['kernel', 'launches', 'time'], profiled.kernels.map((k) => [k.kernel, k.launches, fmt(k.ms)]));
  $('memory').innerHTML = '<p>' + allocs.length + ' allocation' + (allocs.length === 1 ? '' : 's') + ' per call' +
    ' (the VM allocates each as the program runs; a plan-memory stage would give them fixed storage)</p>' +
    '<table>' + allocs.map((x) => '<tr><td>' + esc(x.fn) + '</td><td>' + esc(x.dtype) + '</td><td>' + esc(JSON.stringify(x.shape)) + '</td></tr>').join('') + '</table>';
  publish(result);
}

let queue = Promise.resolve();
const run = () => {
  queue = queue.then(runOnce).catch((e) => {
    status('error', String(e && e.stack ? e.message : e));
    publish({ version: current, ok: false, error: String(e && e.message ? e.message : e) });
  });
};
run();
const events = new EventSource('/_kiln/events');
events.addEventListener('rebuilt', run);
events.addEventListener('failed', run);
</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
