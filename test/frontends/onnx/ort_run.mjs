// Runs an ONNX decoder in ONNX Runtime (npm onnxruntime-node, CPU) on token ids and writes the
// logits of every position as float32 [tokens, vocab] to a file. A model with past_key_values.*
// inputs runs in chunks, each call feeding the previous call's present.* outputs back; a model
// without runs the whole sequence in one call.
//
//   node ort_run.mjs --ort DIR model.onnx --tokens 1,2,3 [--chunk N] --out logits.bin
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const require = createRequire(path.join(path.resolve(opt('--ort', '.')), 'node_modules', 'x.js'));
const ort = require('onnxruntime-node');
const modelPath = args.find((a, i) => a.endsWith('.onnx') && args[i - 1] !== '--ort');
const tokens = opt('--tokens', '').split(',').map(Number);
const chunk = Number(opt('--chunk', '0')) || tokens.length;

const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
const pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
const meta = {};
for (const m of session.inputMetadata ?? []) meta[m.name] = m;
let past = {};
for (const name of pastNames) {
  const dims = meta[name]?.shape ?? [];
  const heads = dims[1], headDim = dims[3];
  if (typeof heads !== 'number' || typeof headDim !== 'number')
    throw new Error(`${name}: expected static kv heads and head dim, got ${JSON.stringify(dims)}`);
  past[name] = new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]);
}
if (!pastNames.length && chunk !== tokens.length)
  throw new Error('a model without past_key_values runs the whole sequence in one call');

const out = [];
for (let start = 0; start < tokens.length; start += chunk) {
  const ids = tokens.slice(start, start + chunk);
  const total = start + ids.length;
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
  };
  if (session.inputNames.includes('attention_mask'))
    feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]);
  if (session.inputNames.includes('position_ids'))
    feeds.position_ids = new ort.Tensor('int64',
        BigInt64Array.from(ids.map((_, i) => BigInt(start + i))), [1, ids.length]);
  Object.assign(feeds, past);
  const result = await session.run(feeds);
  out.push(Float32Array.from(result.logits.data));
  past = {};
  for (const name of pastNames)
    past[name] = result[name.replace('past_key_values.', 'present.')];
}
const all = new Float32Array(out.reduce((n, a) => n + a.length, 0));
let offset = 0;
for (const a of out) { all.set(a, offset); offset += a.length; }
fs.writeFileSync(opt('--out', 'logits.bin'), Buffer.from(all.buffer));
console.log(`ort: ${tokens.length} tokens in chunks of ${chunk}, ${all.length} logits`);
