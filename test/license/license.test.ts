// Licenses and signed provenance (license/), through the CLI: keygen, issue and verify; valid,
// expired, not yet valid, wrong key, edited and missing licenses accepted or refused as they should;
// the license caps the tier `run` writes; every Parquet file is signed, and `damselfly verify`
// finds a changed byte of data, a changed metadata value, an unsigned file and an untrusted signer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir } from '../helpers.js';
import { TCP, tcpFrame, udpFrame, writePcap } from '../sensor/helpers.js';
import { ParquetSink } from '../../sinks/parquet/index.js';
import { EventBatch } from '../../streams/events/batch.js';

const T0 = Date.UTC(2026, 10, 27, 13, 14, 15) * 1000;

function ok(args: string[]): string {
  const r = runCli(args);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function lastLine(s: string): string {
  const l = s.trim().split('\n');
  return l[l.length - 1]!;
}

describe('licenses and provenance', { timeout: 300_000 }, () => {
  const t = tempDir();
  const d = (f: string): string => join(t.dir, f);
  let issuer = '';
  let other = '';
  let sensorKey = '';
  const pcap = d('x.pcap');
  before(() => {
    issuer = ok(['license', 'keygen', '--out', d('issuer.key')]);
    other = ok(['license', 'keygen', '--out', d('other.key')]);
    sensorKey = ok(['license', 'keygen', '--out', d('sensor.key')]);
    writePcap(pcap, [
      { ts: T0, data: udpFrame('10.0.0.1', '10.0.0.2', 40000, 53) },
      { ts: T0 + 10, data: udpFrame('10.0.0.2', '10.0.0.1', 53, 40000) },
      { ts: T0 + 20, data: tcpFrame('10.0.0.1', '10.0.0.3', 41000, 443, TCP.S, 5) },
    ]);
  });
  after(() => t.cleanup());

  const issue = (out: string, over: string[] = [], key = d('issuer.key')): void => {
    const expires = over.includes('--expires') ? [] : ['--expires', '2099-12-31'];
    ok(['license', 'issue', '--key', key, '--id', 'lic_001', '--tier', 'professional', '--company', 'Example Corp', '--email', 'soc@example.com',
      '--observation', 'lab-1', ...expires, ...over, '--out', out]);
  };

  it('keygen writes a 0600 key file and prints its public key; issue writes the seed\'s license JSON', () => {
    assert.match(issuer, /^[A-Za-z0-9+/]{43}=$/);
    const mode = (statSync(d('issuer.key')).mode & 0o777).toString(8);
    assert.equal(mode, '600');
    issue(d('lic.json'));
    const l = JSON.parse(readFileSync(d('lic.json'), 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(l), ['id', 'tier', 'customer_email', 'company', 'observation', 'issued_at', 'expires_at', 'signature']);
    assert.equal(l.expires_at, '2099-12-31T00:00:00Z');
    const again = runCli(['license', 'keygen', '--out', d('issuer.key')]);
    assert.equal(again.status, 2, 'an existing key is never overwritten');
  });

  it('verify: valid, expired, not yet valid, wrong key, edited tier, missing — accepted or refused', () => {
    issue(d('valid.json'));
    issue(d('expired.json'), ['--issued', '2020-01-01', '--expires', '2021-01-01']);
    issue(d('future.json'), ['--issued', '2098-01-01']);
    issue(d('wrongkey.json'), [], d('other.key'));
    const edited = JSON.parse(readFileSync(d('valid.json'), 'utf8')) as Record<string, string>;
    edited.tier = 'enterprise';
    writeFileSync(d('edited.json'), JSON.stringify(edited));
    const cases: [string, number, RegExp][] = [
      ['valid.json', 0, /license lic_001: valid: professional for Example Corp <soc@example.com>/],
      ['expired.json', 1, /REFUSED: expired at 2021-01-01/],
      ['future.json', 1, /REFUSED: not valid before 2098-01-01/],
      ['wrongkey.json', 1, /REFUSED: the signature does not verify with any trusted issuer key/],
      ['edited.json', 1, /REFUSED: the signature does not verify/],
    ];
    for (const [f, code, re] of cases) {
      const r = runCli(['license', 'verify', d(f), '--trusted-keys', issuer]);
      assert.equal(r.status, code, `${f}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, re, f);
    }
    const missing = runCli(['license', 'verify', d('nope.json'), '--trusted-keys', issuer]);
    assert.equal(missing.status, 2);
    assert.match(lastLine(missing.stderr), /cannot read .*nope\.json/);
    // two trusted issuers: either one's license is accepted
    assert.equal(runCli(['license', 'verify', d('wrongkey.json'), '--trusted-keys', `${issuer},${other}`]).status, 0);
  });

  function run(out: string, license: string | undefined, tier: string): { status: number | null; stderr: string } {
    const cfg = d(`cfg-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(cfg, `license:\n${license ? `  path: ${license}\n` : ''}  trusted_keys: ${issuer}\n  signing_key: ${d('sensor.key')}\n`);
    return runCli(['run', '-c', cfg, '-i', pcap, '--parquet-dir', out, '--parquet-schema', tier, '--no-builtin-analyzers']);
  }

  it('the license caps the tier: none → community with one warning; professional license, enterprise asked → professional', () => {
    const a = run(d('cap-none'), undefined, 'basic');
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stderr.split('\n').filter((l) => /needs a license/.test(l)).length, 1, a.stderr);
    assert.match(ok(['verify', d('cap-none'), '--format', 'json']), /"tier":"community"/);
    issue(d('pro.json'));
    const b = run(d('cap-pro'), d('pro.json'), 'enterprise');
    assert.equal(b.status, 0, b.stderr);
    assert.match(b.stderr, /license lic_001 is professional: writing the professional schema/);
    const v = JSON.parse(ok(['verify', d('cap-pro'), '--format', 'json', '--trusted-keys', issuer])) as { tier: string; license: { id: string; valid: boolean } };
    assert.equal(v.tier, 'professional');
    assert.deepEqual([v.license.id, v.license.valid], ['lic_001', true]);
  });

  it('a refused license stops the run before it starts: exit 2, one line', () => {
    issue(d('exp2.json'), ['--issued', '2020-01-01', '--expires', '2021-01-01']);
    for (const [f, re] of [['exp2.json', /license .*exp2\.json \(lic_001\) refused: expired/], ['wrongkey.json', /refused: the signature does not verify/], ['none.json', /license: cannot read .*none\.json: no such file/]] as const) {
      const r = run(d(`refused-${f}`), d(f), 'basic');
      assert.equal(r.status, 2, `${f}: ${r.stderr}`);
      assert.match(lastLine(r.stderr), re);
    }
  });

  it('verify proves who wrote a file and that nobody changed its bytes or metadata', async () => {
    issue(d('pro2.json'));
    const out = d('signed');
    const r = run(out, d('pro2.json'), 'professional');
    assert.equal(r.status, 0, r.stderr);
    const good = runCli(['verify', out, '--trusted-signers', sensorKey, '--trusted-keys', issuer]);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /^OK {3}.*signer [0-9a-f]{16} \(trusted\), license lic_001 \(professional, Example Corp, valid\), tier professional, 2 rows/m);
    const file = good.stdout.trim().split(' ')[3]!.replace(/:$/, '');
    const bytes = readFileSync(file);
    const check = (buf: Buffer, re: RegExp, extra: string[] = []): void => {
      writeFileSync(d('copy.parquet'), buf);
      const v = runCli(['verify', d('copy.parquet'), ...extra]);
      assert.equal(v.status, 1, v.stdout);
      assert.match(v.stdout, re);
    };
    // one byte of a data page
    const data = Buffer.from(bytes);
    data[40] = data[40]! ^ 0x01;
    check(data, /FAIL .*the content hash does not match the bytes/);
    // a metadata value, same length (the company name)
    const meta = Buffer.from(bytes);
    const at = meta.lastIndexOf(Buffer.from('Example Corp'));
    assert.ok(at > 0);
    meta.write('Exemple Corp', at);
    check(meta, /FAIL .*the signature does not match the metadata/);
    // an untrusted signer
    check(bytes, /FAIL .*signer [0-9a-f]{16} is not one of the trusted signers/, ['--trusted-signers', other]);
    // a file without provenance
    const sink = new ParquetSink({ dir: d('unsigned'), observation: 'x', unsigned: true });
    await sink.write(EventBatch.fromRows('flow', [endFlow()]));
    const res = await sink.close();
    const u = runCli(['verify', res.files[0]!]);
    assert.equal(u.status, 1);
    assert.match(u.stdout, /FAIL .*unsigned/);
  });
});

function endFlow(): Record<string, unknown> {
  return { type: 'flow', kind: 'end', seq: 1, flowid: '00000000-0000-5000-8000-000000000001', obname: 'x', ts: T0, stime: T0, etime: T0, version: 1, proto: 'UDP', saddr: '10.0.0.1', daddr: '10.0.0.2' };
}
