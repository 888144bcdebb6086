// libFuzzer target: the QUIC parser (l7/quic.cc) through its registry entry points. Random bytes
// almost never pass the AEAD check, so most of the input is first protected the way a client
// protects its Initials (this harness encrypts with the keys quic_crypto.cc derives), which
// takes the fuzzer past decryption into the frame walk and CRYPTO reassembly.
// Input: one flags byte, then chunks, each a 2-byte big-endian length and that many bytes of
// plaintext frames for one Initial packet (packet number = chunk index). Flags: bit0 coalesce
// all packets into one datagram (else one datagram each), bit1 QUIC v2 (else v1), bit2 also
// hand the raw input (after the flags) to the parser as a datagram first, bit3 decryption off.
// Threading: single-threaded (libFuzzer). Memory: all state is created and freed per input.
#include <openssl/evp.h>

#include <cstring>
#include <string>
#include <vector>

#include "../src/core/l7/l7.h"
#include "../src/core/l7/quic_crypto.h"

namespace {

using namespace dfly;

void put_varint(std::string& s, uint64_t v) {
  if (v < 0x40) { s += (char)v; return; }
  if (v < 0x4000) { s += (char)(0x40 | (v >> 8)); s += (char)(v & 0xff); return; }
  s += (char)(0x80 | ((v >> 24) & 0x3f)); s += (char)((v >> 16) & 0xff); s += (char)((v >> 8) & 0xff); s += (char)(v & 0xff);
}

// One protected client Initial carrying `frames` (padded so the header sample exists).
std::string protect(uint32_t version, const QuicKeys& k, const uint8_t* dcid, size_t dl, uint16_t pn, std::string frames) {
  if (frames.size() < 20) frames.resize(20, '\0');
  std::string h;
  h += (char)(0xc0 | ((version == 0x6b3343cf ? 1 : 0) << 4) | 1);  // 2-byte packet number
  for (int i = 3; i >= 0; i--) h += (char)(version >> (8 * i));
  h += (char)dl; h.append((const char*)dcid, dl);
  h += (char)4; h += "scid";
  put_varint(h, 0);
  put_varint(h, 2 + frames.size() + 16);
  size_t pn_off = h.size();
  h += (char)(pn >> 8); h += (char)pn;
  uint8_t nonce[12];
  memcpy(nonce, k.iv, 12);
  nonce[10] ^= (uint8_t)(pn >> 8); nonce[11] ^= (uint8_t)pn;
  std::string ct(frames.size() + 16, '\0');
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0;
  EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), nullptr, k.key, nonce);
  EVP_EncryptUpdate(c, nullptr, &n, (const uint8_t*)h.data(), (int)h.size());
  EVP_EncryptUpdate(c, (uint8_t*)&ct[0], &n, (const uint8_t*)frames.data(), (int)frames.size());
  EVP_EncryptFinal_ex(c, (uint8_t*)&ct[0] + n, &n);
  EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, &ct[frames.size()]);
  EVP_CIPHER_CTX_free(c);
  std::string pkt = h + ct;
  uint8_t mask[5];
  quic_hp_mask(k.hp, (const uint8_t*)pkt.data() + pn_off + 4, mask);
  pkt[0] = (char)(pkt[0] ^ (mask[0] & 0x0f));
  pkt[pn_off] = (char)(pkt[pn_off] ^ mask[1]);
  pkt[pn_off + 1] = (char)(pkt[pn_off + 1] ^ mask[2]);
  return pkt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t flags = data[0];
  uint32_t version = (flags & 2) ? 0x6b3343cf : 0x00000001;
  static const uint8_t dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
  QuicKeys k;
  if (!quic_client_initial_keys(version, dcid, sizeof dcid, &k)) __builtin_trap();
  std::vector<std::string> dgrams;
  if (flags & 4) dgrams.emplace_back((const char*)data + 1, size - 1);
  std::string all;
  uint16_t pn = 0;
  for (size_t off = 1; off + 2 <= size && pn < 16; pn++) {
    size_t len = (size_t)(data[off] << 8 | data[off + 1]);
    off += 2;
    if (len > size - off) len = size - off;
    std::string pkt = protect(version, k, dcid, sizeof dcid, pn, std::string((const char*)data + off, len));
    off += len;
    if (flags & 1) all += pkt; else dgrams.push_back(pkt);
  }
  if (!all.empty()) dgrams.push_back(all);
  std::vector<std::string> bodies;
  L7Extras extras;
  L7Out out{&bodies, &extras};
  out.quic_decrypt = !(flags & 8);
  void* st = kQuicParser.create();
  bool matched = false;
  for (const std::string& d : dgrams) {
    L7Packet pk{0, false, 40000, 443, (const uint8_t*)d.data(), d.size(), 1};
    if (!matched && !kQuicParser.match(pk)) continue;  // the registry asks match() first
    matched = true;
    if (kQuicParser.on_payload(st, pk, out) == L7_DONE) break;
  }
  kQuicParser.finish(st, out);
  kQuicParser.destroy(st);
  for (const auto& b : bodies)
    for (char c : b)
      if ((unsigned char)c >= 0x7f) __builtin_trap();  // event bodies stay printable (l7.h)
  return 0;
}
