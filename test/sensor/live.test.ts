// Live capture end to end. Two network namespaces created here, joined by a veth pair, exchange
// real traffic (ICMP and ICMPv6 echo, HTTP, DNS over UDP, TLS through openssl s_server/s_client,
// 24 small UDP exchanges, and a TCP connection still open when the sensors stop). One veth end is
// captured at the same time by: libpcap, AF_PACKET, AF_PACKET with a BPF filter, two AF_PACKET
// sockets in one hash fanout group (two processes), and `damselfly run --live pcap` into Parquet.
// The loopback device of one namespace is captured by libpcap and AF_PACKET too: the kernel hands
// an AF_PACKET socket each loopback frame twice (PACKET_OUTGOING, then incoming), and both
// backends must count it once, as libpcap does.
// Every sensor is then stopped with SIGINT: each must exit 0 having delivered every flow.
// Needs root (namespaces, raw sockets): skipped with a message otherwise. Test traffic only ever
// goes to addresses inside the namespaces created here (10.99.x.0/24, fd99:x::/64).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { CLI, runCli, tempDir, hasCommand, assertOneLineError } from '../helpers.js';

const PID = process.pid;
const NS_A = `dfly-test-${PID}-a`;
const NS_B = `dfly-test-${PID}-b`;
const IF_A = `dfa${PID % 1e7}`; // interface names are at most 15 characters
const IF_B = `dfb${PID % 1e7}`;
const NET = 1 + (PID % 250);
const A = `10.99.${NET}.1`;
const B = `10.99.${NET}.2`;
const A6 = `fd99:${NET.toString(16)}::1`;
const B6 = `fd99:${NET.toString(16)}::2`;
const FANOUT_GROUP = 1 + (PID % 60000);
const PINGS = 5;
const PINGS6 = 3;
const DNS_QUERIES = 3;
const FANOUT_FLOWS = 24;
const LO_PINGS = 4;
const LO_DNS = 3;

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'skipped: live capture tests need root (network namespaces, raw sockets)';
  for (const c of ['ip', 'python3', 'openssl']) if (!hasCommand(c)) return `skipped: ${c} is not installed`;
  const probe = `dfly-probe-${PID}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `skipped: ip netns is unavailable (${(r.stderr || String(r.error)).trim()})`;
  spawnSync('ip', ['netns', 'del', probe]);
  return false;
}
const SKIP = skipReason();

// ----------------------------------------------------------------------------------------------
// processes
// ----------------------------------------------------------------------------------------------

interface Proc {
  name: string;
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

const procs: Proc[] = [];

function startProc(name: string, ns: string, argv: string[]): Proc {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
  const p: Proc = { name, child, stdout: '', stderr: '', exit: Promise.resolve(null) };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (p.stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (p.stderr += d));
  p.exit = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  procs.push(p);
  return p;
}

/** Resolves when `pattern` shows up in the process output; rejects on exit or after timeoutMs. */
async function waitFor(p: Proc, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  let exited = false;
  void p.exit.then(() => (exited = true));
  for (;;) {
    if (pattern.test(p.stdout) || pattern.test(p.stderr)) return;
    if (exited) throw new Error(`${p.name} exited before ${pattern}:\n${p.stderr}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`${p.name}: no ${pattern} after ${timeoutMs} ms:\n${p.stderr}`);
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs a command in a namespace to completion (the event loop keeps draining the sensors). */
async function nsRun(ns: string, argv: string[], input = '', timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startProc(argv.join(' '), ns, argv);
  p.child.stdin!.end(input);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const code = await p.exit;
  clearTimeout(timer);
  return { code, stdout: p.stdout, stderr: p.stderr };
}

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
}

// ----------------------------------------------------------------------------------------------
// traffic helpers (written to a temp dir: servers run in NS_A, clients in NS_B)
// ----------------------------------------------------------------------------------------------

