// Elastic Common Schema (ECS 8.11) documents of the sensor's events, for SIEMs that ingest ECS
// (`damselfly sensor --format ecs`): `@timestamp`, `event.*`, `source.*` / `destination.*`,
// `network.*` (community_id, transport, bytes, packets), `observer.*`, and `dns.*`, `tls.*`,
// `http.*` / `url.*` / `user_agent.*` for the L7 events. What ECS has no field for stays, under
// its own name, in `damselfly.*` (flow id, record kind and seq, TCP flags, payload features,
// JA4, ...), so nothing of the event is dropped.
import type { EventBatch } from '../../streams/events/batch.js';

export const ECS_VERSION = '8.11.0';

type Row = Record<string, unknown>;

/** Event time (µs since epoch) as an ISO timestamp with microseconds. */
function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const frac = String(Math.round(us - ms * 1000)).padStart(3, '0');
  return new Date(ms).toISOString().replace(/Z$/, `${frac}Z`);
}

/** ECS writes MAC addresses upper case, dash separated. */
function ecsMac(m: unknown): string | undefined {
  return typeof m === 'string' && m !== '' ? m.toUpperCase().replace(/:/g, '-') : undefined;
}

const TRANSPORT: Record<string, string> = { TCP: 'tcp', UDP: 'udp', ICMP: 'icmp', ICMPv6: 'ipv6-icmp', SCTP: 'sctp', GRE: 'gre', ESP: 'esp' };

function transport(proto: unknown): string | undefined {
  return typeof proto === 'string' && proto !== '' ? (TRANSPORT[proto] ?? proto.toLowerCase()) : undefined;
}

function ipType(addr: unknown): string | undefined {
  return typeof addr === 'string' ? (addr.includes(':') ? 'ipv6' : 'ipv4') : undefined;
}

/** Drops undefined values (and objects left empty) so documents carry only what is known. */
function clean(o: Row): Row {
  for (const k of Object.keys(o)) {
    const v = o[k];
    if (v === undefined || v === '') delete o[k];
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      clean(v as Row);
      if (Object.keys(v as Row).length === 0) delete o[k];
    }
  }
  return o;
}

function rest(e: Row, used: readonly string[]): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(e)) if (!used.includes(k)) out[k] = v;
  return out;
}

const ENVELOPE = ['type', 'v', 'obname', 'ts'];
const ENDPOINTS = ['saddr', 'daddr', 'sport', 'dport', 'community_id'];

function base(e: Row, dataset: string): Row {
  return {
    '@timestamp': isoMicros(Number(e.ts)),
    ecs: { version: ECS_VERSION },
    observer: { name: e.obname, product: 'damselfly', vendor: 'damselfly', type: 'sensor' },
    event: { kind: 'event', category: ['network'], dataset, module: 'damselfly' },
    source: { ip: e.saddr, port: e.sport },
    destination: { ip: e.daddr, port: e.dport },
    network: { community_id: e.community_id, type: ipType(e.saddr) },
  };
}

function flowDoc(e: Row): Row {
  const d = base(e, 'damselfly.flow');
  const kind = String(e.kind);
  const ev = d.event as Row;
  ev.type = ['connection', kind === 'end' ? 'end' : kind === 'start' ? 'start' : 'info'];
  ev.start = isoMicros(Number(e.stime));
  ev.end = isoMicros(Number(e.etime));
  ev.duration = Math.round(Number(e.dur) * 1e6); // ms → ns
  Object.assign(d.source as Row, { mac: ecsMac(e.smac), bytes: e.sbytes, packets: e.spkts });
  Object.assign(d.destination as Row, { mac: ecsMac(e.dmac), bytes: e.dbytes, packets: e.dpkts });
  const net = d.network as Row;
  Object.assign(net, {
    transport: transport(e.proto),
    bytes: Number(e.sbytes) + Number(e.dbytes),
    packets: Number(e.spkts) + Number(e.dpkts),
    ...(Number(e.svlan) > 0 ? { vlan: { id: String(e.svlan) } } : {}),
    ...(typeof e.ndpi_appid === 'string' && e.ndpi_appid !== '' ? { application: e.ndpi_appid } : {}),
  });
  d.damselfly = rest(e, [...ENVELOPE, ...ENDPOINTS, 'proto', 'stime', 'etime', 'dur', 'smac', 'dmac', 'sbytes', 'dbytes', 'spkts', 'dpkts']);
  return d;
}

