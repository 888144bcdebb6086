// One realistic event of every type (and helpers to make many), shaped as streams/schema.ts says:
// the fixtures of the batch, JSON, Arrow and transport tests.
import { EVENT_SCHEMA_VERSION, type EventType } from '../../../streams/events/table.js';
import type { EventMap, FlowEvent } from '../../../streams/schema.js';

const TS = 1_700_000_000_000_000;

export function flowSample(i: number, over: Partial<FlowEvent> = {}): FlowEvent {
  return {
    type: 'flow', v: EVENT_SCHEMA_VERSION, obname: 'sensor-01', ts: TS + 5000 + i, kind: 'end', seq: 2,
    version: 1, flowid: `6f1c2a3e-0b7d-4c1a-9e2f-${String(i).padStart(12, '0')}`, stime: TS + i, etime: TS + 5000 + i, dur: 5, rtt: 1200, pcr: -37,
    proto: 'TCP', saddr: '10.1.2.3', daddr: '2001:db8::1', sport: 51234 + (i % 1000), dport: 443, iflags: 'S', uflags: 'FSPA',
    stcpseq: 4_000_000_000, dtcpseq: 123, svlan: 10, dvlan: 0, spkts: 12, dpkts: 9, sbytes: 2 ** 40 + i, dbytes: 6543,
    sentropy: 200, dentropy: 180, ssmallpktcnt: 5, dsmallpktcnt: 4, slargepktcnt: 2, dlargepktcnt: 3,
    snonemptypktcnt: 6, dnonemptypktcnt: 5, sfirstnonemptycnt: 517, dfirstnonemptycnt: 1400, smaxpktsize: 1500,
    dmaxpktsize: 1480, savgpayload: 300, davgpayload: 700, sstdevpayload: 12, dstdevpayload: 40, spd: 'SDSD',
    spdt: '0,1,2,3', reason: 'end', smac: '02:00:00:00:00:01', dmac: '02:00:00:00:00:02', community_id: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
    ndpi_ja4: 't13d1516h2_8daaf6152771_e5627efa2ab1', ndpi_ja3s: '15af977ce25de452b96affa2addb1036',
    ...over,
  };
}

/** One event of every type. */
export function samples(): { [T in EventType]: EventMap[T] } {
  const base = { v: EVENT_SCHEMA_VERSION, obname: 'sensor-01', ts: TS };
  const l7 = { flowid: '6f1c2a3e-0b7d-4c1a-9e2f-000000000007', community_id: '1:x9T1f2t3JZk8R3rRj3o2W7bq5yE=', saddr: '10.1.2.3', daddr: '10.1.0.53', sport: 5353, dport: 53 };
  return {
    flow: flowSample(1, { ndpi_appid: 'TLS.YouTube', ndpi_category: 'Media', ndpi_risk_score: 0, ndpi_risk_severity: 0, ndpi_risk_list: '', ndpi_tcp_fp: '2_64_64240_2e3cee914fc1/Linux', ndpi_fp: '0123456789abcdef0123456789abcdef', quic_version: 1, quic_dcid: '8394c8f03e515708', quic_scid: '' }),
    dns: {
      type: 'dns', ...base, ...l7, query: 'www.example.com', qtype: 'A', rcode: 'NOERROR',
      answers: [{ name: 'www.example.com', type: 'CNAME', ttl: 300, data: 'example.com' }, { name: 'example.com', type: 'A', ttl: 60, data: '93.184.216.34' }],
    },
    tls: { type: 'tls', ...base, ...l7, dport: 443, sni: 'example.com', alpn: 'h2,http/1.1', tls_version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', ja3: '771,4865-4866,0-23,29-23,0', ja3s: 'b', ja4: 't13d1516h2_8daaf6152771_e5627efa2ab1' },
    http: { type: 'http', ...base, ...l7, dport: 80, method: 'GET', host: 'example.com', uri: '/index.html?q=1', user_agent: 'curl/8.5.0', status: 200 },
    alert: {
      type: 'alert', ...base, id: 'a0c1e6b2-4d5e-4f60-8a9b-0c1d2e3f4a5b', analyzer: 'dga', score: 0.97, severity: 'CRITICAL', reason: 'DGA-like DNS query x1q2w3e4r5.com',
      factors: { name: 'x1q2w3e4r5.com', features: { entropy: 3.4 }, list: [1, 2] }, key: 'dga|x1q2w3e4r5.com', flowid: l7.flowid, community_id: l7.community_id,
      saddr: '10.1.2.3', daddr: '10.1.0.53', sport: 5353, dport: 53,
    },
    trigger: { type: 'trigger', ...base, action: 'add', hosts: ['10.1.2.3', '2001:db8::7'], ttl_s: 600, reason: 'dga alert', alert_id: 'a0c1e6b2-4d5e-4f60-8a9b-0c1d2e3f4a5b' },
    stats: { type: 'stats', ...base, component: 'analyzer.dga', counters: { events: 10, alerts: 1 }, analyzer: 'dga', state: 'running' } as EventMap['stats'],
    control: { type: 'control', ...base, producer: '0b9e6c1a-3f4d-4e5a-9b8c-7d6e5f4a3b2c', action: 'end', role: 'sensor', topics: ['damselfly.flows', 'damselfly.dns'], events: { 'damselfly.flows': 120, 'damselfly.dns': 7 } },
  };
}
