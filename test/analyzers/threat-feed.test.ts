// Threat-feed analyzer: feed formats (comments, blanks and malformed lines counted, not fatal),
// ipsum from ../shared/data, matching of flows / DNS (query, CNAME, answers) / TLS (SNI, JA3) /
// HTTP host in the sandbox, feeds over HTTP, and reload when a feed file or URL changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startAnalyzers } from '../../analyzers/runtime/index.js';
import { FeedIndex } from '../../analyzers/builtin/threat-feed/feeds.js';
import { EmbeddedTransport } from '../../streams/embedded/index.js';
import { topicFor, type AlertEvent } from '../../streams/schema.js';
import { missingShared, sharedData, tempDir } from '../helpers.js';
import { dnsEvent, flowEvent, tlsEvent, writeFixtures, publishRows } from './fixtures.js';

const JA3_BAD = 'e7d705a3286e19ea42f587b344ee6865';
const JA3_OK = '0123456789abcdef0123456789abcdef';

const DOMAINS = `# domain list
; another comment

evil.example
0.0.0.0 tracker.example.net
*.wild.example.org
not a domain!!
bad..name
.dotted.example.com
`;
const JA3S = `# ja3 list
${JA3_BAD},Tofsee
${JA3_BAD.toUpperCase().slice(0, 31)}
zz${JA3_BAD.slice(2)}
`;
const CSV = `first_seen,ioc,malware
2026-01-01,198.51.100.0/24,x
2026-01-02,"c2.bad.example.com",y
2026-01-03,,z
`;
const IPS = `2001:db8:bad::/48
203.0.113.7 ; SBL123
300.1.1.1
10.9.8.0/33
`;

test('threat-feed: formats, comments and malformed lines', () => {
  const ix = new FeedIndex();
  const d = ix.load({ source: 'd', format: 'domain' }, DOMAINS);
  assert.deepEqual([d.entries, d.malformed], [4, 2]);
  assert.match(d.examples[0]!, /^line 7: not a domain!!/);
  const j = ix.load({ source: 'j', format: 'ja3' }, JA3S);
  assert.deepEqual([j.entries, j.malformed], [1, 2]);
  const c = ix.load({ source: 'c', format: 'csv', column: 'ioc' }, CSV);
  assert.deepEqual([c.entries, c.malformed], [2, 1]);
  const i = ix.load({ source: 'i', format: 'ip' }, IPS);
  assert.deepEqual([i.entries, i.malformed], [2, 2]);
  const s = ix.load({ source: 's', format: 'ipsum', min_count: 3 }, '1.1.1.1\t5\n2.2.2.2\t2\n3.3.3.3\tx\n');
  assert.deepEqual([s.entries, s.skipped, s.malformed], [1, 1, 1]);
  assert.equal(ix.matchDomain('a.b.evil.example')?.entry, 'evil.example');
  assert.deepEqual(ix.matchDomain('EVIL.example.'), ix.matchDomain('evil.example'));
  assert.equal(ix.matchDomain('notevil.example'), undefined);
  assert.equal(ix.matchDomain('evil.example', true)?.feed, 0);
  assert.equal(ix.matchDomain('x.c2.bad.example.com')?.feed, 2);
  assert.equal(ix.matchIp('198.51.100.200')?.entry, '198.51.100.0/24');
  assert.equal(ix.matchIp('2001:db8:bad:1::5')?.entry, '2001:db8:bad::/48');
  assert.equal(ix.matchIp('2001:db8:bae::1'), undefined);
  assert.equal(ix.matchIp('1.1.1.1')?.feed, 4);
  assert.equal(ix.matchIp('2.2.2.2'), undefined);
  assert.equal(ix.matchJa3(JA3_BAD.toUpperCase())?.feed, 1);
  assert.equal(ix.matchJa3(JA3_OK), undefined);
});

