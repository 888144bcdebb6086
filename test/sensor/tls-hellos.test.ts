// JA4 to FoxIO's spec on hand-built hellos (values worked out by the rule in hello.ts, and the
// empty-list cases written out): an empty sorted cipher list or extension list (SNI and ALPN
// left out) hashes to 000000000000; every ClientHello of a TCP stream gets its own tls event (the
// second ClientHello after a HelloRetryRequest); DTLS ClientHellos (cookie after the session id,
// DTLS record and handshake headers) get JA4 "d...", one event per ClientHello.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { TlsEvent } from '../../streams/schema.js';
import { tempDir } from '../helpers.js';
import { collect } from './collect.js';
import { TCP, tcpFrame, udpFrame, writePcap, type Frame } from './helpers.js';
import {
  HRR_RANDOM, alpn, clientHelloBody, groups, handshake, ja4, opaque, serverHello, sigAlgs, sni, tlsRecord, versions, type Hello,
} from './hello.js';

const C = '10.2.0.1';
const S = '10.2.0.2';

async function tlsEvents(frames: Buffer[]): Promise<TlsEvent[]> {
  const t = tempDir();
  try {
    const pcap = join(t.dir, 't.pcap');
    writePcap(pcap, frames.map((data, i): Frame => ({ ts: 1_700_000_000_000_000 + i * 1000, data })));
    return (await collect(pcap)).filter((e): e is TlsEvent => e.type === 'tls');
  } finally {
    t.cleanup();
  }
}

/** A TCP connection: handshake, then each [fromClient, payload] as one segment. */
function tcpConversation(parts: [boolean, Buffer][], port = 40000): Buffer[] {
  let cs = 1000;
  let ss = 5000;
  const f: Buffer[] = [
    tcpFrame(C, S, port, 443, TCP.S, cs), tcpFrame(S, C, 443, port, TCP.S | TCP.A, ss), tcpFrame(C, S, port, 443, TCP.A, cs + 1),
  ];
  cs++; ss++;
  for (const [client, p] of parts) {
    if (client) { f.push(tcpFrame(C, S, port, 443, TCP.A | TCP.P, cs, Buffer.from(p))); cs += p.length; }
    else { f.push(tcpFrame(S, C, 443, port, TCP.A | TCP.P, ss, Buffer.from(p))); ss += p.length; }
  }
  return f;
}

const sha12 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 12);

test('JA4: empty sorted cipher list and empty sorted extension list hash to 000000000000', async () => {
  const none: Hello = { ciphers: [], exts: [sni('a.example'), alpn(['h2'])] };
  const onlySni: Hello = { ciphers: [0x1301, 0x0a0a], exts: [sni('b.example')] };
  const ev = await tlsEvents([
    ...tcpConversation([[true, tlsRecord(22, handshake(1, clientHelloBody(none)))]]),
    ...tcpConversation([[true, tlsRecord(22, handshake(1, clientHelloBody(onlySni)))]], 40001),
  ]);
  const byJa4 = ev.map((e) => e.ja4).sort();
  // no ciphers, SNI + ALPN only: version 1.2 (legacy field), 0 ciphers, 2 extensions, "h2"
  assert.ok(byJa4.includes('t12d0002h2_000000000000_000000000000'), `got ${byJa4.join(' ')}`);
  // one real cipher (GREASE 0x0a0a left out), SNI only: the extension part is empty
  assert.ok(byJa4.includes(`t12d010100_${sha12('1301')}_000000000000`), `got ${byJa4.join(' ')}`);
  assert.equal(ja4(none, 't'), 't12d0002h2_000000000000_000000000000', 'the test\'s own JA4 agrees');
});

