// QUIC Initial decryption (sensor/native/src/core/l7/quic.cc, quic_crypto.cc) on client Initials
// this test builds and protects itself (quic-initial.ts, Node's crypto with its own
// HKDF-Expand-Label): v1, v2, two packets coalesced in one datagram, and a ClientHello whose
// CRYPTO frames are split over two Initials delivered in reverse order each give exactly one
// `tls` event with the SNI, ALPN and JA4 "q..." of the hello, and the flow's end record the
// version and connection ids. The key derivation is checked against RFC 9001 Appendix A.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadNative } from '../../sensor/src/native.js';
import type { FlowEvent, TlsEvent } from '../../streams/schema.js';
import { tempDir } from '../helpers.js';
import { collect } from './collect.js';
import { runFiles, options, udpFrame, writePcap } from './helpers.js';
import { alpn, clientHelloBody, groups, handshake, ja4, opaque, sigAlgs, sni, versions, type Hello } from './hello.js';
import { QUIC_V1, QUIC_V2, clientInitialKeys, cryptoFrame, initialPacket } from '../../synth/quic.js';

const DCID = Buffer.from('8394c8f03e515708', 'hex');
const SCID = Buffer.from('f067a5502a4262b5', 'hex');

test('RFC 9001 A.1: the client Initial keys for dcid 0x8394c8f03e515708 (sensor and test derivation)', () => {
  const want = { key: '1f369613dd76d5467730efcbe3b1a22d', iv: 'fa044b2f42a3fd3b46fb255c', hp: '9f50449e04a0e810283a1e9933adedd2' };
  assert.deepEqual(loadNative().quicClientKeys(QUIC_V1, DCID), want, 'sensor (quic_crypto.cc)');
  const t = clientInitialKeys(QUIC_V1, DCID);
  assert.equal(t.secret.toString('hex'), 'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea', 'client_initial_secret');
  assert.deepEqual({ key: t.key.toString('hex'), iv: t.iv.toString('hex'), hp: t.hp.toString('hex') }, want, 'test helper');
  // RFC 9369 A.1 (QUIC v2, same dcid)
  const v2 = { key: '8b1a0bc121284290a29e0971b5cd045d', iv: '91f73e2351d8fa91660e909f', hp: '45b95e15235d6f45a6b19cbcb0294ba9' };
  assert.deepEqual(loadNative().quicClientKeys(QUIC_V2, DCID), v2, 'sensor v2');
  const t2 = clientInitialKeys(QUIC_V2, DCID);
  assert.deepEqual({ key: t2.key.toString('hex'), iv: t2.iv.toString('hex'), hp: t2.hp.toString('hex') }, v2, 'test helper v2');
  assert.equal(loadNative().quicClientKeys(0x0a0a0a0a, DCID), null, 'a version without Initial keys');
});

const HELLO: Hello = {
  ciphers: [0x1301, 0x1302, 0x1303],
  exts: [sni('quic.example.net'), alpn(['h3']), versions([0x0304]), sigAlgs([0x0403, 0x0804, 0x0401]), groups([0x001d]),
    opaque(0x0033, 38), opaque(0x0039, 24)],
};
const CH = handshake(1, clientHelloBody(HELLO));
const CLIENT = ['10.1.0.1', '10.1.0.2', 50000, 443] as const;

/** Datagrams client -> server, or server -> client when wrapped as { server }. */
async function run(datagrams: (Buffer | { server: Buffer })[], over = {}): Promise<{ tls: TlsEvent[]; end: FlowEvent; stats: Record<string, number> }> {
  const t = tempDir();
  try {
    const pcap = join(t.dir, 'q.pcap');
    writePcap(pcap, datagrams.map((d, i) => ({
      ts: 1_700_000_000_000_000 + i * 1000,
      data: Buffer.isBuffer(d)
        ? udpFrame(CLIENT[0], CLIENT[1], CLIENT[2], CLIENT[3], Buffer.from(d))
        : udpFrame(CLIENT[1], CLIENT[0], CLIENT[3], CLIENT[2], Buffer.from(d.server)),
    })));
    const events = await collect(pcap, over);
    const tls = events.filter((e): e is TlsEvent => e.type === 'tls');
    const ends = events.filter((e): e is FlowEvent => e.type === 'flow' && e.kind === 'end');
    assert.equal(ends.length, 1, 'one flow');
    const { sensor } = await runFiles([pcap], options(over));
    return { tls, end: ends[0]!, stats: sensor.stats() as unknown as Record<string, number> };
  } finally {
    t.cleanup();
  }
}

function checkEvent(r: { tls: TlsEvent[]; end: FlowEvent }, version: number): void {
  assert.equal(r.tls.length, 1, 'one tls event');
  const e = r.tls[0]!;
  assert.equal(e.sni, 'quic.example.net');
  assert.equal(e.alpn, 'h3');
  assert.equal(e.tls_version, 'TLSv1.3');
  assert.equal(e.ja4, ja4(HELLO, 'q'));
  assert.match(e.ja4, /^q13d0307h3_[0-9a-f]{12}_[0-9a-f]{12}$/);
  assert.equal(r.end.quic_version, version);
  assert.equal(r.end.quic_dcid, DCID.toString('hex'));
  assert.equal(r.end.quic_scid, SCID.toString('hex'));
  assert.equal(r.end.ndpi_ja4, e.ja4, 'the flow keeps the JA4');
}

