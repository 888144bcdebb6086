// The lake's tier schemas (sinks/parquet/schema.ts) and GeoIP enrichment (enrich/geoip.ts), end to
// end through `damselfly run`: every tier's files hold exactly the seed's fields, in the seed's
// order, with its types (plus community_id last), in v1/v2 folders with the seed's file names;
// GeoIP columns match databases the test builds (MaxMind::DB::Writer) and MaxMind's own test
// databases; what no database answers is NULL, never invented; a missing or broken database is a
// clear start-up error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, ROOT, sharedData, missingShared, duckQuery } from '../helpers.js';
import { TCP, tcpFrame, udpFrame, writePcap } from '../sensor/helpers.js';

/** The seed's schema reference (Parquet Schema: 44/54/60/63 fields), name and DuckDB type. */
const SEED_44 = `version USMALLINT, flowid VARCHAR, obname VARCHAR, stime TIMESTAMP, etime TIMESTAMP, dur UINTEGER, rtt UINTEGER,
  pcr INTEGER, proto VARCHAR, saddr VARCHAR, daddr VARCHAR, sport USMALLINT, dport USMALLINT, iflags VARCHAR, uflags VARCHAR,
  stcpseq UINTEGER, dtcpseq UINTEGER, svlan USMALLINT, dvlan USMALLINT, spkts UBIGINT, dpkts UBIGINT, sbytes UBIGINT,
  dbytes UBIGINT, sentropy UTINYINT, dentropy UTINYINT, ssmallpktcnt UINTEGER, dsmallpktcnt UINTEGER, slargepktcnt UINTEGER,
  dlargepktcnt UINTEGER, snonemptypktcnt UINTEGER, dnonemptypktcnt UINTEGER, sfirstnonemptycnt USMALLINT,
  dfirstnonemptycnt USMALLINT, smaxpktsize USMALLINT, dmaxpktsize USMALLINT, savgpayload USMALLINT, davgpayload USMALLINT,
  sstdevpayload USMALLINT, dstdevpayload USMALLINT, spd VARCHAR, spdt VARCHAR, reason VARCHAR, smac VARCHAR, dmac VARCHAR`;
const BASIC_10 = `scountry VARCHAR, dcountry VARCHAR, scity VARCHAR, dcity VARCHAR, sasn UINTEGER, dasn UINTEGER,
  ndpi_appid VARCHAR, ndpi_category VARCHAR, ndpi_risk_score UINTEGER, ndpi_risk_severity UTINYINT`;
const PRO_6 = 'sasnorg VARCHAR, dasnorg VARCHAR, ndpi_ja4 VARCHAR, ndpi_ja3s VARCHAR, ndpi_tcp_fp VARCHAR, ndpi_fp VARCHAR';
const ENT_3 = 'anomaly_score FLOAT, anomaly_severity VARCHAR, anomaly_factors VARCHAR';
const parse = (s: string): [string, string][] => s.split(',').map((x) => x.trim().split(/\s+/) as [string, string]);
const EXPECTED: Record<string, { version: number; cols: [string, string][] }> = {
  community: { version: 1, cols: parse(`${SEED_44}, community_id VARCHAR`) },
  basic: { version: 1, cols: parse(`${SEED_44}, ${BASIC_10}, community_id VARCHAR`) },
  professional: { version: 2, cols: parse(`${SEED_44}, ${BASIC_10}, ${PRO_6}, community_id VARCHAR`) },
  enterprise: { version: 2, cols: parse(`${SEED_44}, ${BASIC_10}, ${PRO_6}, ${ENT_3}, community_id VARCHAR`) },
};

const query = duckQuery;

const T0 = Date.UTC(2026, 10, 27, 13, 14, 15) * 1000;
/** Flows between addresses the test's databases and MaxMind's test databases know (and some nobody knows). */
function capture(path: string): void {
  const flows: [string, string][] = [
    ['10.1.2.3', '10.2.0.9'], // fixture: AA Alphaville AS64501 "Alpha Net" → BB, no city, no AS
    ['10.3.0.1', '10.1.9.9'], // fixture: nothing → AA
    ['81.2.69.142', '89.160.20.112'], // MaxMind test data: GB London → SE Linköping AS29518 "Bredband2 AB"
    ['216.160.83.56', '1.128.0.1'], // US Milton AS209 (no organization) → AS1221 "Telstra Pty Ltd" (no city record)
  ];
  const frames = flows.flatMap(([a, b], i) => [
    { ts: T0 + i * 1000, data: udpFrame(a, b, 40000 + i, 53) },
    { ts: T0 + i * 1000 + 10, data: udpFrame(b, a, 53, 40000 + i) },
  ]);
  frames.push({ ts: T0 + 9000, data: tcpFrame('10.1.2.3', '10.3.0.1', 41000, 443, TCP.S, 7) });
  writePcap(path, frames);
}

