// HTTP/1.1 request / response payloads.
import type { Rng } from './rng.js';
import { BytesMsg, CatMsg, RandMsg, type Msg } from './msg.js';
import type { OsKind } from './world.js';

export const USER_AGENTS: Record<OsKind, string[]> = {
  windows: [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
    'Microsoft-CryptoAPI/10.0',
    'Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.71',
  ],
  mac: [
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    'CaptiveNetworkSupport-481.40.2 wispr',
  ],
  linux: [
    'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
    'Debian APT-HTTP/1.3 (2.6.1)',
    'curl/8.5.0',
    'Wget/1.21.3',
  ],
};

const PATHS = ['/', '/index.html', '/hotspot-detect.html', '/generate_204', '/success.txt', '/connecttest.txt', '/ubuntu/dists/noble/InRelease', '/msdownload/update/v3/static/trustedr/en/authrootstl.cab', '/MFEwTzBNMEswSTAJBgUrDgMCGgUABBQ', '/debian/dists/bookworm/Release', '/api/v2/status', '/static/app.js', '/images/logo.png'];

const WORDS = 'the network flow sensor packet analytics stream protocol traffic session host server client request response data service status update release security index page content system cloud edge cache'.split(' ');

export function textBody(rng: Rng, n: number): string {
  let s = '<!DOCTYPE html>\n<html><head><title>Welcome</title></head><body>\n<p>';
  while (s.length < n - 20) s += rng.pick(WORDS) + (rng.chance(0.1) ? '.\n' : ' ');
  s = s.slice(0, Math.max(0, n - 19));
  return s + '</p></body></html>\n';
}

export interface HttpReq {
  method: string;
  uri: string;
  host: string;
  ua: string;
  bytes: Uint8Array;
}

export function request(rng: Rng, host: string, ua: string, method = 'GET', uri?: string, body?: Uint8Array, ctype = 'application/octet-stream'): HttpReq {
  const u = uri ?? rng.pick(PATHS);
  let h = `${method} ${u} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${ua}\r\nAccept: */*\r\n`;
  if (ua.startsWith('Mozilla')) h += 'Accept-Language: en-US,en;q=0.9\r\n';
  h += 'Connection: keep-alive\r\n';
  if (body) h += `Content-Type: ${ctype}\r\nContent-Length: ${body.length}\r\n`;
  h += '\r\n';
  const hb = Buffer.from(h, 'latin1');
  const bytes = body ? Buffer.concat([hb, body]) : hb;
  return { method, uri: u, host, ua, bytes };
}

const REASONS: Record<number, string> = { 200: 'OK', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 304: 'Not Modified', 404: 'Not Found' };

export function pickStatus(rng: Rng): number {
  return rng.weighted([200, 204, 301, 302, 304, 404], [70, 5, 6, 5, 8, 6]);
}

/** Response message: headers plus a body of bodyLen bytes (text or random binary). */
export function response(rng: Rng, status: number, bodyLen: number, date: number, binary: boolean): Msg {
  const noBody = status === 204 || status === 304;
  const text = !noBody && !binary ? Buffer.from(textBody(rng, Math.max(bodyLen, 64)), 'latin1') : undefined;
  const len = noBody ? 0 : text ? text.length : bodyLen;
  const d = new Date(date).toUTCString();
  let h = `HTTP/1.1 ${status} ${REASONS[status] ?? 'OK'}\r\nDate: ${d}\r\nServer: ${rng.pick(['nginx', 'Apache', 'ECAcc (nyd/D144)', 'cloudflare', 'AmazonS3'])}\r\n`;
  if (status === 301 || status === 302) h += `Location: https://www.example.com/\r\n`;
  if (!noBody) h += `Content-Type: ${binary ? 'application/octet-stream' : 'text/html; charset=utf-8'}\r\nContent-Length: ${len}\r\n`;
  h += `Cache-Control: max-age=3600\r\nConnection: keep-alive\r\n\r\n`;
  const hb = new BytesMsg(Buffer.from(h, 'latin1'));
  if (len === 0) return hb;
  if (binary) return new CatMsg([hb, new RandMsg(len)]);
  return new CatMsg([hb, new BytesMsg(text!)]);
}
