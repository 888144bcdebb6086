// Every L7 message of a flow is reported, with bounded memory: one `dns` event per DNS transaction
// (a response, or a query left unanswered) on a reused socket such as a DNS tunnel, and one `http`
// event per request/response pair on a keep-alive connection — checked against tshark on the
// shared captures and against captures built here (bodies by Content-Length and chunked, HEAD,
// 304, pipelining, a 1 KiB buffer for 31 requests). l7.max_events_per_flow caps the events and the
// rest are counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource, type SourceSummary } from '../../sensor/src/file-source.js';
import type { SensorEvent, DnsEvent, HttpEvent } from '../../streams/schema.js';
import { sharedData, missingShared } from '../helpers.js';
import { options, writePcap, tcpFrame, udpFrame, TCP, type Frame } from './helpers.js';

async function run(pcap: string, over: Parameters<typeof options>[0] = {}): Promise<{ events: SensorEvent[]; summary: SourceSummary }> {
  const events: SensorEvent[] = [];
  const src = new FileSource(options(over), [pcap], async (b) => { events.push(...(b.rows() as SensorEvent[])); });
  const summary = await src.run();
  return { events, summary };
}

function hasTshark(): boolean {
  try { execFileSync('tshark', ['-v'], { stdio: 'ignore' }); return true; } catch { return false; }
}

function tshark(file: string, filter: string, fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-n', '-r', file, '-Y', filter, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('|'));
}

const ndpi = sharedData('ndpi');

// ------------------------------------------------------------------------------------------------
// DNS tunnels against tshark
// ------------------------------------------------------------------------------------------------

for (const name of ['dns_exfiltration.pcap', 'dns-tunnel-iodine.pcap']) {
  test(`DNS tunnel ${name}: one dns event per transaction, as tshark counts them`, { skip: !ndpi && missingShared('ndpi') }, async (t) => {
    const file = join(ndpi!, 'pcap', name);
    if (!existsSync(file)) { t.skip(`${name}: not in this copy of the data set`); return; }
    if (!hasTshark()) { t.skip('tshark not installed'); return; }
    // A transaction: a response, or a query no response (same socket, same id) answers.
    const rows = tshark(file, 'dns', ['ip.src', 'ipv6.src', 'udp.srcport', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'udp.dstport', 'tcp.dstport', 'dns.flags.response', 'dns.id', 'dns.qry.name']);
    const queries = new Map<string, string>();
    const answered = new Set<string>();
    let responses = 0;
    const names: string[] = [];
    for (const [s4, s6, su, st, d4, d6, du, dt, resp, id, qname] of rows) {
      const client = resp === '1' || resp === 'True' ? `${d4 || d6}:${du || dt}>${s4 || s6}:${su || st}` : `${s4 || s6}:${su || st}>${d4 || d6}:${du || dt}`;
      const k = `${client} ${id}`;
      if (resp === '1' || resp === 'True') { responses++; answered.add(k); names.push(qname ?? ''); } else { queries.set(k, qname ?? ''); }
    }
    const unanswered = [...queries.keys()].filter((k) => !answered.has(k));
    for (const k of unanswered) names.push(queries.get(k)!);
    const expected = responses + unanswered.length;
    const { events, summary } = await run(file);
    const dns = events.filter((e): e is DnsEvent => e.type === 'dns');
    t.diagnostic(`${name}: tshark ${rows.length} DNS messages = ${responses} responses + ${queries.size} queries (${unanswered.length} unanswered) -> ${expected} transactions; ours ${dns.length} dns events`);
    assert.equal(dns.length, expected, 'one event per transaction');
    // names with bytes outside printable ASCII are written differently (tshark: U+FFFD, ours: \\xHH)
    const printable = (xs: string[]): string[] => xs.filter((x) => /^[\x20-\x7e]*$/.test(x) && !x.includes('\\x')).sort();
    assert.deepEqual(printable(dns.map((e) => e.query)), printable(names), 'the same query names');
    assert.equal(dns.filter((e) => e.rcode === '').length, unanswered.length, 'unanswered queries carry no rcode');
    assert.equal(summary.stats.l7_events_capped, 0);
    assert.equal(summary.stats.l7_pending_evicted, 0);
  });
}

// ------------------------------------------------------------------------------------------------
// HTTP keep-alive against tshark
// ------------------------------------------------------------------------------------------------