const PING_PY = String.raw`
import socket, struct, sys, time, os
def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
dst, count = sys.argv[1], int(sys.argv[2]); v6 = ':' in dst
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
s.settimeout(3.0)
ident = os.getpid() & 0xffff
got = 0
for seq in range(1, count + 1):
    body = struct.pack('!HH', ident, seq) + b'damselfly-live-test'
    hdr = struct.pack('!BBH', 128 if v6 else 8, 0, 0)
    pkt = hdr + body if v6 else struct.pack('!BBH', 8, 0, csum(hdr + body)) + body  # the kernel fills ICMPv6 checksums
    s.sendto(pkt, (dst, 0))
    deadline = time.time() + 3.0
    while time.time() < deadline:
        try: data, _ = s.recvfrom(4096)
        except socket.timeout: break
        icmp = data if v6 else data[(data[0] & 15) * 4:]
        if icmp[0] == (129 if v6 else 0) and struct.unpack('!HH', icmp[4:8]) == (ident, seq): got += 1; break
    time.sleep(0.05)
print(got); sys.exit(0 if got == count else 1)
`;

const SERVERS_CJS = String.raw`
const http = require('node:http'), net = require('node:net'), dgram = require('node:dgram');
const A = process.argv[2];
let n = 0; const up = () => { if (++n === 3) console.log('ready'); };
http.createServer((req, res) => { res.setHeader('Connection', 'close'); res.end('hello from the damselfly live test\n'); }).listen(8080, A, up);
net.createServer((s) => { s.on('error', () => {}); s.on('data', (d) => s.write(d)); }).listen(8081, A, up);
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => { const a = Buffer.from(m); a[2] |= 0x80; u.send(a, r.port, r.address); });  // QR bit: a response
u.bind(5353, A, up);
`;

const CLIENTS_CJS = String.raw`
const http = require('node:http'), net = require('node:net'), dgram = require('node:dgram');
const [mode, A, arg] = process.argv.slice(2);
function query(id) {
  const q = Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  const name = Buffer.concat(['damselfly', 'test'].map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])));
  return Buffer.concat([q, name, Buffer.from([0, 0, 1, 0, 1])]);
}
async function dns(count) {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, r));
  for (let i = 0; i < count; i++) {
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('dns timeout')), 3000);
      s.once('message', () => { clearTimeout(t); resolve(); });
      s.send(query(i + 1), 5353, A);
    });
  }
  const port = s.address().port;
  s.close();
  return port;
}
(async () => {
  if (mode === 'http') {
    const body = await new Promise((resolve, reject) => {
      http.get({ host: A, port: 8080, path: '/index.html', agent: false }, (res) => {
        let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    console.log(body.trim());
  } else if (mode === 'dns') {
    console.log(await dns(Number(arg)));
  } else if (mode === 'dnsmany') {
    const ports = await Promise.all(Array.from({ length: Number(arg) }, () => dns(2)));
    console.log(ports.join(' '));
  } else if (mode === 'hold') {
    const c = net.connect(8081, A, () => c.write('still open at stop\n'));
    c.once('data', () => console.log('held ' + c.localPort));
    process.on('SIGTERM', () => process.exit(0));
  }
})().catch((e) => { console.error(e.message); process.exit(1); });
`;

// ----------------------------------------------------------------------------------------------
// flows
// ----------------------------------------------------------------------------------------------

interface Flow {
  proto: string; saddr: string; daddr: string; sport: number; dport: number;
  spkts: number; dpkts: number; sbytes: number; dbytes: number; reason: string; iflags: string;
  snonemptypktcnt: number; dnonemptypktcnt: number; kind?: string; type: string;
}

function parseFlows(p: Proc): Flow[] {
  const lines = p.stdout.split('\n').filter((l) => l.trim() !== '');
  const events = lines.map((l) => JSON.parse(l) as Flow);
  // Only flow end records (other event kinds, if the sensor emits them, are not flows that ended).
  return events.filter((e) => e.type === 'flow' && (e.kind === undefined || e.kind === 'end'));
}

const OURS = new Set([A, B, A6, B6]);
/** Flows of the traffic this test generated (the kernel's own NDP/MLD/ARP chatter is left out). */
function testFlows(fs: Flow[]): Flow[] {
  return fs.filter((f) => {
    if (!OURS.has(f.saddr) || !OURS.has(f.daddr)) return false;
    if (f.proto === 'TCP' || f.proto === 'UDP') return true;
    if (f.proto === 'ICMP') return f.sport === 8 || f.sport === 0;
    if (f.proto === 'ICMPv6') return f.sport === 128 || f.sport === 129;
    return false;
  });
}