test('threat-feed: ipsum.txt from ../shared/data loads and matches', (t) => {
  const file = sharedData('ipsum/ipsum.txt');
  if (!file) {
    t.skip(missingShared('ipsum/ipsum.txt'));
    return;
  }
  const text = requireText(file);
  const lines = text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const ix = new FeedIndex();
  const t0 = performance.now();
  const r = ix.load({ source: file, format: 'ipsum', name: 'ipsum' }, text);
  t.diagnostic(`ipsum: ${r.entries} entries in ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(r.malformed, 0, r.examples.join('; '));
  assert.equal(r.entries, lines.length);
  for (const l of [lines[0]!, lines[Math.floor(lines.length / 2)]!, lines[lines.length - 1]!]) {
    const ip = l.split('\t')[0]!;
    assert.equal(ix.matchIp(ip)?.entry, ip);
  }
  assert.equal(ix.matchIp('192.0.2.123'), undefined);
  const strict = new FeedIndex().load({ source: file, format: 'ipsum', min_count: 3 }, text);
  const expected = lines.filter((l) => Number(l.split('\t')[1]) >= 3).length;
  assert.equal(strict.entries, expected);
  assert.equal(strict.skipped, lines.length - expected);
});

function requireText(file: string): string {
  return readFileSync(file, 'utf8');
}

test('threat-feed: the analyzer matches flows, DNS, TLS, HTTP in its sandbox; feeds over HTTP; reload on change', { timeout: 90_000 }, async (t) => {
  const { dir, cleanup } = tempDir('damselfly-tf-');
  let served = `# served\n${JA3_BAD}\n`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(served);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ja3.txt`;
  const ipsum = sharedData('ipsum/ipsum.txt');
  const transport = new EmbeddedTransport({ maxQueued: 4096 });
  const alerts: AlertEvent[] = [];
  try {
    writeFixtures(dir, {
      'domains.txt': DOMAINS,
      'iocs.csv': CSV,
      'ips.txt': IPS,
      'tf.yaml': [
        `files: [domains.txt, iocs.csv, ips.txt, "${url}"${ipsum ? `, ${JSON.stringify(ipsum)}` : ''}]`,
        'refresh_s: 0.3',
        'memory_mb: 256',
        'feeds:',
        '  - { source: domains.txt, format: domain, name: domains }',
        '  - { source: iocs.csv, format: csv, column: ioc, name: csv, score: 0.7 }',
        '  - { source: ips.txt, format: ip, name: ips }',
        `  - { source: "${url}", format: ja3, name: ja3 }`,
        ...(ipsum ? [`  - { source: ${JSON.stringify(ipsum)}, format: ipsum, name: ipsum }`] : []),
        '',
      ].join('\n'),
    });
    const h = await startAnalyzers(transport, {
      builtins: true, disable: ['dga'], configFiles: { 'threat-feed': path.join(dir, 'tf.yaml') },
      watch: true, tickMs: 0, publishAlerts: false, publishStats: false, onAlert: (a) => alerts.push(a),
    });
    try {
      const st0 = h.stats()['threat-feed']!;
      assert.equal(st0.state, 'running', st0.lastError);
      // Malformed lines are counted and reported (domains 2, csv 1, ips 2), not fatal.
      assert.equal(st0.scores.feed_malformed!.sum, 5);
      assert.equal(st0.scores.feed_entries!.count, ipsum ? 5 : 4);

      const ipsumHit = ipsum ? requireText(ipsum).split('\n').find((l) => /^\d/.test(l))!.split('\t')[0]! : undefined;
      let i = 0;
      const flows = [
        flowEvent(i++, { daddr: '2001:db8:bad:7::1', saddr: '2001:db8::5' }),
        flowEvent(i++, { saddr: '198.51.100.9' }),
        flowEvent(i++, { daddr: '192.0.2.50' }),
        ...(ipsumHit ? [flowEvent(i++, { daddr: ipsumHit })] : []),
      ];
      const dns = [
        dnsEvent(i++, 'www.evil.example'),
        dnsEvent(i++, 'innocent.example.com', { answers: [{ name: 'innocent.example.com', type: 'CNAME', ttl: 60, data: 'edge.tracker.example.net' }] }),
        dnsEvent(i++, 'cdn.example.org', { answers: [{ name: 'cdn.example.org', type: 'A', ttl: 60, data: '203.0.113.7' }] }),
        dnsEvent(i++, 'example.org'),
      ];
      const tls = [tlsEvent(i++, 'x.wild.example.org'), tlsEvent(i++, 'good.example.com', { ja3: JA3_BAD }), tlsEvent(i++, 'good.example.com', { ja3: JA3_OK })];
      const http = [{ type: 'http', v: 1, obname: 'test', ts: 1_700_000_000_000_000, flowid: 'h-1', community_id: '', saddr: '10.1.0.5', daddr: '198.18.0.1', sport: 50000, dport: 80, method: 'GET', host: 'C2.bad.example.com:8080', uri: '/', user_agent: 'x', status: 200 }];
      await publishRows(transport, topicFor('flow'), flows);
      await publishRows(transport, topicFor('dns'), dns);
      await publishRows(transport, topicFor('tls'), tls);
      await publishRows(transport, topicFor('http'), http);
      await waitFor(() => h.stats()['threat-feed']!.events >= flows.length + dns.length + tls.length + http.length, 20_000);
      const got = alerts.map((a) => `${(a.factors as { feed: string }).feed}|${(a.factors as { field: string }).field}|${(a.factors as { indicator: string }).indicator}`).sort();
      const want = [
        'ips|daddr|2001:db8:bad::/48',
        'csv|saddr|198.51.100.0/24',
        ...(ipsumHit ? [`ipsum|daddr|${ipsumHit}`] : []),
        'domains|dns.query|evil.example',
        'domains|dns.cname|tracker.example.net',
        'ips|dns.answer|203.0.113.7',
        'domains|tls.sni|wild.example.org',
        'ja3|tls.ja3|' + JA3_BAD,
        'csv|http.host|c2.bad.example.com',
      ].sort();
      assert.deepEqual(got, want);
      assert.equal(alerts.find((a) => (a.factors as { feed: string }).feed === 'csv' && a.reason.includes('saddr'))!.score, 0.7);
      assert.equal(h.stats()['threat-feed']!.eventErrors, 0);

      // A feed file edited on disk, and the URL's content changed (picked up on the refresh_s
      // schedule): the analyzer reloads with the new lists. Probe until both are in effect.
      const indicator = (a: AlertEvent) => (a.factors as { indicator: string }).indicator;
      writeFileSync(path.join(dir, 'domains.txt'), `${DOMAINS}fresh.example\n`);
      served = `${JA3_OK}\n`;
      let probe = 1000;
      const t0 = Date.now();
      while (!(alerts.some((a) => indicator(a) === 'fresh.example') && alerts.some((a) => indicator(a) === JA3_OK))) {
        assert.ok(Date.now() - t0 < 30_000, 'reload of the changed file and URL within 30 s');
        await publishRows(transport, topicFor('dns'), [dnsEvent(probe++, 'a.fresh.example')]);
        await publishRows(transport, topicFor('tls'), [tlsEvent(probe++, 'z.example.com', { ja3: JA3_OK })]);
        await new Promise((r) => setTimeout(r, 100));
      }
      await h.idle();
      alerts.length = 0;
      const before = h.stats()['threat-feed']!.events;
      await publishRows(transport, topicFor('tls'), [tlsEvent(probe++, 'z.example.com', { ja3: JA3_BAD }), tlsEvent(probe++, 'z.example.com', { ja3: JA3_OK })]);
      await waitFor(() => h.stats()['threat-feed']!.events >= before + 2, 20_000);
      assert.deepEqual(alerts.map(indicator), [JA3_OK], 'the old URL content is gone');
      assert.ok(h.stats()['threat-feed']!.reloads >= 2);
      t.diagnostic(`threat-feed reloads: ${h.stats()['threat-feed']!.reloads}`);
    } finally {
      await h.stop();
    }
  } finally {
    await transport.close();
    server.close();
    cleanup();
  }
});

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