function dnsDoc(e: Row): Row {
  const d = base(e, 'damselfly.dns');
  (d.event as Row).type = ['protocol'];
  Object.assign(d.network as Row, { protocol: 'dns', transport: undefined });
  const answers = Array.isArray(e.answers) ? (e.answers as Row[]) : [];
  d.dns = {
    type: e.rcode === '' || e.rcode === undefined ? 'query' : 'answer',
    question: { name: e.query, type: e.qtype },
    response_code: e.rcode,
    ...(answers.length > 0 ? { answers: answers.map((a) => ({ name: a.name, type: a.type, ttl: a.ttl, data: a.data })) } : {}),
    resolved_ip: answers.filter((a) => a.type === 'A' || a.type === 'AAAA').map((a) => a.data),
  };
  if ((d.dns as Row).resolved_ip && ((d.dns as Row).resolved_ip as unknown[]).length === 0) delete (d.dns as Row).resolved_ip;
  d.damselfly = rest(e, [...ENVELOPE, ...ENDPOINTS, 'query', 'qtype', 'rcode', 'answers']);
  return d;
}

function tlsDoc(e: Row): Row {
  const d = base(e, 'damselfly.tls');
  (d.event as Row).type = ['protocol'];
  Object.assign(d.network as Row, { protocol: 'tls' });
  const v = /^(?:TLS|SSL)v?(\d(?:\.\d)?)$/i.exec(String(e.tls_version ?? ''));
  d.tls = {
    ...(v ? { version: v[1], version_protocol: /^SSL/i.test(String(e.tls_version)) ? 'ssl' : 'tls' } : {}),
    cipher: e.cipher,
    client: { server_name: e.sni, ja3: e.ja3 },
    server: { ja3s: e.ja3s },
  };
  d.damselfly = rest(e, [...ENVELOPE, ...ENDPOINTS, 'sni', 'cipher', 'ja3', 'ja3s']);
  return d;
}

function httpDoc(e: Row): Row {
  const d = base(e, 'damselfly.http');
  (d.event as Row).type = ['protocol'];
  Object.assign(d.network as Row, { protocol: 'http' });
  const uri = String(e.uri ?? '');
  const q = uri.indexOf('?');
  d.http = { request: { method: e.method }, ...(Number(e.status) > 0 ? { response: { status_code: e.status } } : {}) };
  d.url = { domain: e.host, original: uri, path: q >= 0 ? uri.slice(0, q) : uri, ...(q >= 0 ? { query: uri.slice(q + 1) } : {}) };
  d.user_agent = { original: e.user_agent };
  d.damselfly = rest(e, [...ENVELOPE, ...ENDPOINTS, 'method', 'status', 'host', 'uri', 'user_agent']);
  return d;
}

const DOC: Partial<Record<string, (e: Row) => Row>> = { flow: flowDoc, dns: dnsDoc, tls: tlsDoc, http: httpDoc };

/** One ECS document for an event (sensor types; other types keep their fields under `damselfly`). */
export function toEcs(e: Row): Row {
  const f = DOC[String(e.type)];
  if (f) return clean(f(e));
  return clean({ '@timestamp': isoMicros(Number(e.ts)), ecs: { version: ECS_VERSION }, event: { kind: 'event', dataset: `damselfly.${String(e.type)}`, module: 'damselfly' }, observer: { name: e.obname, product: 'damselfly', vendor: 'damselfly' }, damselfly: rest(e, ENVELOPE) });
}

/** The batch as ECS JSON lines. */
export function encodeEcsLines(b: EventBatch): string {
  let s = '';
  for (const e of b.rows()) s += JSON.stringify(toEcs(e as unknown as Row)) + '\n';
  return s;
}