function key(f: Flow): string {
  return `${f.proto} ${f.saddr}:${f.sport} > ${f.daddr}:${f.dport} pkts=${f.spkts}/${f.dpkts}`;
}

function one(fs: Flow[], pred: (f: Flow) => boolean, what: string): Flow {
  const m = fs.filter(pred);
  assert.equal(m.length, 1, `expected exactly one ${what} flow, got ${m.length}:\n${fs.map(key).join('\n')}`);
  return m[0]!;
}

interface Generated { dnsPort: number; fanoutPorts: number[]; holdPort: number; loDnsPort: number }

/** The flows every unfiltered capture of the veth must contain, with their packet counts. */
function assertTraffic(all: Flow[], g: Generated, label: string): void {
  const fs = testFlows(all);
  const icmp = one(fs, (f) => f.proto === 'ICMP' && f.saddr === B && f.daddr === A && f.sport === 8, `${label} ICMP echo`);
  assert.deepEqual([icmp.spkts, icmp.dpkts, icmp.reason], [PINGS, PINGS, 'eof'], `${label}: ${PINGS} echo requests + ${PINGS} replies, open at stop`);
  const icmp6 = one(fs, (f) => f.proto === 'ICMPv6' && f.saddr === B6 && f.daddr === A6 && f.sport === 128, `${label} ICMPv6 echo`);
  assert.deepEqual([icmp6.spkts, icmp6.dpkts, icmp6.reason], [PINGS6, PINGS6, 'eof']);
  const dns = one(fs, (f) => f.proto === 'UDP' && f.saddr === B && f.sport === g.dnsPort && f.daddr === A && f.dport === 5353, `${label} DNS`);
  assert.deepEqual([dns.spkts, dns.dpkts, dns.reason], [DNS_QUERIES, DNS_QUERIES, 'eof']);
  const http = one(fs, (f) => f.proto === 'TCP' && f.saddr === B && f.daddr === A && f.dport === 8080, `${label} HTTP`);
  assert.ok(http.spkts >= 4 && http.dpkts >= 3, `${label} HTTP packets ${http.spkts}/${http.dpkts}`);
  assert.ok(http.snonemptypktcnt >= 1 && http.dnonemptypktcnt >= 1, `${label} HTTP request and response payload`);
  assert.match(http.iflags, /S/, 'the capture saw the SYN');
  const tls = one(fs, (f) => f.proto === 'TCP' && f.saddr === B && f.daddr === A && f.dport === 8443, `${label} TLS`);
  assert.ok(tls.snonemptypktcnt >= 2 && tls.dnonemptypktcnt >= 1, `${label} TLS handshake both ways`);
  assert.ok(tls.dbytes > 300, `${label} TLS server flight (certificate) ${tls.dbytes} bytes`);
  const hold = one(fs, (f) => f.proto === 'TCP' && f.saddr === B && f.sport === g.holdPort && f.daddr === A && f.dport === 8081, `${label} open TCP`);
  assert.equal(hold.reason, 'eof', 'a connection still open at SIGINT is flushed with reason eof');
  assert.ok(hold.spkts >= 3 && hold.dpkts >= 2, `${label} open TCP packets ${hold.spkts}/${hold.dpkts}`);
  for (const port of g.fanoutPorts) {
    const f = one(fs, (x) => x.proto === 'UDP' && x.sport === port && x.dport === 5353, `${label} UDP from port ${port}`);
    assert.deepEqual([f.spkts, f.dpkts], [2, 2]);
  }
  assert.equal(fs.length, 6 + g.fanoutPorts.length, `${label}: no other flows between the test addresses:\n${fs.map(key).join('\n')}`);
}

function kernelStats(p: Proc): { received: number; dropped: number; packets: number } {
  const m = /summary: packets=(\d+) .*kernel_received=(\d+) kernel_dropped=(\d+)/.exec(p.stderr);
  assert.ok(m, `${p.name}: no summary line with kernel counters in:\n${p.stderr}`);
  return { packets: Number(m[1]), received: Number(m[2]), dropped: Number(m[3]) };
}

// ----------------------------------------------------------------------------------------------