test('HelloRetryRequest: the two ClientHellos of one TCP stream get two tls events', async () => {
  const ch1: Hello = {
    ciphers: [0x1301, 0x1302], exts: [sni('hrr.example'), alpn(['h2', 'http/1.1']), versions([0x0304, 0x0303]), sigAlgs([0x0403, 0x0804]),
      groups([0x001d, 0x0017]), opaque(0x0033, 38)],
  };
  const ch2: Hello = { ...ch1, exts: [...ch1.exts, opaque(0x002c, 20)] }; // + cookie from the HRR
  const hrr = serverHello(0x1301, [[0x002b, Buffer.from([0x03, 0x04])], [0x0033, Buffer.from([0x00, 0x17])]], HRR_RANDOM);
  const sh = serverHello(0x1301, [[0x002b, Buffer.from([0x03, 0x04])], opaque(0x0033, 36)]);
  const ccs = tlsRecord(20, Buffer.from([1]), 0x0303);
  const ev = await tlsEvents(tcpConversation([
    [true, tlsRecord(22, handshake(1, clientHelloBody(ch1)))],
    [false, Buffer.concat([tlsRecord(22, hrr, 0x0303), ccs])],
    [true, Buffer.concat([ccs, tlsRecord(22, handshake(1, clientHelloBody(ch2)), 0x0303)])],
    [false, Buffer.concat([tlsRecord(22, sh, 0x0303), ccs, tlsRecord(23, Buffer.alloc(50, 7), 0x0303)])],
    [true, tlsRecord(23, Buffer.alloc(60, 9), 0x0303)],
  ]));
  assert.equal(ev.length, 2, `two events, got ${JSON.stringify(ev.map((e) => e.ja4))}`);
  assert.equal(ev[0]!.ja4, ja4(ch1, 't'));
  assert.equal(ev[1]!.ja4, ja4(ch2, 't'));
  assert.notEqual(ev[0]!.ja4, ev[1]!.ja4);
  assert.match(ev[0]!.ja4, /^t13d0206h2_/);
  assert.match(ev[1]!.ja4, /^t13d0207h2_/);
  for (const e of ev) {
    assert.equal(e.sni, 'hrr.example');
    assert.equal(e.tls_version, 'TLSv1.3');
    assert.equal(e.cipher, 'TLS_AES_128_GCM_SHA256');
  }
});

/** One DTLS record with one unfragmented handshake message. */
function dtlsHandshake(type: number, body: Buffer, mseq: number, recSeq: number): Buffer<ArrayBuffer> {
  const hs = Buffer.alloc(12);
  hs[0] = type;
  hs.writeUIntBE(body.length, 1, 3);
  hs.writeUInt16BE(mseq, 4);
  hs.writeUIntBE(0, 6, 3);
  hs.writeUIntBE(body.length, 9, 3);
  const rec = Buffer.alloc(13);
  rec[0] = 22;
  rec.writeUInt16BE(0xfefd, 1);
  rec.writeUInt16BE(0, 3); // epoch
  rec.writeUIntBE(recSeq, 5, 6);
  rec.writeUInt16BE(12 + body.length, 11);
  return Buffer.concat([rec, hs, body]);
}

test('DTLS: each ClientHello (before and after HelloVerifyRequest) gets a tls event with JA4 "d"', async () => {
  const hello = (cookie: Buffer): Hello => ({
    legacy: 0xfefd, cookie, ciphers: [0xc02b, 0xc02f, 0x1301],
    exts: [sni('dtls.example'), alpn(['webrtc']), versions([0xfefc, 0xfefd]), sigAlgs([0x0403]), groups([0x001d]), opaque(0x000e, 5)],
  });
  const ch1 = hello(Buffer.alloc(0));
  const ch2 = hello(Buffer.alloc(32, 0x5a));
  const hvr = Buffer.concat([Buffer.from([0xfe, 0xff, 4]), Buffer.alloc(4, 1)]);
  const sh = serverHello(0xc02b, [[0x002b, Buffer.from([0xfe, 0xfd])]], undefined, 0xfefd).subarray(4);
  const ev = await tlsEvents([
    udpFrame(C, S, 40002, 4444, dtlsHandshake(1, clientHelloBody(ch1), 0, 0)),
    udpFrame(S, C, 4444, 40002, dtlsHandshake(3, hvr, 0, 0)),
    udpFrame(C, S, 40002, 4444, dtlsHandshake(1, clientHelloBody(ch2), 1, 1)),
    udpFrame(C, S, 40002, 4444, dtlsHandshake(1, clientHelloBody(ch2), 1, 2)), // a retransmission: no event
    udpFrame(S, C, 4444, 40002, dtlsHandshake(2, sh, 1, 1)),
  ]);
  assert.equal(ev.length, 2, `got ${JSON.stringify(ev.map((e) => e.ja4))}`);
  // DTLS 1.3 (0xfefc) is the newest of the offered versions although its number is the lowest
  assert.equal(ev[0]!.ja4, ja4(ch1, 'd'));
  assert.match(ev[0]!.ja4, /^dd3d0306wc_/);
  assert.equal(ev[1]!.ja4, ev[0]!.ja4, 'the cookie is not part of JA4');
  assert.equal(ev[0]!.sni, 'dtls.example');
  assert.equal(ev[0]!.cipher, '', 'the first hello was answered by a HelloVerifyRequest');
  assert.equal(ev[1]!.cipher, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
  assert.equal(ev[1]!.tls_version, 'DTLSv1.2');
});
