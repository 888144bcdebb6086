// Sandbox cost: events/s through a two-field analyzer inside its isolate vs the same function called
// directly in the host, both starting from the same columnar batches as the transport hands them
// over (the isolate gets a copy of the columns; both sides read the events through views); then
// the DGA analyzer's DNS events/s, on names that are all distinct (every one scored: the worst
// case) and on the DNS events of the generated capture (repeats, as on a real network).
// `node --no-node-snapshot dist/bench/analyzer-sandbox.js [--batch 8192]`
import path from 'node:path';
import { BUILTIN_DIR, compileAnalyzer } from '../analyzers/runtime/index.js';
import { AnalyzerIsolate } from '../analyzers/runtime/isolate.js';
import { readFileSync } from 'node:fs';
import { flowEvent, dnsEvent, writeFixtures } from '../test/analyzers/fixtures.js';
import { tempDir } from '../test/helpers.js';
import { EventBatch } from '../streams/events/batch.js';
import { viewClass } from '../streams/events/views.js';
import { FileSource } from '../sensor/src/file-source.js';
import { options } from '../test/sensor/helpers.js';
import { arg, benchCapture, machineLine } from './harness.js';

const BATCH = Number(arg('batch', '8192'));
const BATCHES = Number(arg('batches', String(Math.max(4, Math.round((200 * 1024) / BATCH)))));

const TRIVIAL_BATCH = `import type { Batch, Ctx, FlowEvent } from 'damselfly/sdk';
let n = 0;
export function flowBatch(b: Batch<FlowEvent>, ctx: Ctx) {
  const s = b.column<Float64Array>('sbytes');
  const d = b.column<Float64Array>('dbytes');
  for (let i = 0; i < b.length; i++) {
    n++;
    if (s[i]! + d[i]! > 1e12) ctx.alert({ score: 1, reason: 'huge', row: i });
  }
}
`;

const TRIVIAL = `import type { Ctx, FlowEvent } from 'damselfly/sdk';
let n = 0;
export function flow(e: FlowEvent, ctx: Ctx) {
  n++;
  if (e.sbytes + e.dbytes > 1e12) ctx.alert({ score: 1, reason: 'huge' });
}
`;

