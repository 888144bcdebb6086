// Stress driver for the Parquet writer under sanitizers (test/sinks/parquet-native-sanitizers.test.ts
// builds it with ASan+UBSan and with TSan): random page and row-group sizes, random batches, the
// compressor thread racing appends, heldBytes() and clear(), random NULLs. Prints "ok" and exits 0 when clean.
// Usage: stress OUT.parquet
#include "writer.h"
#include <cstdio>
#include <random>
using namespace damselfly::parquet;
int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::vector<Column> cols = {{"a", Kind::U8}, {"s", Kind::String}, {"t", Kind::Timestamp}, {"u", Kind::U64}, {"f", Kind::F32}, {"s2", Kind::String}};
  std::mt19937 rng(1);
  for (int round = 0; round < 20; round++) {
    Options o; o.pageBytes = 1024 + rng() % 8192; o.rowGroupRows = 1 + rng() % 5000;
    Stage st(cols, o);
    std::vector<std::string> store;
    for (int b = 0; b < 10; b++) {
      size_t n = rng() % 3000;
      std::vector<std::vector<double>> nums(4, std::vector<double>(n));
      std::vector<std::vector<std::string_view>> strs(2);
      store.clear(); store.reserve(2 * n);
      for (size_t i = 0; i < n; i++) {
        for (auto& c : nums) c[i] = (double)(rng() % 100000) - 5000;
        for (int s = 0; s < 2; s++) { store.emplace_back(rng() % 100, 'a' + rng() % 26); }
      }
      for (size_t i = 0; i < n; i++) { strs[0].emplace_back(store[2*i]); strs[1].emplace_back(store[2*i+1]); }
      std::vector<const double*> np; for (auto& c : nums) np.push_back(c.data());
      // every other batch: random NULLs (some columns none, some mostly, one all)
      std::vector<std::vector<uint8_t>> okStore(cols.size(), std::vector<uint8_t>(n));
      std::vector<const uint8_t*> ok;
      if (b % 2) {
        for (size_t c = 0; c < cols.size(); c++) {
          const unsigned pct = c == 5 ? 0 : (unsigned)(rng() % 101);
          for (size_t i = 0; i < n; i++) okStore[c][i] = rng() % 100 < pct;
          ok.push_back(c == 2 ? nullptr : okStore[c].data());
        }
      }
      st.append(np, strs, n, ok);
      (void)st.heldBytes();
    }
    st.writeFile(argv[1], {{"k", "v"}}, "x");
    if (round % 2) {  // a released stage takes rows again (its compressor thread restarts)
      st.clear();
      std::vector<double> col(100, 7.0);
      std::vector<const double*> np(4, col.data());
      std::vector<std::vector<std::string_view>> strs(2, std::vector<std::string_view>(100, "again"));
      for (int k = 0; k < 30; k++) st.append(np, strs, 100);
      if (st.rows() != 3000) return 1;
      st.writeFile(argv[1], {}, "x");
    }
  }
  puts("ok");
}
