// Synthetic events for the Kafka tests: every event type, flow updates with increasing seq, as
// rows and as EventBatches (what the Kafka transport carries).
import { EventBatch } from '../../streams/events/batch.js';
import { EVENT_SCHEMA_VERSION, type FlowEvent } from '../../streams/schema.js';

export function flowEvent(flowid: string, seq: number, obname = 'test-sensor'): FlowEvent {
  const ts = 1_700_000_000_000_000 + seq * 1000;
  return {
    type: 'flow', v: EVENT_SCHEMA_VERSION, obname, ts, kind: seq === 0 ? 'start' : 'update', seq,
    version: 1, flowid, stime: 1_700_000_000_000_000, etime: ts, dur: seq, rtt: 100, pcr: 0, proto: 'TCP',
    saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 40000, dport: 443, iflags: 'S', uflags: 'SA', stcpseq: 1,
    dtcpseq: 2, svlan: 0, dvlan: 0, spkts: seq + 1, dpkts: seq, sbytes: 60 * (seq + 1), dbytes: 60 * seq,
    sentropy: 0, dentropy: 0, ssmallpktcnt: 0, dsmallpktcnt: 0, slargepktcnt: 0, dlargepktcnt: 0,
    snonemptypktcnt: 0, dnonemptypktcnt: 0, sfirstnonemptycnt: 0, dfirstnonemptycnt: 0, smaxpktsize: 60,
    dmaxpktsize: 60, savgpayload: 0, davgpayload: 0, sstdevpayload: 0, dstdevpayload: 0, spd: '', spdt: '',
    reason: '', smac: '00:00:00:00:00:01', dmac: '00:00:00:00:00:02', community_id: '1:abc=',
  };
}

/** `flows` flows × `updates` updates, interleaved across flows (as a sensor emits them). */
export function flowStream(flows: number, updates: number, obname = 'test-sensor', withEnd = false): FlowEvent[] {
  const out: FlowEvent[] = [];
  for (let s = 0; s < updates; s++) {
    for (let f = 0; f < flows; f++) {
      const e = flowEvent(`flow-${obname}-${f}`, s, obname);
      if (withEnd && s === updates - 1) {
        e.kind = 'end';
        e.reason = 'eof';
      }
      out.push(e);
    }
  }
  return out;
}

/** flowStream() as one EventBatch of flows. */
export function flowBatch(flows: number, updates: number, obname = 'test-sensor', withEnd = false): EventBatch<'flow'> {
  return EventBatch.fromRows('flow', flowStream(flows, updates, obname, withEnd));
}

/** One event of each non-flow type, shaped as ARCHITECTURE.md describes them. */
export function otherEvents(obname = 'test-sensor'): Record<string, Record<string, unknown>> {
  const base = { v: EVENT_SCHEMA_VERSION, obname, ts: 1_700_000_000_000_000 };
  const addr = { saddr: '10.0.0.1', daddr: '10.0.0.53', sport: 5353, dport: 53 };
  return {
    dns: { type: 'dns', ...base, flowid: 'f-dns', ...addr, query: 'example.com', qtype: 'A', rcode: 0, answers: [{ name: 'example.com', type: 'A', ttl: 60, data: '93.184.216.34' }] },
    tls: { type: 'tls', ...base, flowid: 'f-tls', ...addr, sni: 'example.com', alpn: 'h2', version: 'TLS1.3', cipher: 'TLS_AES_128_GCM_SHA256', ja3: 'a', ja3s: 'b', ja4: 't13d1516h2_8daaf6152771_e5627efa2ab1' },
    http: { type: 'http', ...base, flowid: 'f-http', ...addr, method: 'GET', host: 'example.com', uri: '/', user_agent: 'curl/8', status: 200 },
    alert: { type: 'alert', ...base, id: 'a-1', analyzer: 'dga', score: 0.97, severity: 'HIGH', reason: 'dga', factors: { entropy: 4.1 }, flowid: 'f-dns', community_id: '1:x=', ...addr },
    trigger: { type: 'trigger', ...base, action: 'add', hosts: ['10.0.0.9'], ttl_s: 300, reason: 'alert', alert_id: 'a-1' },
    stats: { type: 'stats', ...base, component: 'sensor', counters: { packets: 10 } },
  };
}
