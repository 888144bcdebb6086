// Broker and data for the Kafka benchmarks: `--brokers host:port` uses a running broker; otherwise
// a fresh single-node broker is started with deploy/kafka/kafka.sh in a temp dir and stopped at the
// end (exit, SIGINT, SIGTERM). flowBatches() makes realistic, varied flow batches (seeded: IPv4/IPv6
// endpoints, TCP/UDP/ICMP, start/update/end, nDPI fields on a third), so that compression and the
// Arrow encoding see data like a sensor's rather than one record repeated.
import { PACKAGE_ROOT } from '../streams/package-root.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBatch } from '../streams/events/batch.js';

export const ROOT = PACKAGE_ROOT;
export const KAFKA_SH = join(ROOT, 'deploy', 'kafka', 'kafka.sh');

export function kafkaClasspath(): string {
  return execFileSync('bash', [KAFKA_SH, 'classpath'], { encoding: 'utf8' }).trim().split('\n').pop()!;
}

export function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

export function withBroker(): { bootstrap: string; stop: () => void } {
  const given = arg('brokers');
  if (given) return { bootstrap: given, stop: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), 'damselfly-kafka-bench-'));
  const out = execFileSync('bash', [KAFKA_SH, 'start', '--dir', dir], { encoding: 'utf8', env: { ...process.env, KAFKA_HEAP: '1g' } });
  const bootstrap = out.trim().split('\n').pop()!;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    execFileSync('bash', [KAFKA_SH, 'stop', '--dir', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      stop();
      process.exit(130);
    });
  }
  return { bootstrap, stop };
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T0 = 1_768_471_200_000_000;

/** `count` batches of `rows` varied flow records; a flow's records (same flowid) recur across batches. */
export function flowBatches(count: number, rows: number, seed = 42): EventBatch<'flow'>[] {
  const rand = rng(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const hex = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[int(16)];
    return s;
  };
  const ipv4 = (): string => `${pick([10, 172, 192, 93, 151])}.${int(256)}.${int(256)}.${1 + int(254)}`;
  const ipv6 = (): string => `2001:db8:${hex(4)}::${hex(4)}`;
  const mac = (): string => Array.from({ length: 6 }, () => hex(2)).join(':');
  const flows = Array.from({ length: Math.max(1, rows >> 1) }, () => `${hex(8)}-${hex(4)}-4${hex(3)}-${hex(4)}-${hex(12)}`);
  const out: EventBatch<'flow'>[] = [];
  for (let b = 0; b < count; b++) {
    const recs: Record<string, unknown>[] = [];
    for (let i = 0; i < rows; i++) {
      const v6 = rand() < 0.15;
      const proto = pick(['TCP', 'TCP', 'TCP', 'UDP', 'UDP', 'ICMP']);
      const stime = T0 + (b * rows + i) * 1000 + int(1000);
      const dur = int(120_000);
      const spkts = 1 + int(5000);
      const dpkts = int(5000);
      const kind = pick(['start', 'update', 'update', 'end'] as const);
      const r: Record<string, unknown> = {
        obname: 'sensor-01', ts: stime + dur * 1000, kind, seq: kind === 'start' ? 0 : 1 + int(20), version: 1, flowid: pick(flows), stime,
        etime: stime + dur * 1000, dur, rtt: int(300_000), pcr: int(201) - 100, proto, saddr: v6 ? ipv6() : ipv4(), daddr: v6 ? ipv6() : ipv4(),
        sport: proto === 'ICMP' ? 8 : 1024 + int(64000), dport: proto === 'ICMP' ? 0 : pick([443, 443, 80, 53, 22, 8080, 123]),
        iflags: proto === 'TCP' ? 'S' : '', uflags: proto === 'TCP' ? pick(['FSPA', 'SA', 'SPA', 'RSA']) : '', stcpseq: int(2 ** 32),
        dtcpseq: int(2 ** 32), svlan: pick([0, 0, 10]), dvlan: 0, spkts, dpkts, sbytes: spkts * (60 + int(1400)), dbytes: dpkts * (60 + int(1400)),
        sentropy: int(256), dentropy: int(256), ssmallpktcnt: int(spkts), dsmallpktcnt: int(dpkts + 1), slargepktcnt: int(spkts),
        dlargepktcnt: int(dpkts + 1), snonemptypktcnt: int(spkts), dnonemptypktcnt: int(dpkts + 1), sfirstnonemptycnt: int(1460),
        dfirstnonemptycnt: int(1460), smaxpktsize: 60 + int(1440), dmaxpktsize: 60 + int(1440), savgpayload: int(1400), davgpayload: int(1400),
        sstdevpayload: int(500), dstdevpayload: int(500), spd: Array.from({ length: int(9) }, () => pick(['S', 'D'])).join(''),
        spdt: Array.from({ length: int(9) }, (_, k) => String(k * int(50))).join(','), reason: kind === 'end' ? pick(['idle', 'end', 'rst', 'eof']) : '',
        smac: mac(), dmac: mac(), community_id: `1:${hex(26)}==`,
      };
      if (proto === 'TCP' && rand() < 0.5) Object.assign(r, { ndpi_ja4: `t13d1516h2_${hex(12)}_${hex(12)}`, ndpi_ja3s: hex(32) });
      if (rand() < 0.33) {
        Object.assign(r, {
          ndpi_appid: pick(['TLS.YouTube', 'DNS', 'HTTP', 'TLS.Google', 'QUIC.Netflix']), ndpi_category: pick(['Media', 'Network', 'Web', 'Streaming']),
          ndpi_risk_score: int(300), ndpi_risk_severity: int(4), ndpi_risk_list: pick(['', 'Known Proto on Non Std Port', 'Self-signed Cert,Obsolete TLS']),
          ndpi_tcp_fp: `2_64_64240_${hex(12)}/Linux`, ndpi_fp: hex(32),
        });
      }
      recs.push(r);
    }
    out.push(EventBatch.fromRows('flow', recs));
  }
  return out;
}
