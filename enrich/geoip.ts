// GeoIP/ASN enrichment from GeoLite2-compatible MaxMind databases (the seeds' `geoip:` section:
// country_db, city_db, asn_db), for the lake's Basic+ columns (scountry dcountry scity dcity sasn
// dasn, and Professional's sasnorg dasnorg) and for analyzers. Country comes from the country
// database, else from the city database's country. Look-ups are cached per address (bounded).
// A value a database does not give (private address, no city in the record, no database) is
// NULL — never invented. A missing or unreadable database is a start-up error naming the path.
import { readFileSync } from 'node:fs';
import { Reader, type AsnResponse, type CityResponse, type CountryResponse } from 'maxmind';
import { UserError } from '../streams/errors.js';
import { str, num, type Config, type SectionSpec } from '../streams/config.js';
import type { EventBatch } from '../streams/events/batch.js';
import type { ColumnData, StringData } from '../streams/events/columns.js';

export const GEOIP_DEFAULTS = { cacheSize: 100_000 } as const;

/** The `geoip` config section (the seeds' keys). */
export const GEOIP_CONFIG_SECTION: SectionSpec = {
  country_db: { type: 'string', description: 'GeoLite2/GeoIP2 Country database (.mmdb): scountry/dcountry', example: '/var/lib/GeoIP/GeoLite2-Country.mmdb' },
  city_db: { type: 'string', description: 'GeoLite2/GeoIP2 City database (.mmdb): scity/dcity, and the country when no country_db is set', example: '/var/lib/GeoIP/GeoLite2-City.mmdb' },
  asn_db: { type: 'string', description: 'GeoLite2 ASN database (.mmdb): sasn/dasn, sasnorg/dasnorg', example: '/var/lib/GeoIP/GeoLite2-ASN.mmdb' },
  cache_size: { type: 'int', default: GEOIP_DEFAULTS.cacheSize, min: 0, description: 'Addresses whose answers are cached (0: no cache)' },
};

export interface GeoIpOptions {
  countryDb?: string;
  cityDb?: string;
  asnDb?: string;
  cacheSize?: number;
}

/** What the databases say of one address; undefined where they say nothing. */
export interface GeoAnswer {
  country?: string;
  city?: string;
  asn?: number;
  asnOrg?: string;
}

/** The section's options; undefined when no database is configured. */
export function geoIpOptionsFromConfig(c: Config): GeoIpOptions | undefined {
  const o: GeoIpOptions = {
    countryDb: str(c, 'geoip', 'country_db') || undefined,
    cityDb: str(c, 'geoip', 'city_db') || undefined,
    asnDb: str(c, 'geoip', 'asn_db') || undefined,
    cacheSize: num(c, 'geoip', 'cache_size'),
  };
  return o.countryDb || o.cityDb || o.asnDb ? o : undefined;
}

function openDb<T extends CountryResponse | CityResponse | AsnResponse>(key: string, path: string, want: RegExp): Reader<T> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`geoip.${key}: cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`, { code: 'CONFIG' });
  }
  let r: Reader<T>;
  try {
    r = new Reader<T>(buf);
  } catch (e) {
    throw new UserError(`geoip.${key}: ${path} is not a MaxMind database (${(e as Error).message})`, { code: 'CONFIG' });
  }
  const type = String(r.metadata.databaseType ?? '');
  if (!want.test(type)) throw new UserError(`geoip.${key}: ${path} is a ${type || 'untyped'} database, not the kind this key takes`, { code: 'CONFIG' });
  return r;
}

export class GeoIp {
  private readonly country?: Reader<CountryResponse>;
  private readonly city?: Reader<CityResponse>;
  private readonly asn?: Reader<AsnResponse>;
  private readonly cache = new Map<string, GeoAnswer>();
  private readonly cacheSize: number;
  private s = { lookups: 0, cacheHits: 0, errors: 0 };

