// Sandbox cost: events/s through a trivial analyzer inside its isolate vs the same function called
// directly in the host, both starting from the same serialized batches as the transport hands
// them over (JSON decoding included on both sides); then the DGA analyzer's events/s.
// `node --no-node-snapshot dist/bench/analyzer-sandbox.js`
import path from 'node:path';
import { BUILTIN_DIR, compileAnalyzer } from '../analyzers/runtime/index.js';
import { AnalyzerIsolate } from '../analyzers/runtime/isolate.js';
import { readFileSync } from 'node:fs';
import { flowEvent, dnsEvent, writeFixtures } from '../test/analyzers/fixtures.js';
import { tempDir } from '../test/helpers.js';

const BATCH = 1024;
const BATCHES = 200;

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
    writeFixtures(dir, { 'trivial.ts': TRIVIAL });
    const batches = Array.from({ length: BATCHES }, (_, b) => JSON.stringify(Array.from({ length: BATCH }, (_, i) => flowEvent(b * BATCH + i))));
    const total = BATCH * BATCHES;
    const c = await compileAnalyzer('trivial', path.join(dir, 'trivial.ts'), [dir]);
    const iso = await AnalyzerIsolate.create(c.code, { memoryMb: 128, wallMs: 10000, readOwn: () => '' });
    await iso.setup('trivial', {}, 1000, 0, 10000);
    for (let i = 0; i < 20; i++) await iso.batch('flow', batches[i]!, 10000); // warm up
    let t0 = performance.now();
    for (const b of batches) await iso.batch('flow', b, 10000);
    const sandboxMs = performance.now() - t0;
    iso.dispose();

    // Direct: same decode, same hook body, same per-event bookkeeping as the in-isolate driver.
    let n = 0;
    const alerts: unknown[] = [];
    const ctx = { alert: (a: unknown) => alerts.push(a) };
    const fn = (e: { sbytes: number; dbytes: number }, cx: typeof ctx) => {
      n++;
      if (e.sbytes + e.dbytes > 1e12) cx.alert({ score: 1, reason: 'huge' });
    };
    const direct = (json: string) => {
      const evs = JSON.parse(json) as { sbytes: number; dbytes: number; ts: number }[];
      let ok = 0;
      let clock = 0;
      for (const e of evs) {
        if (e.ts / 1000 > clock) clock = e.ts / 1000;
        try {
          fn(e, ctx);
          ok++;
        } catch {
          /* counted as error */
        }
      }
      return JSON.stringify({ n: evs.length, ok, alerts });
    };
    for (let i = 0; i < 20; i++) direct(batches[i]!);
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
    const DN = 50;
    const dnsBatches = Array.from({ length: DN }, (_, b) =>
      JSON.stringify(Array.from({ length: BATCH }, (_, i) => {
        const k = b * BATCH + i;
        const name = k % 4 === 0 ? `${Math.random().toString(36).slice(2, 14)}.com` : `${words[k % 8]}${k}.example${k % 97}.org`;
        return dnsEvent(k, name);
      })),
    );
    let cpu = 0;
    t0 = performance.now();
    for (const b of dnsBatches) cpu += (await diso.batch('dns', b, 30000)).cpuMs;
    const dgaMs = performance.now() - t0;
    diso.dispose();

    const rate = (ev: number, ms: number) => Math.round(ev / (ms / 1000)).toLocaleString('en');
    console.log(`analyzer sandbox bench (${BATCHES} batches x ${BATCH} flow events, node ${process.version})`);
    console.log(`sandbox (isolated-vm) : ${rate(total, sandboxMs)} events/s (${sandboxMs.toFixed(0)} ms)`);
    console.log(`direct (host)         : ${rate(total, directMs)} events/s (${directMs.toFixed(0)} ms)`);
    console.log(`sandbox / direct time : ${(sandboxMs / directMs).toFixed(2)}x`);
    console.log(`dga (sandbox, dns)    : ${rate(DN * BATCH, dgaMs)} events/s wall, ${rate(DN * BATCH, cpu)} events/s per core (isolate CPU)`);
  } finally {
    cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
