// Sensor counters. Threading: owned by one Sensor, mutated only by the thread running its batch
// (JS reads them between batches, never concurrently). Memory: plain value struct.
#pragma once
#include <cstdint>

namespace dfly {

#define DFLY_STATS_FIELDS(X)                                                              \
  X(packets) X(bytes) X(files)                                                            \
  X(err_truncated) X(err_bad_ipv4) X(err_bad_ipv6) X(err_bad_l4) X(l4_header_cut) X(err_unsupported_link) \
  X(non_ip)                                                                               \
  X(flows_created) X(flows_ended) X(flows_active) X(flows_evicted)                        \
  X(frag_fragments) X(frag_reassembled) X(frag_timed_out) X(frag_dropped) X(frag_incomplete)                 \
  X(capture_errors) X(l7_events) X(l7_events_capped) X(l7_pending_evicted) X(l7_stream_lost)        \
  X(ndpi_states) X(ndpi_classified)                                                        \
  X(quic_initials) X(quic_decrypt_failed) X(quic_unsupported_version) X(quic_crypto_dropped) \
  X(quic_frames_unknown) X(quic_hello_incomplete) X(dtls_fragments_skipped) X(tls_hellos_skipped)

struct Stats {
#define X(n) uint64_t n = 0;
  DFLY_STATS_FIELDS(X)
#undef X
};

}  // namespace dfly
