// Correctness against tshark as an oracle: per directed 5-tuple (TCP/UDP), the packets our flows
// count in each direction must equal the frames tshark dissects for that tuple.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NDPI_PCAPS, runFiles } from './helpers.js';

// Plain captures without fragments, tunnels or ICMP errors quoting TCP/UDP headers.
export const ORACLE_CAPTURES = [
  '1kxun.pcap', 'netflix.pcap', 'reddit.pcap', 'bittorrent.pcap', 'dns.pcap', 'ftp.pcap',
  'google_ssl.pcap', 'http_ipv6.pcap', 'whatsapp_login_call.pcap', 'skype.pcap', 'quic.pcap',
];

function hasTshark(): boolean {
  try { execFileSync('tshark', ['-v'], { stdio: 'ignore' }); return true; } catch { return false; }
}

function tsharkCounts(file: string): Map<string, number> {
  const out = execFileSync('tshark', [
    '-n', '-r', file, '-Y', '(tcp or udp) and not icmp and not icmpv6',
    '-T', 'fields', '-E', 'occurrence=f', '-E', 'separator=|',
    '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'ip.proto', '-e', 'ipv6.nxt',
    '-e', 'tcp.srcport', '-e', 'udp.srcport', '-e', 'tcp.dstport', '-e', 'udp.dstport',
  ], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  const m = new Map<string, number>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const [s4, s6, d4, d6, , , ts, us, td, ud] = line.split('|');
    const proto = ts ? 'TCP' : 'UDP';
    const k = `${proto} ${s4 || s6}:${ts || us} > ${d4 || d6}:${td || ud}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

for (const name of ORACLE_CAPTURES) {
  test(`tshark oracle: ${name}`, async (t) => {
    const file = join(NDPI_PCAPS, name);
    if (!existsSync(NDPI_PCAPS)) { t.skip(`${name}: /work/shared/data/ndpi absent`); return; }
    if (!existsSync(file)) { t.skip(`${name}: not in this copy of the data set`); return; }
    if (!hasTshark()) { t.skip('tshark not installed'); return; }
    const expected = tsharkCounts(file);
    const { flows } = await runFiles([file]);
    const got = new Map<string, number>();
    const add = (k: string, v: number) => { if (v) got.set(k, (got.get(k) ?? 0) + v); };
    for (const f of flows) {
      if (f.proto !== 'TCP' && f.proto !== 'UDP') continue;
      add(`${f.proto} ${f.saddr}:${f.sport} > ${f.daddr}:${f.dport}`, f.spkts);
      add(`${f.proto} ${f.daddr}:${f.dport} > ${f.saddr}:${f.sport}`, f.dpkts);
    }
    assert.ok(expected.size > 0, 'tshark saw TCP/UDP traffic');
    const diff: string[] = [];
    for (const k of new Set([...expected.keys(), ...got.keys()])) {
      if ((expected.get(k) ?? 0) !== (got.get(k) ?? 0)) diff.push(`${k}: tshark ${expected.get(k) ?? 0}, ours ${got.get(k) ?? 0}`);
    }
    assert.deepEqual(diff.slice(0, 10), [], `${diff.length} tuples differ`);
  });
}