test('QUIC v1 Initial: one tls event (SNI, ALPN, JA4 q) and quic_* on the flow', async () => {
  const r = await run([initialPacket({ version: QUIC_V1, dcid: DCID, scid: SCID, pn: 0, frames: cryptoFrame(0, CH), padTo: 1162 })]);
  checkEvent(r, QUIC_V1);
  assert.equal(r.stats.quic_initials, 1);
  assert.equal(r.stats.quic_decrypt_failed, 0);
});

test('QUIC v2 Initial (RFC 9369 labels and packet-type bits)', async () => {
  const r = await run([initialPacket({ version: QUIC_V2, dcid: DCID, scid: SCID, pn: 0, frames: cryptoFrame(0, CH), padTo: 1162 })]);
  checkEvent(r, QUIC_V2);
});

test('QUIC: two Initials coalesced in one datagram, the hello split between them, PING/ACK frames stepped over', async () => {
  const k = 100;
  const a = initialPacket({ version: QUIC_V1, dcid: DCID, scid: SCID, pn: 0, frames: Buffer.concat([Buffer.from([0x01]), cryptoFrame(0, CH.subarray(0, k))]) });
  // ACK frame: largest 0, delay 0, 1 range (gap 0, len 0) after the first range 0
  const ack = Buffer.from([0x02, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]);
  const b = initialPacket({ version: QUIC_V1, dcid: DCID, scid: SCID, pn: 1, frames: Buffer.concat([ack, cryptoFrame(k, CH.subarray(k))]), padTo: 900 });
  const r = await run([Buffer.concat([a, b])]);
  checkEvent(r, QUIC_V1);
  assert.equal(r.stats.quic_initials, 2);
  assert.equal(r.stats.quic_frames_unknown, 0);
});

test('QUIC: CRYPTO frames split over two Initials delivered in reverse order', async () => {
  const k = 57;
  const second = initialPacket({ version: QUIC_V1, dcid: DCID, scid: SCID, pn: 1, frames: cryptoFrame(k, CH.subarray(k)), padTo: 1162 });
  const first = initialPacket({ version: QUIC_V1, dcid: DCID, scid: SCID, pn: 0, frames: cryptoFrame(0, CH.subarray(0, k)), padTo: 1162 });
  const r = await run([second, first]);
  checkEvent(r, QUIC_V1);
  assert.equal(r.stats.quic_initials, 2);
});

test('QUIC: with flow.quic_decrypt off, the flow gets its ids and no tls event; an altered packet is counted, not used', async () => {
  const pkt = initialPacket({ version: QUIC_V1, dcid: DCID, scid: SCID, pn: 0, frames: cryptoFrame(0, CH), padTo: 1162 });
  const off = await run([pkt], { quicDecrypt: false });
  assert.equal(off.tls.length, 0);
  assert.equal(off.end.quic_version, QUIC_V1);
  assert.equal(off.end.quic_dcid, DCID.toString('hex'));
  assert.equal(off.stats.quic_initials, 0);
  const bad = Buffer.from(pkt);
  bad[bad.length - 1]! ^= 1; // the AEAD tag no longer verifies
  const r = await run([bad]);
  assert.equal(r.tls.length, 0);
  assert.equal(r.stats.quic_decrypt_failed, 1);
  assert.equal(r.end.quic_version, QUIC_V1, 'the header still names the version and ids');
});

test('QUIC: CRYPTO data beyond the 16 KiB reassembly window is counted', async () => {
  const far = initialPacket({ version: QUIC_V1, dcid: DCID, scid: SCID, pn: 0, frames: cryptoFrame(16384 - 10, Buffer.alloc(40, 1)), padTo: 1162 });
  const r = await run([far]);
  assert.equal(r.tls.length, 0);
  assert.equal(r.stats.quic_crypto_dropped, 30);
  assert.equal(r.stats.quic_hello_incomplete, 1);
});

test('QUIC: a UDP flow that is not QUIC has no quic_* fields and no tls event', async () => {
  const r = await run([Buffer.from('this is not a QUIC long header, just a datagram to port 443')]);
  assert.equal(r.tls.length, 0);
  assert.equal(r.end.quic_version, undefined);
  assert.equal(r.end.quic_dcid, undefined);
  assert.equal(r.end.quic_scid, undefined);
  assert.equal(r.stats.quic_initials, 0);
});

test('QUIC: a capture that starts with the server\'s Initial still decrypts the client\'s and takes its ids', async () => {
  // the server's Initial: its own ids, protected with keys the sensor cannot derive (random here)
  const srvKeys = { key: Buffer.alloc(16, 1), iv: Buffer.alloc(12, 2), hp: Buffer.alloc(16, 3), secret: Buffer.alloc(32) };
  const server = initialPacket({ version: QUIC_V1, dcid: SCID, scid: Buffer.from('5e5e5e5e', 'hex'), pn: 0, frames: Buffer.alloc(40, 0), padTo: 1100, keys: srvKeys });
  const client = initialPacket({ version: QUIC_V1, dcid: DCID, scid: SCID, pn: 0, frames: cryptoFrame(0, CH), padTo: 1162 });
  const r = await run([{ server }, client]);
  assert.equal(r.stats.quic_decrypt_failed, 1, 'the server\'s Initial');
  checkEvent(r, QUIC_V1);
});