describe('live capture on a veth pair between two namespaces', { skip: SKIP }, () => {
  const tmp = SKIP ? undefined : tempDir('damselfly-live-');
  const dir = tmp?.dir ?? '';
  const sensors: Record<string, Proc> = {};
  let gen: Generated;
  const exitCodes: Record<string, number | null> = {};

  before(async () => {
    sh('ip', ['netns', 'add', NS_A]);
    sh('ip', ['netns', 'add', NS_B]);
    sh('ip', ['link', 'add', IF_A, 'type', 'veth', 'peer', 'name', IF_B]);
    sh('ip', ['link', 'set', IF_A, 'netns', NS_A]);
    sh('ip', ['link', 'set', IF_B, 'netns', NS_B]);
    for (const [ns, ifc, v4, v6] of [[NS_A, IF_A, A, A6], [NS_B, IF_B, B, B6]] as const) {
      sh('ip', ['-n', ns, 'addr', 'add', `${v4}/24`, 'dev', ifc]);
      sh('ip', ['-n', ns, 'addr', 'add', `${v6}/64`, 'dev', ifc, 'nodad']);
      sh('ip', ['-n', ns, 'link', 'set', ifc, 'up']);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    writeFileSync(join(dir, 'ping.py'), PING_PY);
    writeFileSync(join(dir, 'servers.cjs'), SERVERS_CJS);
    writeFileSync(join(dir, 'clients.cjs'), CLIENTS_CJS);
    sh('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=damselfly.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);

    const node = [process.execPath, '--no-node-snapshot', CLI];
    const sensor = (extra: string[]): string[] => [...node, 'sensor', '-i', IF_A, '--format', 'jsonl', '--stats', ...extra];
    const afp = ['--live', 'afpacket', '--afp-block-size', '1048576', '--afp-block-count', '4'];
    sensors.pcap = startProc('pcap', NS_A, sensor(['--live', 'pcap']));
    sensors.afpacket = startProc('afpacket', NS_A, sensor(afp));
    sensors.filtered = startProc('afpacket+filter', NS_A, sensor([...afp, '--filter', 'icmp']));
    const fan = [...afp, '--afp-fanout-group', String(FANOUT_GROUP), '--afp-fanout-mode', 'hash'];
    sensors.fan1 = startProc('fanout-1', NS_A, sensor(fan));
    sensors.fan2 = startProc('fanout-2', NS_A, sensor(fan));
    sensors.run = startProc('run', NS_A, [...node, 'run', '-i', IF_A, '--live', 'pcap', '--parquet-dir', join(dir, 'flows'), '--no-builtin-analyzers']);
    const onLo = (extra: string[]): string[] => [...node, 'sensor', '-i', 'lo', '--format', 'jsonl', '--stats', ...extra];
    sensors.loPcap = startProc('lo-pcap', NS_A, onLo(['--live', 'pcap']));
    sensors.loAfpacket = startProc('lo-afpacket', NS_A, onLo(afp));
    for (const p of Object.values(sensors)) p.child.stdin!.end();
    const servers = startProc('servers', NS_A, [process.execPath, join(dir, 'servers.cjs'), A]);
    servers.child.stdin!.end();
    const tlsServer = startProc('s_server', NS_A, ['openssl', 's_server', '-accept', `${A}:8443`, '-cert', join(dir, 'cert.pem'), '-key', join(dir, 'key.pem'), '-naccept', '1']);
    for (const p of Object.values(sensors)) await waitFor(p, /live capture on \S+ \((pcap|afpacket)\) started/);
    await waitFor(servers, /ready/);
    await waitFor(tlsServer, /ACCEPT/);

    // ---- traffic (B -> A), one exchange after the other ----
    const ping = await nsRun(NS_B, ['python3', join(dir, 'ping.py'), A, String(PINGS)]);
    assert.equal(ping.code, 0, `ping: ${ping.stdout}${ping.stderr}`);
    const ping6 = await nsRun(NS_B, ['python3', join(dir, 'ping.py'), A6, String(PINGS6)]);
    assert.equal(ping6.code, 0, `ping6: ${ping6.stdout}${ping6.stderr}`);
    const client = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
      nsRun(NS_B, [process.execPath, join(dir, 'clients.cjs'), args[0]!, A, ...args.slice(1)]);
    const http = await client(['http']);
    assert.equal(http.code, 0, http.stderr);
    assert.match(http.stdout, /hello from the damselfly live test/);
    const dns = await client(['dns', String(DNS_QUERIES)]);
    assert.equal(dns.code, 0, dns.stderr);
    const tls = await nsRun(NS_B, ['openssl', 's_client', '-connect', `${A}:8443`, '-servername', 'damselfly.test', '-brief'], 'hello over tls\n');
    assert.equal(tls.code, 0, `s_client: ${tls.stderr}`);
    assert.match(tls.stderr, /CONNECTION ESTABLISHED/);
    const many = await client(['dnsmany', String(FANOUT_FLOWS)]);
    assert.equal(many.code, 0, many.stderr);
    // loopback traffic inside NS_A: ICMP echo to 127.0.0.1 and DNS-like UDP to A's own address
    const loPing = await nsRun(NS_A, ['python3', join(dir, 'ping.py'), '127.0.0.1', String(LO_PINGS)]);
    assert.equal(loPing.code, 0, `lo ping: ${loPing.stdout}${loPing.stderr}`);
    const loDns = await nsRun(NS_A, [process.execPath, join(dir, 'clients.cjs'), 'dns', A, String(LO_DNS)]);
    assert.equal(loDns.code, 0, loDns.stderr);
    const hold = startProc('hold', NS_B, [process.execPath, join(dir, 'clients.cjs'), 'hold', A]);
    hold.child.stdin!.end();
    await waitFor(hold, /held \d+/, 10_000);
    gen = {
      dnsPort: Number(dns.stdout.trim()),
      fanoutPorts: many.stdout.trim().split(' ').map(Number),
      holdPort: Number(/held (\d+)/.exec(hold.stdout)![1]),
      loDnsPort: Number(loDns.stdout.trim()),
    };
    assert.equal(new Set(gen.fanoutPorts).size, FANOUT_FLOWS, 'distinct client ports');

    // Let the last replies reach every capture, then stop all sensors while `hold` is open.
    await sleep(1000);
    for (const p of Object.values(sensors)) p.child.kill('SIGINT');
    for (const [name, p] of Object.entries(sensors)) {
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 60_000);
      exitCodes[name] = await p.exit;
      clearTimeout(timer);
    }
    hold.child.kill('SIGTERM');
    servers.child.kill('SIGTERM');
    tlsServer.child.kill('SIGTERM');
  }, { timeout: 240_000 });

  after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    spawnSync('ip', ['netns', 'del', NS_A]);
    spawnSync('ip', ['netns', 'del', NS_B]);
    tmp?.cleanup();
  });

  test('SIGINT: every sensor exits 0 after flushing, with no kernel drops', () => {
    for (const [name, p] of Object.entries(sensors)) {
      assert.equal(exitCodes[name], 0, `${name} exit code; stderr:\n${p.stderr}`);
      assert.match(p.stderr, /SIGINT: stopping capture, flushing flows/, name);
      assert.doesNotMatch(p.stderr, /error/i, name);
    }
    for (const name of ['pcap', 'afpacket', 'filtered', 'fan1', 'fan2', 'loPcap', 'loAfpacket']) {
      const k = kernelStats(sensors[name]!);
      assert.equal(k.dropped, 0, `${name}: kernel drops`);
      assert.ok(k.received >= k.packets && k.packets > 0, `${name}: kernel received ${k.received} >= processed ${k.packets}`);
    }
  });

  test('pcap backend: every generated flow with exact packet counts', () => {
    assertTraffic(parseFlows(sensors.pcap!), gen, 'pcap');
  });

  test('afpacket backend: every generated flow, identical to libpcap', () => {
    const afp = parseFlows(sensors.afpacket!);
    assertTraffic(afp, gen, 'afpacket');
    const a = testFlows(afp).map(key).sort();
    const p = testFlows(parseFlows(sensors.pcap!)).map(key).sort();
    assert.deepEqual(a, p);
  });

  test('L7 events and start records from live traffic (HTTP, DNS, TLS with SNI/JA3/JA4)', () => {
    for (const name of ['pcap', 'afpacket']) {
      const ev = sensors[name]!.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
      const http = ev.filter((e) => e.type === 'http' && e.saddr === B && e.daddr === A && e.dport === 8080);
      assert.ok(http.some((e) => e.method === 'GET' && e.uri === '/index.html' && e.host === `${A}:8080`), `${name} HTTP request event: ${JSON.stringify(http)}`);
      const dns = ev.filter((e) => e.type === 'dns' && e.sport === gen.dnsPort && e.dport === 5353);
      assert.ok(dns.length >= 1 && dns.every((e) => e.query === 'damselfly.test'), `${name} DNS events: ${JSON.stringify(dns)}`);
      const tls = ev.filter((e) => e.type === 'tls' && e.saddr === B && e.dport === 8443);
      assert.equal(tls.length, 1, `${name} TLS events: ${JSON.stringify(tls)}`);
      assert.equal(tls[0]!.sni, 'damselfly.test');
      assert.match(String(tls[0]!.ja3), /^[0-9a-f]{32}$/);
      assert.match(String(tls[0]!.ja4), /^t1[23]d\d{4}/);
      const end = one(parseFlows(sensors[name]!), (f) => f.proto === 'ICMP' && f.saddr === B && f.sport === 8, `${name} ICMP`) as Flow & { flowid: string };
      const starts = ev.filter((e) => e.type === 'flow' && e.kind === 'start' && e.flowid === end.flowid);
      assert.equal(starts.length, 1, `${name}: one start record for the ICMP flow`);
    }
  });

  test('loopback: afpacket skips the outgoing copy of each frame, as libpcap does (same packets, same flows)', () => {
    const all = (name: string): Flow[] => parseFlows(sensors[name]!);
    const pcapLo = all('loPcap');
    const afpLo = all('loAfpacket');
    const echo = (fs: Flow[], label: string): Flow => one(fs, (f) => f.proto === 'ICMP' && f.saddr === '127.0.0.1' && f.sport === 8, `${label} loopback ICMP echo`);
    for (const [label, fs] of [['pcap', pcapLo], ['afpacket', afpLo]] as const) {
      const e = echo(fs, label);
      assert.deepEqual([e.spkts, e.dpkts], [LO_PINGS, LO_PINGS], `${label}: each loopback echo counted once`);
      const d = one(fs, (f) => f.proto === 'UDP' && f.sport === gen.loDnsPort && f.dport === 5353, `${label} loopback UDP`);
      assert.deepEqual([d.spkts, d.dpkts], [LO_DNS, LO_DNS], `${label}: each loopback datagram counted once`);
    }
    // nothing but this test's traffic crosses the namespace's lo: every flow and every packet agree
    const byKey = (fs: Flow[]): string[] => fs.map(key).sort();
    assert.deepEqual(byKey(afpLo), byKey(pcapLo));
    const kp = kernelStats(sensors.loPcap!);
    const ka = kernelStats(sensors.loAfpacket!);
    const sum = (fs: Flow[]): number => fs.reduce((a, f) => a + f.spkts + f.dpkts, 0);
    console.log(`# lo packets: pcap ${kp.packets}, afpacket ${ka.packets} (flows ${sum(pcapLo)} / ${sum(afpLo)})`);
    assert.equal(ka.packets, kp.packets, 'afpacket and pcap process the same number of loopback packets');
    const skipped = /kernel_outgoing_skipped=(\d+)/.exec(sensors.loAfpacket!.stderr);
    assert.ok(skipped && Number(skipped[1]) >= 2 * LO_PINGS + 2 * LO_DNS, `afpacket on lo reports the outgoing copies it skipped: ${skipped?.[1]}`);
  });

  test('veth: afpacket and pcap count the same packets for the generated flows', () => {
    const sum = (fs: Flow[]): number => fs.reduce((a, f) => a + f.spkts + f.dpkts, 0);
    const p = sum(testFlows(parseFlows(sensors.pcap!)));
    const a = sum(testFlows(parseFlows(sensors.afpacket!)));
    console.log(`# veth packets of the generated flows: pcap ${p}, afpacket ${a}`);
    assert.equal(a, p);
    assert.match(sensors.afpacket!.stderr, /kernel_outgoing_skipped=0\b/, 'a veth frame is never skipped');
  });

  test('afpacket BPF filter: only ICMP reaches the flow table', () => {
    const fs = parseFlows(sensors.filtered!);
    assert.ok(fs.length >= 1);
    for (const f of fs) assert.equal(f.proto, 'ICMP', `filtered capture saw ${key(f)}`);
    const echo = one(fs, (f) => f.saddr === B && f.daddr === A && f.sport === 8, 'filtered ICMP echo');
    assert.deepEqual([echo.spkts, echo.dpkts], [PINGS, PINGS]);
  });

  test('fanout hash over two processes: together they see every flow exactly once', () => {
    const f1 = testFlows(parseFlows(sensors.fan1!));
    const f2 = testFlows(parseFlows(sensors.fan2!));
    assert.ok(f1.length > 0 && f2.length > 0, `both sockets got flows (${f1.length}, ${f2.length} of ${6 + FANOUT_FLOWS})`);
    const tuple = (f: Flow): string => `${f.proto} ${f.saddr}:${f.sport} > ${f.daddr}:${f.dport}`;
    const s1 = new Set(f1.map(tuple));
    for (const f of f2) assert.ok(!s1.has(tuple(f)), `flow split across the fanout sockets: ${tuple(f)}`);
    const union = [...f1, ...f2].map(key).sort();
    const reference = testFlows(parseFlows(sensors.afpacket!)).map(key).sort();
    assert.deepEqual(union, reference, 'the union equals a single socket capture, packet counts included');
  });

  test('run --live pcap: the flows land in Parquet', async () => {
    const p = sensors.run!;
    assert.match(p.stderr, /summary: .*parquet_rows=\d+/);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    try {
      const glob = join(dir, 'flows', '*', 'v*', '**', '*.parquet').replace(/'/g, "''");
      const rows = (await c.runAndReadAll(
        `SELECT proto, saddr, daddr, sport, dport, spkts, dpkts, reason FROM read_parquet('${glob}', hive_partitioning=false)`,
      )).getRowObjectsJson() as unknown as Flow[];
      const fs = testFlows(rows.map((r) => ({ ...r, sport: Number(r.sport), dport: Number(r.dport), spkts: Number(r.spkts), dpkts: Number(r.dpkts) })));
      const icmp = one(fs, (f) => f.proto === 'ICMP' && f.saddr === B && f.sport === 8, 'Parquet ICMP echo');
      assert.deepEqual([icmp.spkts, icmp.dpkts, icmp.reason], [PINGS, PINGS, 'eof']);
      const hold = one(fs, (f) => f.proto === 'TCP' && f.sport === gen.holdPort && f.dport === 8081, 'Parquet open TCP');
      assert.equal(hold.reason, 'eof');
      assert.equal(fs.length, 6 + FANOUT_FLOWS, 'every generated flow');
    } finally {
      c.closeSync();
    }
  });
});

