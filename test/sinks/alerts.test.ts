// Alerts sink: suppression window per (analyzer, key), JSONL file, stdout-shaped output, and the
// HTTP webhook with retries against a local server on 127.0.0.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { AlertSink, AlertSuppressor, WebhookOutput } from '../../sinks/alerts/index.js';
import type { AlertEvent } from '../../streams/schema.js';
import { tempDir } from '../helpers.js';
import { EventBatch } from '../../streams/events/batch.js';

function alert(i: number, key: string, tsMs: number, analyzer = 'dga'): AlertEvent {
  return {
    type: 'alert', v: 1, obname: 'test', ts: tsMs * 1000, id: `id-${i}`, analyzer, score: 0.95, severity: 'CRITICAL',
    reason: 'dga domain', factors: { i }, key, flowid: `f${i}`, community_id: '', saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 1, dport: 53,
  };
}

test('suppression: one alert per analyzer+key per window of event time', () => {
  const s = new AlertSuppressor(60_000);
  assert.equal(s.admit(alert(1, 'a', 1000)), true);
  assert.equal(s.admit(alert(2, 'a', 30_000)), false);
  assert.equal(s.admit(alert(3, 'b', 30_000)), true);
  assert.equal(s.admit(alert(4, 'a', 30_000, 'threat-feed')), true, 'other analyzer, same key');
  assert.equal(s.admit(alert(5, 'a', 61_001)), true, 'window elapsed');
  assert.equal(s.suppressed, 1);
});

test('JSONL file output with suppression', async () => {
  const { dir, cleanup } = tempDir('damselfly-alerts-');
  try {
    const file = path.join(dir, 'alerts.jsonl');
    const sink = new AlertSink({ file, suppressMs: 10_000 });
    await sink.open();
    await sink.write(EventBatch.fromRows('alert', [alert(1, 'x', 0), alert(2, 'x', 5000), alert(3, 'y', 5000)]));
    await sink.write(EventBatch.fromRows('alert', [alert(4, 'x', 20_000)]));
    const r = await sink.close();
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AlertEvent);
    assert.deepEqual(lines.map((a) => a.id), ['id-1', 'id-3', 'id-4']);
    assert.equal(r.rows, 3);
    assert.deepEqual({ ...sink.stats() }, { received: 4, written: 3, errors: 0, suppressed: 1, webhookDropped: 0 });
  } finally {
    cleanup();
  }
});

test('webhook: retried on 503 until delivered; 4xx not retried and counted', async () => {
  const got: unknown[] = [];
  let calls = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls++;
      if (req.url === '/bad') res.writeHead(400).end();
      else if (calls <= 2) res.writeHead(503).end();
      else {
        got.push(JSON.parse(body));
        res.writeHead(204).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  try {
    const sink = new AlertSink({ webhook: { url: `http://127.0.0.1:${port}/hook`, initialDelayMs: 5, maxAttempts: 5 }, suppressMs: 0 });
    await sink.open();
    await sink.write(EventBatch.fromRows('alert', [alert(1, 'a', 0), alert(2, 'b', 0)]));
    assert.equal(calls, 3, 'two 503s then success');
    assert.equal(got.length, 1);
    assert.deepEqual((got[0] as AlertEvent[]).map((a) => a.id), ['id-1', 'id-2']);
    await sink.close();

    const bad = new WebhookOutput({ url: `http://127.0.0.1:${port}/bad`, initialDelayMs: 5, maxAttempts: 4 });
    const before = calls;
    await bad.write([alert(3, 'c', 0)]);
    assert.equal(calls - before, 1, '400 is not retried');
    assert.equal(bad.dropped, 1);

    const dead = new WebhookOutput({ url: 'http://127.0.0.1:1/none', initialDelayMs: 2, maxAttempts: 3 });
    await dead.write([alert(4, 'd', 0)]);
    assert.equal(dead.attempts, 3, 'connection refused is retried');
    assert.equal(dead.dropped, 1);
  } finally {
    server.close();
  }
});