  /** Opens the configured databases; a missing, unreadable or wrong-kind file is a UserError naming it. */
  constructor(o: GeoIpOptions) {
    if (o.countryDb) this.country = openDb<CountryResponse>('country_db', o.countryDb, /country|city|enterprise/i);
    if (o.cityDb) this.city = openDb<CityResponse>('city_db', o.cityDb, /city|enterprise/i);
    if (o.asnDb) this.asn = openDb<AsnResponse>('asn_db', o.asnDb, /asn|isp/i);
    this.cacheSize = o.cacheSize ?? GEOIP_DEFAULTS.cacheSize;
  }

  /** The databases' answer for an address (cached). An address that does not parse gives nothing. */
  lookup(ip: string): GeoAnswer {
    this.s.lookups++;
    const hit = this.cache.get(ip);
    if (hit) {
      this.s.cacheHits++;
      return hit;
    }
    const a: GeoAnswer = {};
    try {
      const city = this.city?.get(ip) ?? null;
      const country = this.country ? this.country.get(ip) : city;
      const iso = country?.country?.iso_code ?? country?.registered_country?.iso_code;
      if (iso) a.country = iso;
      const name = city?.city?.names?.en;
      if (name) a.city = name;
      const as = this.asn?.get(ip) ?? null;
      if (as?.autonomous_system_number !== undefined) a.asn = as.autonomous_system_number;
      if (as?.autonomous_system_organization) a.asnOrg = as.autonomous_system_organization;
    } catch {
      this.s.errors++; // not an address (e.g. empty): no answer
    }
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) this.cache.clear();
      this.cache.set(ip, a);
    }
    return a;
  }

  stats(): { lookups: number; cacheHits: number; errors: number } {
    return { ...this.s };
  }
}

/** Columns the enrichment fills, by name. */
export const GEO_COLUMN_NAMES = ['scountry', 'dcountry', 'scity', 'dcity', 'sasn', 'dasn', 'sasnorg', 'dasnorg'] as const;
export type GeoColumn = (typeof GEO_COLUMN_NAMES)[number];

export interface EnrichedColumn {
  data: ColumnData;
  valid: Uint8Array;
}

/**
 * The GeoIP columns for rows `rows` of a flow batch, laid out over the whole batch (row i of a
 * column is batch row i; rows not asked for are NULL), with their validity.
 */
export function geoColumns(geo: GeoIp, batch: EventBatch, rows: readonly number[]): Record<GeoColumn, EnrichedColumn> {
  const n = batch.length;
  const sa: GeoAnswer[] = new Array(n);
  const da: GeoAnswer[] = new Array(n);
  for (const i of rows) {
    sa[i] = geo.lookup(batch.str('saddr', i));
    da[i] = geo.lookup(batch.str('daddr', i));
  }
  const text = (side: GeoAnswer[], pick: (a: GeoAnswer) => string | undefined): EnrichedColumn => {
    const offsets = new Int32Array(n + 1);
    const valid = new Uint8Array(n);
    let data = '';
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const a = side[i];
      const v = a ? pick(a) : undefined;
      if (v !== undefined) {
        valid[i] = 1;
        data += v;
        if (ascii && !/^[\x00-\x7f]*$/.test(v)) ascii = false;
      }
      offsets[i + 1] = data.length;
    }
    const col: StringData = { data, offsets, ascii };
    return { data: col, valid };
  };
  const number = (side: GeoAnswer[], pick: (a: GeoAnswer) => number | undefined): EnrichedColumn => {
    const out = new Uint32Array(n);
    const valid = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const a = side[i];
      const v = a ? pick(a) : undefined;
      if (v !== undefined) {
        out[i] = v;
        valid[i] = 1;
      }
    }
    return { data: out, valid };
  };
  return {
    scountry: text(sa, (a) => a.country),
    dcountry: text(da, (a) => a.country),
    scity: text(sa, (a) => a.city),
    dcity: text(da, (a) => a.city),
    sasn: number(sa, (a) => a.asn),
    dasn: number(da, (a) => a.asn),
    sasnorg: text(sa, (a) => a.asnOrg),
    dasnorg: text(da, (a) => a.asnOrg),
  };
}
