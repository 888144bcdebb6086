// DNS message encoding (RFC 1035) with name compression.
import { parseIp6 } from './net.js';

export const QT = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, OPT: 41 } as const;

export type Rdata =
  | { type: 1 | 28; addr: string }
  | { type: 2 | 5 | 12; name: string }
  | { type: 15; pref: number; name: string }
  | { type: 16; text: string[] }
  | { type: 6; mname: string; rname: string; serial: number };

export interface RR {
  name: string;
  ttl: number;
  rd: Rdata;
}

class W {
  b: number[] = [];
  names = new Map<string, number>();
  u8(v: number) {
    this.b.push(v & 0xff);
  }
  u16(v: number) {
    this.b.push((v >>> 8) & 0xff, v & 0xff);
  }
  u32(v: number) {
    this.u16(Math.floor(v / 65536) & 0xffff);
    this.u16(v & 0xffff);
  }
  name(n: string) {
    const labels = n.replace(/\.$/, '').split('.').filter((l) => l.length > 0);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const at = this.names.get(suffix);
      if (at !== undefined) {
        this.u16(0xc000 | at);
        return;
      }
      if (this.b.length < 0x3fff) this.names.set(suffix, this.b.length);
      const l = labels[i]!;
      this.u8(l.length);
      for (let k = 0; k < l.length; k++) this.u8(l.charCodeAt(k));
    }
    this.u8(0);
  }
  rr(r: RR) {
    this.name(r.name);
    this.u16(r.rd.type);
    this.u16(1);
    this.u32(r.ttl);
    const lenAt = this.b.length;
    this.u16(0);
    const start = this.b.length;
    const d = r.rd;
    switch (d.type) {
      case 1:
        for (const p of d.addr.split('.')) this.u8(Number(p));
        break;
      case 28: {
        const ip6 = parseIp6(d.addr);
        for (const x of ip6) this.u8(x);
        break;
      }
      case 2:
      case 5:
      case 12:
        this.name(d.name);
        break;
      case 15:
        this.u16(d.pref);
        this.name(d.name);
        break;
      case 16:
        for (const t of d.text) {
          this.u8(t.length);
          for (let k = 0; k < t.length; k++) this.u8(t.charCodeAt(k));
        }
        break;
      case 6:
        this.name(d.mname);
        this.name(d.rname);
        this.u32(d.serial);
        this.u32(1800);
        this.u32(900);
        this.u32(604800);
        this.u32(86400);
        break;
    }
    const len = this.b.length - start;
    this.b[lenAt] = len >>> 8;
    this.b[lenAt + 1] = len & 0xff;
  }
  opt(udpSize: number) {
    this.u8(0);
    this.u16(QT.OPT);
    this.u16(udpSize);
    this.u32(0);
    this.u16(0);
  }
}


export interface QueryOpts {
  id: number;
  qname: string;
  qtype: number;
  edns?: number; // EDNS0 UDP payload size, 0/undefined = none
}

export function dnsQuery(q: QueryOpts): Uint8Array {
  const w = new W();
  w.u16(q.id);
  w.u16(0x0100); // RD
  w.u16(1);
  w.u16(0);
  w.u16(0);
  w.u16(q.edns ? 1 : 0);
  w.name(q.qname);
  w.u16(q.qtype);
  w.u16(1);
  if (q.edns) w.opt(q.edns);
  return Uint8Array.from(w.b);
}

export function dnsResponse(q: QueryOpts, answers: RR[], rcode = 0, authority: RR[] = []): Uint8Array {
  const w = new W();
  w.u16(q.id);
  w.u16(0x8180 | rcode); // QR RD RA
  w.u16(1);
  w.u16(answers.length);
  w.u16(authority.length);
  w.u16(q.edns ? 1 : 0);
  w.name(q.qname);
  w.u16(q.qtype);
  w.u16(1);
  for (const a of answers) w.rr(a);
  for (const a of authority) w.rr(a);
  if (q.edns) w.opt(1232);
  return Uint8Array.from(w.b);
}

/** Presentation form of an answer's RDATA for ground truth. */
export function rdataText(rd: Rdata): string {
  switch (rd.type) {
    case 1:
    case 28:
      return rd.addr;
    case 2:
    case 5:
    case 12:
      return rd.name;
    case 15:
      return `${rd.pref} ${rd.name}`;
    case 16:
      return rd.text.join('');
    case 6:
      return `${rd.mname} ${rd.rname} ${rd.serial}`;
  }
}

/** Prefix with a 2-byte length (DNS over TCP). */
export function tcpFramed(m: Uint8Array): Uint8Array {
  const o = new Uint8Array(m.length + 2);
  o[0] = m.length >>> 8;
  o[1] = m.length & 0xff;
  o.set(m, 2);
  return o;
}