// ----------------------------------------------------------------------------------------------
// errors: one clear line, no stack trace
// ----------------------------------------------------------------------------------------------


test('live capture on a missing interface: one clear line', () => {
  for (const type of ['pcap', 'afpacket']) {
    assertOneLineError(runCli(['sensor', '-i', 'dflynosuch0', '--live', type, '--format', 'jsonl']), /interface dflynosuch0: no such interface/);
  }
  assertOneLineError(runCli(['run', '-i', 'dflynosuch0', '--live', 'afpacket', '--parquet-dir', '/nonexistent-dfly/out']), /interface dflynosuch0: no such interface/);
});

test('live capture options are validated', () => {
  assertOneLineError(runCli(['sensor', '-i', 'lo', '--live', 'netmap']), /--live: must be one of pcap, afpacket/);
  assertOneLineError(runCli(['sensor', '-i', 'lo', '--live', 'afpacket', '--afp-fanout-mode', 'queue']), /--afp-fanout-mode: must be one of hash, lb, cpu, rollover, random/);
});

test('live capture without privileges: one clear line', { skip: process.getuid?.() !== 0 ? 'skipped: needs root to drop to an unprivileged user' : !hasCommand('setpriv') ? 'skipped: setpriv is not installed' : false }, () => {
  for (const type of ['pcap', 'afpacket']) {
    const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', process.execPath, CLI, 'sensor', '-i', 'lo', '--live', type], { encoding: 'utf8', cwd: '/' });
    assertOneLineError(r, /live capture on lo needs root \(CAP_NET_RAW\)/);
  }
});
