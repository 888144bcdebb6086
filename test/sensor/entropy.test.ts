// Payload entropy (sentropy/dentropy, 0-255 = Shannon bits/byte × 255/8) against values computed
// by hand, and the flow.max_payload bound on the bytes it looks at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { udpFrame, writePcap, runFiles, options, type Frame } from './helpers.js';

function shannon255(bytes: Buffer): number {
  const counts = new Array<number>(256).fill(0);
  for (const b of bytes) counts[b]!++;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / bytes.length) * Math.log2(c / bytes.length);
  return Math.round((h * 255) / 8);
}

test('entropy of known payloads, per direction, over the first max_payload bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfly-entropy-'));
  try {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i)); // 8 bits/byte → 255
    const two = Buffer.concat([Buffer.alloc(100, 0x61), Buffer.alloc(100, 0x62)]); // 1 bit → 32
    const four = Buffer.from('abcd'.repeat(50)); // 2 bits → 64
    const skewed = Buffer.concat([Buffer.alloc(300, 0), Buffer.from('xyz')]); // mostly zeros, 3 rare
    const frames: Frame[] = [
      { ts: 1_000_000, data: udpFrame('10.0.0.1', '10.0.0.2', 1000, 53, all) },
      { ts: 1_000_100, data: udpFrame('10.0.0.2', '10.0.0.1', 53, 1000, two) },
      { ts: 1_000_200, data: udpFrame('10.0.0.1', '10.0.0.3', 1001, 53, four) },
      { ts: 1_000_300, data: udpFrame('10.0.0.1', '10.0.0.4', 1002, 53, skewed) },
      // Two packets, 600 payload bytes: only the first 500 (max_payload) count.
      { ts: 1_000_400, data: udpFrame('10.0.0.1', '10.0.0.5', 1003, 53, Buffer.alloc(300, 7)) },
      { ts: 1_000_500, data: udpFrame('10.0.0.1', '10.0.0.5', 1003, 53, Buffer.concat([Buffer.alloc(200, 7), all.subarray(0, 100)])) },
    ];
    const pcap = join(dir, 'e.pcap');
    writePcap(pcap, frames);
    const { flows } = await runFiles([pcap], options({ maxPayload: 500 }));
    const by = (daddr: string) => flows.find((f) => f.daddr === daddr)!;
    assert.equal(by('10.0.0.2').sentropy, 255);
    assert.equal(by('10.0.0.2').dentropy, 32);
    assert.equal(by('10.0.0.3').sentropy, 64);
    assert.equal(by('10.0.0.4').sentropy, shannon255(skewed));
    assert.equal(by('10.0.0.5').sentropy, 0, 'the 100 varied bytes lie past max_payload');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
