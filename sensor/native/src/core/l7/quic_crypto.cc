// QUIC Initial packet protection (see quic_crypto.h): AES over libcrypto, HMAC-SHA256 over the
// core's own SHA-256 (digest.h; OpenSSL 3's one-shot HMAC() fetches and allocates per call, which
// was most of the cost of a flow's key derivation).
// Threading: the EVP_CIPHERs are fetched once (immutable, shareable); one EVP_CIPHER_CTX per
// thread and purpose (thread_local, re-keyed per call), so concurrent sensors on different threads
// never share one. Memory: the two contexts per thread live as long as the thread.
#include "quic_crypto.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

#include "../digest.h"

namespace dfly {

namespace {

const uint8_t kSaltV1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                             0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
const uint8_t kSaltV2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                             0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
const uint8_t kSaltDraft22[20] = {0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a,
                                  0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a};
const uint8_t kSaltDraft23[20] = {0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
                                  0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02};
const uint8_t kSaltDraft29[20] = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
                                  0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};
const uint8_t kSaltT50[20] = {0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
                              0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10};
const uint8_t kSaltT51[20] = {0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
                              0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d};

struct CtxFree { void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); } };
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

EVP_CIPHER_CTX* ctx_ecb() { thread_local Ctx c(EVP_CIPHER_CTX_new()); return c.get(); }
EVP_CIPHER_CTX* ctx_gcm() { thread_local Ctx c(EVP_CIPHER_CTX_new()); return c.get(); }
// Fetched once: passing EVP_aes_128_*() to every init makes OpenSSL 3 look the cipher up again.
const EVP_CIPHER* cipher_ecb() { static EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr); return c; }
const EVP_CIPHER* cipher_gcm() { static EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr); return c; }

// HMAC-SHA256 (RFC 2104) of a message of at most 128 bytes with a key of at most 64 bytes.
bool hmac_sha256(const uint8_t* key, size_t key_len, const uint8_t* msg, size_t msg_len, uint8_t out[32]) {
  if (key_len > 64 || msg_len > 128) return false;
  uint8_t buf[64 + 128];
  uint8_t inner[32];
  for (size_t i = 0; i < 64; i++) buf[i] = (uint8_t)((i < key_len ? key[i] : 0) ^ 0x36);
  memcpy(buf + 64, msg, msg_len);
  sha256(buf, 64 + msg_len, inner);
  for (size_t i = 0; i < 64; i++) buf[i] = (uint8_t)((i < key_len ? key[i] : 0) ^ 0x5c);
  memcpy(buf + 64, inner, 32);
  sha256(buf, 64 + 32, out);
  return true;
}

}  // namespace

QuicFamily quic_version_salt(uint32_t v, const uint8_t** salt) {
  *salt = nullptr;
  if (v == 0x00000001) { *salt = kSaltV1; return QUIC_V1; }
  if (v == 0x6b3343cf) { *salt = kSaltV2; return QUIC_V2; }
  if (v == 0xfaceb001 || v == 0xff000016) { *salt = kSaltDraft22; return QUIC_V1; }  // mvfst draft-22
  if (v == 0xfaceb002 || v == 0xfaceb00e) { *salt = kSaltDraft23; return QUIC_V1; }  // mvfst draft-27, mvfst experimental
  if (v >= 0xff000017 && v <= 0xff00001c) { *salt = kSaltDraft23; return QUIC_V1; }  // drafts 23-28
  if (v >= 0xff00001d && v <= 0xff000020) { *salt = kSaltDraft29; return QUIC_V1; }  // drafts 29-32
  if (v >= 0xff000021 && v <= 0xff000022) { *salt = kSaltV1; return QUIC_V1; }       // drafts 33-34
  if (v == 0x54303530) { *salt = kSaltT50; return QUIC_V1; }                          // Google T050
  if (v == 0x54303531) { *salt = kSaltT51; return QUIC_V1; }                          // Google T051
  return QUIC_UNKNOWN;
}

