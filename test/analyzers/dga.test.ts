// DGA analyzer: quality floor of the shipped model on the held-out split (recomputed from nDPI's
// lists with the training seed; no retraining here), and the analyzer itself in its sandbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startAnalyzers, BUILTIN_DIR } from '../../analyzers/runtime/index.js';
import { Forest } from '../../analyzers/sdk/forest.js';
import { domainFeatures, FEATURE_NAMES, PACKED_LEXICON_FORMAT, splitDomain, unpackLexicon } from '../../analyzers/builtin/dga/features.js';
import { dataAvailable, DEFAULT_DGA_DATA, detectionAtFpr, loadSplit, rocAuc } from '../../analyzers/builtin/dga/dataset.js';
import type { DgaModel } from '../../analyzers/builtin/dga/model.js';
import { EmbeddedTransport } from '../../streams/embedded/index.js';
import { topicFor, type AlertEvent } from '../../streams/schema.js';
import { dnsEvent, tlsEvent, publishRows } from './fixtures.js';

const MODEL = path.join(BUILTIN_DIR, 'dga', 'model.json');
const model = JSON.parse(readFileSync(MODEL, 'utf8')) as DgaModel;

test('dga: shipped model matches the feature code', () => {
  assert.deepEqual(model.features, [...FEATURE_NAMES]);
  assert.ok(model.trees.length >= 10);
  assert.ok(model.threshold > 0.5 && model.threshold < 1);
  assert.ok(Object.keys(unpackLexicon(model.lexicon).trigram).length > 1000, 'popular-domain trigram table present');
  assert.equal((model.lexicon as { format?: string }).format, PACKED_LEXICON_FORMAT, 'model.json holds the packed lexicon (fast to load)');
});

test('dga: domain splitting', () => {
  assert.deepEqual(splitDomain('WWW.Example.COM.'), { name: 'www.example.com', label: 'example', tld: 'com', subdomains: 1 });
  assert.equal(splitDomain('hqxf.com.jm').label, 'hqxf');
  assert.equal(splitDomain('hqxf.com.jm').tld, 'com.jm');
  assert.equal(splitDomain('axalcuicmei.ddns.net').label, 'axalcuicmei');
});

test('dga: AUC >= 0.98 on the held-out split', { timeout: 120_000 }, (t) => {
  if (!dataAvailable()) {
    t.skip(`skipped: ${DEFAULT_DGA_DATA} (../shared/data/ndpi/dga) is absent`);
    return;
  }
  const split = loadSplit();
  assert.ok(split.test.length > 10000);
  // The held-out names never reached the lexicon: none of them is a training name.
  const train = new Set(split.train.map((s) => s.name));
  assert.equal(split.test.filter((s) => train.has(s.name)).length, 0);
  const f = new Forest(model);
  const scores = split.test.map((s) => f.predict(domainFeatures(s.name, model.lexicon)));
  const labels = split.test.map((s) => s.label);
  const auc = rocAuc(scores, labels);
  const at1 = detectionAtFpr(scores, labels, 0.01);
  t.diagnostic(`held-out: n=${split.test.length} AUC=${auc.toFixed(4)} detection@1%FPR=${(at1.detection * 100).toFixed(1)}%`);
  assert.ok(auc >= 0.98, `AUC ${auc.toFixed(4)} < 0.98`);
  assert.ok(at1.detection >= 0.7, `detection at 1% FPR ${at1.detection}`);
  // The shipped metrics are those of this split (same seed, same code).
  const meta = model.meta as { test: { auc: number } };
  assert.ok(Math.abs(meta.test.auc - auc) < 0.002, `model.json says AUC ${meta.test.auc}, recomputed ${auc}`);
});

const DGA_NAMES = ['kq0qw6o2siwq.org', 'hwevqwlocbvmrjdor.net', 'xxahvyvbpyvw.com', 'fzbog6zr8mry1h3xtd.net', 'ndtwakvvakkovtcb.eu'];
const BENIGN_NAMES = ['www.google.com', 'mail.wikipedia.org', 'cdn.cloudflare.net', 'github.com', 'api.weather.com', 'docs.python.org', '1.0.0.10.in-addr.arpa'];

test('dga: the analyzer in its sandbox alerts on DGA names in DNS and TLS, not on popular ones', { timeout: 60_000 }, async () => {
  const transport = new EmbeddedTransport({ maxQueued: 4096 });
  const alerts: AlertEvent[] = [];
  const h = await startAnalyzers(transport, {
    builtins: true, disable: ['threat-feed'], watch: false, tickMs: 0, publishAlerts: false, publishStats: false,
    onAlert: (a) => alerts.push(a),
  });
  try {
    assert.deepEqual(h.names, ['dga']);
    assert.equal(h.stats().dga!.state, 'running', h.stats().dga!.lastError);
    let i = 0;
    const dns = [...DGA_NAMES, ...BENIGN_NAMES].map((q) => dnsEvent(i++, q, { qtype: q.endsWith('arpa') ? 'PTR' : 'A' }));
    const tls = [tlsEvent(i++, 'uzsx6fgp2bgh.net'), tlsEvent(i++, 'www.microsoft.com')];
    await publishRows(transport, topicFor('dns'), dns);
    await publishRows(transport, topicFor('tls'), tls);
    await transport.close();
    await h.idle();
    const st = h.stats().dga!;
    assert.equal(st.events, dns.length + tls.length);
    assert.equal(st.eventErrors, 0, st.lastError);
    const named = alerts.map((a) => (a.factors as { name: string }).name).sort();
    assert.deepEqual(named, [...DGA_NAMES, 'uzsx6fgp2bgh.net'].sort());
    for (const a of alerts) {
      assert.equal(a.analyzer, 'dga');
      assert.ok(a.score >= model.threshold);
      assert.match(a.reason, /^DGA-like (DNS query|TLS server name) /);
    }
    assert.equal(alerts.find((a) => (a.factors as { name: string }).name === 'uzsx6fgp2bgh.net')!.flowid, tls[0]!.flowid);
  } finally {
    await h.stop();
  }
});