async function main(): Promise<void> {
  const { dir, cleanup } = tempDir('damselfly-bench-');
  try {
    writeFixtures(dir, { 'trivial.ts': TRIVIAL, 'trivialbatch.ts': TRIVIAL_BATCH });
    const batches = Array.from({ length: BATCHES }, (_, b) => EventBatch.fromRows('flow', Array.from({ length: BATCH }, (_, i) => flowEvent(b * BATCH + i))));
    const total = BATCH * BATCHES;
    const c = await compileAnalyzer('trivial', path.join(dir, 'trivial.ts'), [dir]);
    const iso = await AnalyzerIsolate.create(c.code, { memoryMb: 128, wallMs: 10000, readOwn: () => '' });
    await iso.setup('trivial', {}, 1000, 0, 10000);
    for (let i = 0; i < 4; i++) await iso.batch('flow', EventBatch.fromRows('flow', batches[i]!.rows()), 10000); // warm up (other batch objects: no cached copy)
    let t0 = performance.now();
    for (const b of batches) await iso.batch('flow', b, 10000);
    const sandboxMs = performance.now() - t0;
    iso.dispose();

    // The same two fields through a batch hook (columns read as typed arrays).
    const cb = await compileAnalyzer('trivialbatch', path.join(dir, 'trivialbatch.ts'), [dir]);
    const isoB = await AnalyzerIsolate.create(cb.code, { memoryMb: 128, wallMs: 10000, readOwn: () => '' });
    await isoB.setup('trivialbatch', {}, 1000, 0, 10000);
    for (let i = 0; i < 4; i++) await isoB.batch('flow', EventBatch.fromRows('flow', batches[i]!.rows()), 10000);
    t0 = performance.now();
    for (const b of batches) await isoB.batch('flow', b, 10000);
    const batchHookMs = performance.now() - t0;
    isoB.dispose();

    // Direct: same views, same hook body, same per-event bookkeeping as the in-isolate driver.
    let n = 0;
    const alerts: unknown[] = [];
    const ctx = { alert: (a: unknown) => alerts.push(a) };
    const fn = (e: { sbytes: number; dbytes: number }, cx: typeof ctx) => {
      n++;
      if (e.sbytes + e.dbytes > 1e12) cx.alert({ score: 1, reason: 'huge' });
    };
    const direct = (b: EventBatch) => {
      const View = viewClass(b.type);
      const ts = b.cols.ts as Float64Array;
      let ok = 0;
      let clock = 0;
      for (let i = 0; i < b.length; i++) {
        const e = new View(b, i) as unknown as { sbytes: number; dbytes: number };
        if (ts[i]! / 1000 > clock) clock = ts[i]! / 1000;
        try {
          fn(e, ctx);
          ok++;
        } catch {
          /* counted as error */
        }
      }
      return JSON.stringify({ n: b.length, ok, alerts });
    };
    for (let i = 0; i < 4; i++) direct(batches[i]!);
    t0 = performance.now();
    for (const b of batches) direct(b);
    const directMs = performance.now() - t0;

    // DGA: the built-in analyzer with its shipped model on DNS batches (names mostly distinct).
    const dgaDir = path.join(BUILTIN_DIR, 'dga');
    const dc = await compileAnalyzer('dga', path.join(dgaDir, 'dga.ts'), [dgaDir]);
    const diso = await AnalyzerIsolate.create(dc.code, { memoryMb: 128, wallMs: 30000, readOwn: (f) => readFileSync(path.join(dgaDir, f), 'utf8') });
    const desc = await diso.describe(30000);
    await diso.setup('dga', desc.config, 1000, 0, 30000);
    const words = ['mail', 'cdn', 'api', 'shop', 'news', 'static', 'login', 'img'];
    const DN = Math.max(2, Math.round((50 * 1024) / BATCH));
    const dnsBatches = Array.from({ length: DN }, (_, b) =>
      EventBatch.fromRows('dns', Array.from({ length: BATCH }, (_, i) => {
        const k = b * BATCH + i;
        const name = k % 4 === 0 ? `${Math.random().toString(36).slice(2, 14)}.com` : `${words[k % 8]}${k}.example${k % 97}.org`;
        return dnsEvent(k, name);
      })),
    );
    let cpu = 0;
    t0 = performance.now();
    for (const b of dnsBatches) cpu += (await diso.batch('dns', b, 30000)).cpuMs;
    const dgaMs = performance.now() - t0;
    // The DNS events of the generated 1M-packet capture, as the sensor emits them.
    const real: EventBatch[] = [];
    await new FileSource(options(), [await benchCapture(1_000_000)], async (b) => {
      if (b.type === 'dns') real.push(b);
    }).run();
    const realN = real.reduce((a, b) => a + b.length, 0);
    let realCpu = 0;
    t0 = performance.now();
    for (const b of real) realCpu += (await diso.batch('dns', b, 30000)).cpuMs;
    const realMs = performance.now() - t0;
    // Again: on a network the same names come back, and the analyzer's score cache answers them.
    let warmCpu = 0;
    t0 = performance.now();
    for (const b of real) warmCpu += (await diso.batch('dns', b, 30000)).cpuMs;
    const warmMs = performance.now() - t0;
    diso.dispose();

    const rate = (ev: number, ms: number) => Math.round(ev / (ms / 1000)).toLocaleString('en');
    console.log(`machine: ${machineLine()}`);
    console.log(`analyzer sandbox bench (${BATCHES} batches x ${BATCH} flow events)`);
    console.log(`sandbox (isolated-vm) : ${rate(total, sandboxMs)} events/s (${sandboxMs.toFixed(0)} ms)`);
    console.log(`direct (host)         : ${rate(total, directMs)} events/s (${directMs.toFixed(0)} ms)`);
    console.log(`sandbox / direct time : ${(sandboxMs / directMs).toFixed(2)}x`);
    console.log(`sandbox, batch hook   : ${rate(total, batchHookMs)} events/s (${batchHookMs.toFixed(0)} ms; the same two fields read as columns)`);
    console.log(`dga (sandbox, dns, all names distinct)  : ${rate(DN * BATCH, dgaMs)} events/s wall, ${rate(DN * BATCH, cpu)} events/s per core (isolate CPU)`);
    console.log(`dga (sandbox, dns of the 1M capture)    : ${rate(realN, realMs)} events/s wall, ${rate(realN, realCpu)} events/s per core (${realN} events, first pass)`);
    console.log(`dga (sandbox, the same, again)          : ${rate(realN, warmMs)} events/s wall, ${rate(realN, warmCpu)} events/s per core (names seen before: score cache)`);
  } finally {
    cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