bool hkdf_expand_label(const uint8_t* secret, size_t secret_len, const char* label, uint8_t* out, size_t len) {
  size_t ll = strlen(label);
  if (len > 255 || 6 + ll > 255) return false;
  uint8_t info[2 + 1 + 255 + 1];
  size_t n = 0;
  info[n++] = (uint8_t)(len >> 8);
  info[n++] = (uint8_t)len;
  info[n++] = (uint8_t)(6 + ll);
  memcpy(info + n, "tls13 ", 6); n += 6;
  memcpy(info + n, label, ll); n += ll;
  info[n++] = 0;  // empty context
  // HKDF-Expand (RFC 5869 2.3): T(i) = HMAC(secret, T(i-1) | info | i); at most 255 bytes here.
  uint8_t t[32];
  size_t tl = 0;
  size_t done = 0;
  for (uint8_t i = 1; done < len; i++) {
    uint8_t buf[32 + sizeof info + 1];
    size_t bn = 0;
    memcpy(buf, t, tl); bn += tl;
    memcpy(buf + bn, info, n); bn += n;
    buf[bn++] = i;
    if (!hmac_sha256(secret, secret_len, buf, bn, t)) return false;
    tl = 32;
    size_t take = len - done < 32 ? len - done : 32;
    memcpy(out + done, t, take);
    done += take;
  }
  return true;
}

bool quic_client_initial_keys(uint32_t version, const uint8_t* dcid, size_t dcid_len, QuicKeys* k) {
  const uint8_t* salt;
  QuicFamily fam = quic_version_salt(version, &salt);
  if (fam == QUIC_UNKNOWN) return false;
  uint8_t initial[32], client[32];
  // HKDF-Extract(salt, dcid) = HMAC(salt, dcid)
  if (!hmac_sha256(salt, 20, dcid, dcid_len, initial)) return false;
  if (!hkdf_expand_label(initial, 32, "client in", client, 32)) return false;
  bool v2 = fam == QUIC_V2;
  if (!hkdf_expand_label(client, 32, v2 ? "quicv2 key" : "quic key", k->key, 16)) return false;
  if (!hkdf_expand_label(client, 32, v2 ? "quicv2 iv" : "quic iv", k->iv, 12)) return false;
  if (!hkdf_expand_label(client, 32, v2 ? "quicv2 hp" : "quic hp", k->hp, 16)) return false;
  k->family = fam;
  return true;
}

bool quic_hp_mask(const uint8_t hp[16], const uint8_t* sample, uint8_t mask[5]) {
  EVP_CIPHER_CTX* c = ctx_ecb();
  if (!c || !cipher_ecb() || EVP_EncryptInit_ex(c, cipher_ecb(), nullptr, hp, nullptr) != 1) return false;
  EVP_CIPHER_CTX_set_padding(c, 0);
  uint8_t block[32];
  int n = 0;
  if (EVP_EncryptUpdate(c, block, &n, sample, 16) != 1 || n != 16) return false;
  memcpy(mask, block, 5);
  return true;
}

bool quic_aead_open(const QuicKeys& k, uint64_t pn, const uint8_t* aad, size_t aad_len, const uint8_t* ct, size_t ct_len,
                    uint8_t* out) {
  if (ct_len < 16 || ct_len > 0x7fffffff || aad_len > 0x7fffffff) return false;
  uint8_t nonce[12];
  memcpy(nonce, k.iv, 12);
  for (int i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
  EVP_CIPHER_CTX* c = ctx_gcm();
  if (!c || !cipher_gcm() || EVP_DecryptInit_ex(c, cipher_gcm(), nullptr, k.key, nonce) != 1) return false;
  int n = 0;
  if (EVP_DecryptUpdate(c, nullptr, &n, aad, (int)aad_len) != 1) return false;
  size_t body = ct_len - 16;
  if (body && EVP_DecryptUpdate(c, out, &n, ct, (int)body) != 1) return false;
  if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void*)(ct + body)) != 1) return false;
  uint8_t fin[16];
  return EVP_DecryptFinal_ex(c, fin, &n) == 1;
}

}  // namespace dfly
