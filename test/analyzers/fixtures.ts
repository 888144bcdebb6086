// Synthetic events and analyzer-fixture helpers for the analyzer tests. Fixture analyzers are
// written to a temp folder at test time (they import 'damselfly/sdk', which only the sandbox
// bundler resolves, so they are not part of the project's tsc build).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DnsEvent, FlowEvent, TlsEvent } from '../../streams/schema.js';
import { EventBatch } from '../../streams/events/batch.js';
import { typeOfTopic } from '../../streams/events/table.js';
import type { Transport } from '../../streams/transport.js';

export function flowEvent(i: number, over: Partial<FlowEvent> = {}): FlowEvent {
  return {
    type: 'flow', v: 1, obname: 'test', ts: 1_700_000_000_000_000 + i * 1000, kind: 'end', seq: i,
    version: 1, flowid: `flow-${i}`, stime: 0, etime: 0, dur: 1, rtt: 0, pcr: 0, proto: 'TCP',
    saddr: `10.0.${(i >> 8) & 255}.${i & 255}`, daddr: '192.0.2.1', sport: 40000 + (i % 20000), dport: 443,
    iflags: 'S', uflags: 'SAF', stcpseq: 0, dtcpseq: 0, svlan: 0, dvlan: 0, spkts: 3, dpkts: 2, sbytes: 300, dbytes: 200,
    sentropy: 0, dentropy: 0, ssmallpktcnt: 0, dsmallpktcnt: 0, slargepktcnt: 0, dlargepktcnt: 0, snonemptypktcnt: 0,
    dnonemptypktcnt: 0, sfirstnonemptycnt: 0, dfirstnonemptycnt: 0, smaxpktsize: 0, dmaxpktsize: 0, savgpayload: 0,
    davgpayload: 0, sstdevpayload: 0, dstdevpayload: 0, spd: '', spdt: '', reason: 'end', smac: '', dmac: '',
    community_id: `1:cid${i}`,
    ...over,
  };
}

export function dnsEvent(i: number, query: string, over: Partial<DnsEvent> = {}): DnsEvent {
  return {
    type: 'dns', v: 1, obname: 'test', ts: 1_700_000_000_000_000 + i * 1000, flowid: `dns-${i}`, community_id: `1:d${i}`,
    saddr: '10.1.0.5', daddr: '10.1.0.1', sport: 50000 + (i % 10000), dport: 53, query, qtype: 'A', rcode: 'NOERROR', answers: [],
    ...over,
  };
}

export function tlsEvent(i: number, sni: string, over: Partial<TlsEvent> = {}): TlsEvent {
  return {
    type: 'tls', v: 1, obname: 'test', ts: 1_700_000_000_000_000 + i * 1000, flowid: `tls-${i}`, community_id: `1:t${i}`,
    saddr: '10.1.0.5', daddr: '203.0.113.9', sport: 50000 + (i % 10000), dport: 443, sni, alpn: 'h2', tls_version: 'TLSv1.3',
    cipher: 'TLS_AES_128_GCM_SHA256', ja3: '', ja3s: '', ja4: '',
    ...over,
  };
}

/** Write `files` (relative path → source) under `dir`. */
export function writeFixtures(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
}

/** A well-behaved analyzer: one alert per flow event, keyed by flow id. */
export const GOOD_ANALYZER = `
import type { Ctx, FlowEvent } from 'damselfly/sdk';
export function flow(e: FlowEvent, ctx: Ctx) {
  ctx.state.incr('n');
  ctx.alert({ score: 0.1, reason: 'seen', key: e.flowid, factors: { seq: e.seq } });
}
`;

/** Publishes plain event objects as one batch of the topic's event type. */
export function publishRows(transport: Transport, topic: string, rows: readonly object[]): Promise<void> {
  const type = typeOfTopic(topic);
  if (!type) throw new Error(`no event type for topic ${topic}`);
  return transport.publish(topic, EventBatch.fromRows(type, rows));
}