test('HTTP keep-alive captures: one http event per request, with tshark\'s methods, URIs and status codes', { skip: !ndpi && missingShared('ndpi') }, async (t) => {
  if (!hasTshark()) { t.skip('tshark not installed'); return; }
  // the captures of the data set with keep-alive connections (several requests on one connection)
  const files = ['http_ua_splitted_in_two_pkts.pcapng', 'quickplay.pcap', 'anyconnect-vpn.pcap', 'sites.pcapng', 'zattoo.pcap', 'http.pcapng']
    .map((f) => join(ndpi!, 'pcap', f)).filter(existsSync);
  if (files.length === 0) { t.skip('no HTTP keep-alive capture in this copy of the data set'); return; }
  let maxPerConn = 0;
  for (const file of files) {
    // HTTP over TCP (SSDP's HTTP over UDP is not ours to parse)
    const req = tshark(file, 'http.request and tcp', ['tcp.stream', 'http.request.method', 'http.request.uri']);
    const resp = tshark(file, 'http.response and tcp', ['tcp.stream', 'http.response.code']);
    const perStream = new Map<string, number>();
    for (const [s] of req) perStream.set(s!, (perStream.get(s!) ?? 0) + 1);
    maxPerConn = Math.max(maxPerConn, ...perStream.values());
    const { events } = await run(file);
    const http = events.filter((e): e is HttpEvent => e.type === 'http');
    const want = req.map(([, m, u]) => `${m} ${u}`).sort();
    const got = http.filter((e) => e.method !== '').map((e) => `${e.method} ${e.uri}`).sort();
    t.diagnostic(`${file.split('/').at(-1)}: tshark ${req.length} requests / ${resp.length} responses on ${perStream.size} connections (at most ${Math.max(...perStream.values())} on one); ours ${http.length} http events (${got.length} with a request)`);
    assert.deepEqual(got, want, 'every request, once');
    const codes = (xs: string[]): string[] => xs.sort();
    assert.deepEqual(codes(http.filter((e) => e.status > 0).map((e) => String(e.status))), codes(resp.map(([, c]) => c!)), 'every response status, once');
  }
  assert.ok(maxPerConn >= 30, `a keep-alive connection with many requests is among the captures (${maxPerConn})`);
});

// ------------------------------------------------------------------------------------------------
// Captures built here
// ------------------------------------------------------------------------------------------------

const C = '10.7.0.1', S = '10.7.0.2';
const T0 = 1_700_000_000_000_000;

/** A TCP connection: handshake, then `msgs` (client or server payloads) each in its own segment(s). */
function connection(sport: number, msgs: { fromClient: boolean; data: Buffer }[], segment = 1400): Frame[] {
  const fr: Frame[] = [];
  let ts = T0 + sport * 1000;
  let cs = 1000, ss = 5000;
  fr.push({ ts: ts++, data: tcpFrame(C, S, sport, 80, TCP.S, cs - 1) });
  fr.push({ ts: ts++, data: tcpFrame(S, C, 80, sport, TCP.S | TCP.A, ss - 1) });
  fr.push({ ts: ts++, data: tcpFrame(C, S, sport, 80, TCP.A, cs) });
  for (const m of msgs) {
    for (let o = 0; o < m.data.length; o += segment) {
      const chunk = Buffer.from(m.data.subarray(o, o + segment));
      if (m.fromClient) { fr.push({ ts: ts++, data: tcpFrame(C, S, sport, 80, TCP.A | TCP.P, cs, chunk) }); cs += chunk.length; }
      else { fr.push({ ts: ts++, data: tcpFrame(S, C, 80, sport, TCP.A | TCP.P, ss, chunk) }); ss += chunk.length; }
    }
  }
  return fr;
}