describe('lake tiers and GeoIP', { timeout: 300_000 }, () => {
  const t = tempDir();
  const pcap = join(t.dir, 'geo.pcap');
  const cityDb = join(t.dir, 'city.mmdb');
  const asnDb = join(t.dir, 'asn.mmdb');
  const cfg = join(t.dir, 'license.yaml');
  before(() => {
    capture(pcap);
    // an Enterprise license (the tier caps what a sink writes), issued by a key the config trusts
    const key = (f: string): string => {
      const r = runCli(['license', 'keygen', '--out', join(t.dir, f)]);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    const issuer = key('issuer.key');
    key('sensor.key');
    const l = runCli(['license', 'issue', '--key', join(t.dir, 'issuer.key'), '--id', 'lic_test', '--tier', 'enterprise', '--company', 'Test',
      '--email', 't@example.com', '--observation', 'lab-1', '--expires', '2099-01-01', '--out', join(t.dir, 'license.json')]);
    assert.equal(l.status, 0, l.stderr);
    writeFileSync(cfg, `license:\n  path: ${join(t.dir, 'license.json')}\n  trusted_keys: ${issuer}\n  signing_key: ${join(t.dir, 'sensor.key')}\n`);
    for (const [kind, out] of [['city', cityDb], ['asn', asnDb]] as const) {
      const p = spawnSync('perl', [join(ROOT, 'test', 'sinks', 'fixtures', 'make-mmdb.pl'), kind, out], { encoding: 'utf8' });
      assert.equal(p.status, 0, `perl MaxMind::DB::Writer (libmaxmind-db-writer-perl): ${p.stderr}`);
    }
  });
  after(() => t.cleanup());

  function run(tier: string, out: string, extra: string[] = []): void {
    const r = runCli(['run', '-c', cfg, '-i', pcap, '--parquet-dir', out, '--parquet-schema', tier, '--observation', 'lab-1', '--no-builtin-analyzers', '--ndpi', ...extra]);
    assert.equal(r.status, 0, r.stderr);
  }

  for (const [tier, exp] of Object.entries(EXPECTED)) {
    it(`${tier}: exactly the seed's ${exp.cols.length - 1} fields + community_id, in order and typed; v${exp.version} folder and the seed's file name`, async () => {
      const out = join(t.dir, `t-${tier}`);
      run(tier, out);
      const files = await query(`SELECT DISTINCT filename AS f FROM read_parquet('${out}/**/*.parquet', filename=true)`);
      assert.equal(files.length, 1);
      const f = String(files[0]!.f).slice(out.length + 1);
      const name = exp.version === 1 ? 'damselfly-v1-20261127-131415.parquet' : 'damselfly-lab-1-v2-20261127-131415.parquet';
      assert.equal(f, `lab-1/v${exp.version}/year=2026/month=11/day=27/${name}`);
      const cols = await query(`DESCRIBE SELECT * FROM read_parquet('${out}/**/*.parquet', hive_partitioning=false)`);
      assert.deepEqual(cols.map((c) => [c.column_name, c.column_type]), exp.cols);
      const kv = Object.fromEntries((await query(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${out}/**/*.parquet')`)).map((r) => [r.k, r.v]));
      assert.equal(kv['damselfly.tier'], tier);
      assert.equal(kv['damselfly.schema_version'], String(exp.version));
      assert.deepEqual(Object.keys(JSON.parse(String(kv['damselfly.fields'])) as object), exp.cols.map((c) => c[0]), 'every column described in the metadata');
      const [v] = await query(`SELECT min(version)::INTEGER AS lo, max(version)::INTEGER AS hi, count(*)::INTEGER AS n FROM read_parquet('${out}/**/*.parquet')`);
      assert.deepEqual([v!.lo, v!.hi, v!.n], [exp.version, exp.version, 5]);
      if (tier !== 'community') {
        // no GeoIP database: the columns exist and are NULL, as are the anomaly fields without scores
        const nulls = await query(`SELECT count(scountry)::INTEGER AS c, count(sasn)::INTEGER AS a, count(ndpi_appid)::INTEGER AS app FROM read_parquet('${out}/**/*.parquet')`);
        assert.deepEqual([nulls[0]!.c, nulls[0]!.a], [0, 0]);
        assert.equal(nulls[0]!.app, 5, 'nDPI labels are there (--ndpi)');
        const st = await query(`SELECT path_in_schema::VARCHAR AS c, stats_null_count::INTEGER AS n FROM parquet_metadata('${out}/**/*.parquet') WHERE path_in_schema IN ('scountry', 'sasn', 'saddr')`);
        assert.deepEqual(Object.fromEntries(st.map((r) => [r.c, r.n])), { scountry: 5, sasn: 5, saddr: 0 }, 'null counts in the statistics');
      }
    });
  }

  it('GeoIP from databases the test built: known answers; NULL where a database says nothing', async () => {
    const out = join(t.dir, 'geo-fixture');
    run('professional', out, ['--geoip-city-db', cityDb, '--geoip-asn-db', asnDb]);
    const rows = await query(`SELECT saddr, daddr, scountry, dcountry, scity, dcity, sasn::INTEGER AS sasn, dasn::INTEGER AS dasn, sasnorg, dasnorg
      FROM read_parquet('${out}/**/*.parquet') WHERE saddr LIKE '10.%' ORDER BY stime`);
    assert.deepEqual(rows.map((r) => [r.saddr, r.daddr, r.scountry, r.dcountry, r.scity, r.dcity, r.sasn, r.dasn, r.sasnorg, r.dasnorg]), [
      ['10.1.2.3', '10.2.0.9', 'AA', 'BB', 'Alphaville', null, 64501, null, 'Alpha Net', null],
      ['10.3.0.1', '10.1.9.9', null, 'AA', null, 'Alphaville', null, 64501, null, 'Alpha Net'],
      ['10.1.2.3', '10.3.0.1', 'AA', null, 'Alphaville', null, 64501, null, 'Alpha Net', null],
    ]);
    // Basic has no AS organization columns, and the same answers for the rest
    const basic = join(t.dir, 'geo-basic');
    run('basic', basic, ['--geoip-city-db', cityDb, '--geoip-asn-db', asnDb]);
    const b = await query(`SELECT scountry, scity, sasn::INTEGER AS sasn FROM read_parquet('${basic}/**/*.parquet') WHERE saddr = '10.1.2.3' AND dport = 53`);
    assert.deepEqual(b.map((r) => [r.scountry, r.scity, r.sasn]), [['AA', 'Alphaville', 64501]]);
  });

  const mm = sharedData('maxmind/test-data');
  it('GeoIP from MaxMind\'s test databases: country, city, ASN and organization as published', { skip: mm ? false : missingShared('maxmind/test-data') }, async () => {
    const out = join(t.dir, 'geo-maxmind');
    run('professional', out, ['--geoip-city-db', join(mm!, 'GeoLite2-City-Test.mmdb'), '--geoip-asn-db', join(mm!, 'GeoLite2-ASN-Test.mmdb')]);
    const rows = await query(`SELECT saddr, scountry, scity, sasn::INTEGER AS sasn, sasnorg, daddr, dcountry, dcity, dasn::INTEGER AS dasn, dasnorg
      FROM read_parquet('${out}/**/*.parquet') WHERE saddr NOT LIKE '10.%' ORDER BY stime`);
    assert.deepEqual(rows.map((r) => Object.values(r)), [
      ['81.2.69.142', 'GB', 'London', null, null, '89.160.20.112', 'SE', 'Linköping', 29518, 'Bredband2 AB'],
      ['216.160.83.56', 'US', 'Milton', 209, null, '1.128.0.1', null, null, 1221, 'Telstra Pty Ltd'],
    ]);
    // the country database alone gives the country
    const only = join(t.dir, 'geo-country');
    run('basic', only, ['--geoip-country-db', join(mm!, 'GeoLite2-Country-Test.mmdb')]);
    const c = await query(`SELECT scountry, dcountry, scity FROM read_parquet('${only}/**/*.parquet') WHERE saddr = '81.2.69.142'`);
    assert.deepEqual(c.map((r) => Object.values(r)), [['GB', 'SE', null]]);
  });

  it('a missing, unreadable or wrong database stops the run before it starts: exit 2, one line naming the path', () => {
    const cases: [string[], RegExp][] = [
      [['--geoip-city-db', join(t.dir, 'nope.mmdb')], /geoip\.city_db: cannot read .*nope\.mmdb: no such file/],
      [['--geoip-asn-db', pcap], /geoip\.asn_db: .*geo\.pcap is not a MaxMind database/],
      [['--geoip-asn-db', cityDb], /geoip\.asn_db: .*city\.mmdb is a GeoLite2-City database, not the kind this key takes/],
    ];
    for (const [flags, re] of cases) {
      const r = runCli(['run', '-c', cfg, '-i', pcap, '--parquet-dir', join(t.dir, 'bad'), '--parquet-schema', 'basic', '--no-builtin-analyzers', ...flags]);
      assert.equal(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.match(lines[lines.length - 1]!, re);
      assert.ok(!existsSync(join(t.dir, 'bad', 'lab-1')), 'nothing written');
    }
  });
});
