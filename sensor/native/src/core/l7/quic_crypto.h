// QUIC Initial packet protection (RFC 9001 section 5, RFC 9369 for QUIC v2): the client's
// Initial secrets from the destination connection id, HKDF-Expand-Label, the AES-128-ECB header
// protection mask and AES-128-GCM payload decryption (AES from OpenSSL's libcrypto, HMAC-SHA256 on
// the core's SHA-256).
// Threading: the cipher contexts are thread_local (one per thread that decrypts), everything
// else is pure. Memory: no allocation per call besides OpenSSL's own first-use setup.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dfly {

// Version families that share one layout of Initial packet protection.
enum QuicFamily : uint8_t { QUIC_UNKNOWN = 0, QUIC_V1 = 1, QUIC_V2 = 2 };

struct QuicKeys {
  uint8_t key[16], iv[12], hp[16];
  QuicFamily family = QUIC_UNKNOWN;
};

// The Initial salt of a version (v1, v2, IETF drafts 22-34, mvfst, Google T050/T051; values as
// published in RFC 9001, RFC 9369 and the drafts) and its family (v2: other labels and packet-type
// bits). Returns QUIC_UNKNOWN (and no salt) for versions without Initial keys we know.
QuicFamily quic_version_salt(uint32_t version, const uint8_t** salt);

// HKDF-Expand-Label (RFC 8446 7.1) with SHA-256 and an empty context: out = HKDF-Expand(secret,
// HkdfLabel{len, "tls13 " + label, ""}, len). False on a libcrypto error or len > 255.
bool hkdf_expand_label(const uint8_t* secret, size_t secret_len, const char* label, uint8_t* out, size_t len);

// The client's Initial keys for `version` and the client's first destination connection id.
bool quic_client_initial_keys(uint32_t version, const uint8_t* dcid, size_t dcid_len, QuicKeys* k);

// Header protection mask: AES-128-ECB(hp, sample[0..16)), first 5 bytes into mask.
bool quic_hp_mask(const uint8_t hp[16], const uint8_t* sample, uint8_t mask[5]);

// AES-128-GCM open of ct[0..ct_len) whose last 16 bytes are the tag, nonce = iv XOR packet number
// (big-endian in the last 8 bytes), aad = the unprotected header. Writes ct_len - 16 bytes to out.
bool quic_aead_open(const QuicKeys& k, uint64_t pn, const uint8_t* aad, size_t aad_len, const uint8_t* ct, size_t ct_len,
                    uint8_t* out);

}  // namespace dfly