const get = (uri: string, method = 'GET', extra = ''): Buffer => Buffer.from(`${method} ${uri} HTTP/1.1\r\nHost: example.test\r\nUser-Agent: dfly-test/1\r\n${extra}\r\n`);
const ok = (status: number, body: string, framing: 'length' | 'chunked' | 'none' = 'length'): Buffer => {
  if (framing === 'chunked') {
    const half = Math.ceil(body.length / 2);
    const parts = [body.slice(0, half), body.slice(half)].filter((p) => p.length > 0);
    return Buffer.from(`HTTP/1.1 ${status} X\r\nTransfer-Encoding: chunked\r\n\r\n${parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`).join('')}0\r\n\r\n`);
  }
  return Buffer.from(`HTTP/1.1 ${status} X\r\n${framing === 'length' ? `Content-Length: ${body.length}\r\n` : ''}\r\n${framing === 'none' ? '' : body}`);
};

test('HTTP keep-alive built here: 31 requests with bodies (length, chunked, HEAD, 304, a POST body) in a 1 KiB buffer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfly-l7-'));
  try {
    const msgs: { fromClient: boolean; data: Buffer }[] = [];
    const want: string[] = [];
    for (let i = 0; i < 31; i++) {
      const kind = i % 5;
      const uri = `/item/${i}`;
      if (kind === 0) { msgs.push({ fromClient: true, data: get(uri) }, { fromClient: false, data: ok(200, 'x'.repeat(3000 + i)) }); want.push(`GET ${uri} 200`); }
      else if (kind === 1) { msgs.push({ fromClient: true, data: get(uri) }, { fromClient: false, data: ok(201, 'y'.repeat(2500), 'chunked') }); want.push(`GET ${uri} 201`); }
      else if (kind === 2) { msgs.push({ fromClient: true, data: get(uri, 'HEAD') }, { fromClient: false, data: Buffer.from('HTTP/1.1 200 X\r\nContent-Length: 99999\r\n\r\n') }); want.push(`HEAD ${uri} 200`); }
      else if (kind === 3) { msgs.push({ fromClient: true, data: get(uri, 'GET', 'If-None-Match: "a"\r\n') }, { fromClient: false, data: ok(304, '', 'none') }); want.push(`GET ${uri} 304`); }
      else { msgs.push({ fromClient: true, data: Buffer.concat([get(uri, 'POST', 'Content-Length: 2000\r\n'), Buffer.alloc(2000, 0x41)]) }, { fromClient: false, data: ok(204, '', 'none') }); want.push(`POST ${uri} 204`); }
    }
    // and two pipelined requests in one segment, answered in one segment
    msgs.push({ fromClient: true, data: Buffer.concat([get('/p1'), get('/p2')]) }, { fromClient: false, data: Buffer.concat([ok(200, 'one'), ok(404, 'two!')]) });
    want.push('GET /p1 200', 'GET /p2 404');
    const pcap = join(dir, 'keepalive.pcap');
    writePcap(pcap, connection(40001, msgs));
    const { events, summary } = await run(pcap, { l7MaxBuffer: 1024 });
    const http = events.filter((e): e is HttpEvent => e.type === 'http');
    assert.deepEqual(http.map((e) => `${e.method} ${e.uri} ${e.status}`), want);
    for (const e of http) assert.deepEqual([e.host, e.user_agent], ['example.test', 'dfly-test/1']);
    assert.equal(summary.stats.l7_stream_lost, 0, 'no message head outgrew the 1 KiB buffer: bodies were skipped, heads released');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an HTTP head larger than l7.max_buffer ends that direction and is counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfly-l7-'));
  try {
    const big = get('/big', 'GET', `X-Pad: ${'p'.repeat(3000)}\r\n`);
    const pcap = join(dir, 'big.pcap');
    writePcap(pcap, connection(40002, [{ fromClient: true, data: get('/small') }, { fromClient: false, data: ok(200, 'fine') }, { fromClient: true, data: big }, { fromClient: true, data: get('/after') }]));
    const { events, summary } = await run(pcap, { l7MaxBuffer: 1024 });
    const http = events.filter((e): e is HttpEvent => e.type === 'http');
    assert.deepEqual(http.map((e) => `${e.uri} ${e.status}`), ['/small 200']);
    assert.equal(summary.stats.l7_stream_lost, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function dnsMsg(id: number, name: string, response: boolean): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(response ? 0x8180 : 0x0100, 2);
  h.writeUInt16BE(1, 4);
  if (response) h.writeUInt16BE(1, 6);
  const q = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0, 0, 16, 0, 1])]);
  const parts = [h, q];
  if (response) {
    const rr = Buffer.alloc(12 + 4);
    rr.writeUInt16BE(0xc00c, 0); rr.writeUInt16BE(16, 2); rr.writeUInt16BE(1, 4); rr.writeUInt32BE(60, 6); rr.writeUInt16BE(4, 10);
    rr[12] = 3; rr.write('abc', 13);
    parts.push(rr);
  }
  return Buffer.concat(parts);
}

test('DNS on one socket: 150 transactions give 150 events; l7.max_events_per_flow caps them and counts the rest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dfly-l7-'));
  try {
    const fr: Frame[] = [];
    for (let i = 0; i < 150; i++) {
      const name = `t${i}.tunnel.example`;
      fr.push({ ts: T0 + i * 1000, data: udpFrame(C, S, 33333, 53, Buffer.from(dnsMsg(i + 1, name, false))) });
      if (i % 10 !== 9) fr.push({ ts: T0 + i * 1000 + 500, data: udpFrame(S, C, 53, 33333, Buffer.from(dnsMsg(i + 1, name, true))) });
    }
    const pcap = join(dir, 'dns.pcap');
    writePcap(pcap, fr);
    const all = await run(pcap);
    const dns = all.events.filter((e): e is DnsEvent => e.type === 'dns');
    assert.equal(dns.length, 150);
    assert.equal(dns.filter((e) => e.rcode === 'NOERROR' && e.answers[0]?.data === 'abc').length, 135);
    assert.equal(dns.filter((e) => e.rcode === '').length, 15, 'unanswered queries are reported too');
    assert.equal(all.summary.stats.l7_pending_evicted, 0);
    const capped = await run(pcap, { l7MaxEventsPerFlow: 40 });
    assert.equal(capped.events.filter((e) => e.type === 'dns').length, 40);
    assert.equal(capped.summary.stats.l7_events_capped, 110, "every event past the cap is counted");
    assert.equal(capped.summary.stats.l7_events, 40);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
