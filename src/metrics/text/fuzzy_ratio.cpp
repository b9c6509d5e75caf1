#include "metrics/text/fuzzy_ratio.h"

#include "metrics/text/unicode_text.h"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <vector>

namespace loom::metrics::text {

double levenshtein_ratio(std::u32string_view a, std::u32string_view b) {
  const size_t total = a.size() + b.size();
  if (total == 0) return 1.0;
  // indel distance = len(a) + len(b) - 2 * LCS(a, b)
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  const size_t distance = total - 2 * prev[b.size()];
  const double normalized_distance = static_cast<double>(distance) / static_cast<double>(total);
  return 1.0 - normalized_distance;
}

int fuzz_ratio(std::string_view a, std::string_view b) {
  if (a == b) return 100;
  if (a.empty() || b.empty()) return 0;
  double r = 100 * levenshtein_ratio(to_u32(a), to_u32(b));
  return static_cast<int>(std::nearbyint(r));  // default rounding mode: half to even, like Python round()
}

}  // namespace loom::metrics::text
