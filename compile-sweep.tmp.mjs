import { readFileSync } from 'node:fs';
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
const device = await adapter.requestDevice({ requiredFeatures: ['shader-f16'] });
const sources = JSON.parse(readFileSync('/tmp/wg/sources.json', 'utf8'));
let bad = 0;
const t0 = Date.now();
for (const code of sources) {
  device.pushErrorScope('validation');
  const m = device.createShaderModule({ code });
  const info = await m.getCompilationInfo();
  const errs = info.messages.filter((x) => x.type === 'error');
  await device.popErrorScope();
  if (errs.length) { bad++; if (bad < 30) console.log(errs.map((e) => `${e.lineNum}: ${e.message}`).join('\n'), '\n', ""); }
}
console.log('bad', bad, 'of', sources.length, 'in', Date.now() - t0, 'ms');
device.destroy();
