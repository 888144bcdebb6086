// `sensor --format ecs` (sinks/jsonl/ecs.ts): one Elastic Common Schema document per event, in the
// order of the JSONL output, its ECS fields equal to the event's fields; only ECS top-level fields
// plus `damselfly.*`; and no field path holds two JSON types — in the ECS documents, and in the plain
// JSONL across event types (the TLS version is `tls_version`, flows' `version` stays a number).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { generateCapture } from '../../synth/index.js';
import { runCli, tempDir } from '../helpers.js';

type Doc = Record<string, unknown>;

function lines(stdout: string): Doc[] {
  return stdout.trim().split('\n').map((l) => JSON.parse(l) as Doc);
}

/** Every leaf path with the JSON types seen at it (arrays: their items). */
function typesByPath(docs: Doc[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const walk = (v: unknown, p: string): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x, `${p}[]`);
      return;
    }
    if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, p ? `${p}.${k}` : k);
      return;
    }
    const t = v === null ? 'null' : typeof v;
    let s = out.get(p);
    if (!s) out.set(p, (s = new Set()));
    s.add(t);
  };
  for (const d of docs) walk(d, '');
  return out;
}

function conflicts(docs: Doc[]): string[] {
  return [...typesByPath(docs)].filter(([, s]) => s.size > 1).map(([p, s]) => `${p}: ${[...s].join('/')}`);
}

const get = (d: Doc, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Doc | undefined)?.[k], d);

describe('ECS output', { timeout: 300_000 }, () => {
  const t = tempDir();
  let plain: Doc[] = [];
  let ecs: Doc[] = [];
  before(async () => {
    const pcap = join(t.dir, 'mix.pcap');
    await generateCapture({ out: pcap, packets: 40_000, seed: 9, truth: false });
    const a = runCli(['sensor', '-i', pcap, '--format', 'jsonl', '-q']);
    const b = runCli(['sensor', '-i', pcap, '--format', 'ecs', '-q']);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    plain = lines(a.stdout);
    ecs = lines(b.stdout);
  });
  after(() => t.cleanup());

  it('one document per event, in order, every event type present', () => {
    assert.equal(ecs.length, plain.length);
    const types = new Set(plain.map((e) => e.type));
    for (const ty of ['flow', 'dns', 'tls', 'http']) assert.ok(types.has(ty), `the capture has ${ty} events`);
    for (let i = 0; i < plain.length; i++) assert.equal(get(ecs[i]!, 'event.dataset'), `damselfly.${String(plain[i]!.type)}`, `line ${i + 1}`);
  });

  it('ECS fields equal the event\'s fields', () => {
    const seen = new Set<string>();
    for (let i = 0; i < plain.length; i++) {
      const e = plain[i]!;
      const d = ecs[i]!;
      const ts = Number(e.ts);
      assert.equal(Date.parse(String(d['@timestamp'])), Math.floor(ts / 1000));
      assert.equal(String(d['@timestamp']).slice(-7, -1), String(ts % 1_000_000).padStart(6, '0'), 'microseconds kept');
      assert.equal(get(d, 'ecs.version'), '8.11.0');
      assert.equal(get(d, 'observer.name'), e.obname);
      assert.equal(get(d, 'source.ip'), e.saddr);
      assert.equal(get(d, 'destination.port'), e.dport);
      assert.equal(get(d, 'network.community_id'), e.community_id);
      assert.equal(get(d, 'damselfly.flowid'), e.flowid);
      if (e.type === 'flow') {
        assert.equal(get(d, 'source.bytes'), e.sbytes);
        assert.equal(get(d, 'destination.packets'), e.dpkts);
        assert.equal(get(d, 'network.bytes'), Number(e.sbytes) + Number(e.dbytes));
        assert.equal(get(d, 'network.transport'), ({ TCP: 'tcp', UDP: 'udp', ICMP: 'icmp', ICMPv6: 'ipv6-icmp' } as Record<string, string>)[String(e.proto)]);
        assert.equal(get(d, 'event.duration'), Number(e.dur) * 1e6);
        assert.equal(get(d, 'damselfly.kind'), e.kind);
        if (e.smac) assert.match(String(get(d, 'source.mac')), /^[0-9A-F]{2}(-[0-9A-F]{2}){5}$/);
      } else if (e.type === 'dns') {
        assert.equal(get(d, 'dns.question.name'), e.query);
        assert.equal(get(d, 'dns.question.type'), e.qtype);
        assert.equal(((get(d, 'dns.answers') as unknown[] | undefined) ?? []).length, (e.answers as unknown[]).length);
      } else if (e.type === 'tls') {
        assert.equal(get(d, 'tls.client.server_name'), e.sni || undefined);
        assert.equal(get(d, 'tls.client.ja3'), e.ja3 || undefined);
        assert.equal(get(d, 'damselfly.ja4'), e.ja4 || undefined);
        if (e.tls_version) assert.equal(`TLSv${String(get(d, 'tls.version'))}`, e.tls_version);
      } else if (e.type === 'http') {
        assert.equal(get(d, 'http.request.method'), e.method || undefined);
        assert.equal(get(d, 'url.domain'), e.host || undefined);
        assert.equal(get(d, 'url.original'), e.uri || undefined);
      }
      seen.add(String(e.type));
    }
    assert.equal(seen.size, 4);
  });

  it('only ECS top-level fields and damselfly.*', () => {
    const allowed = new Set(['@timestamp', 'ecs', 'event', 'observer', 'source', 'destination', 'network', 'dns', 'tls', 'http', 'url', 'user_agent', 'damselfly']);
    const extra = new Set(ecs.flatMap((d) => Object.keys(d)).filter((k) => !allowed.has(k)));
    assert.deepEqual([...extra], []);
  });

  it('no field changes type: across ECS documents, and across event types in the JSONL', () => {
    assert.deepEqual(conflicts(ecs), []);
    assert.deepEqual(conflicts(plain), []);
  });
});
