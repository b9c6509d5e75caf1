#include "benchmarks/book_haystack.h"

#include "common/error.h"
#include "metrics/text/unicode_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace loom::benchmarks {
namespace {

using metrics::text::to_u32;
using metrics::text::to_utf8;

// Python's s[begin:end] for a step of 1 (negative indices count from the end; out-of-range ones are clamped).
std::u32string py_slice(const std::u32string& s, int64_t begin, int64_t end) {
  const auto n = static_cast<int64_t>(s.size());
  auto clamp = [n](int64_t i) { return i < 0 ? std::max<int64_t>(0, i + n) : std::min(i, n); };
  const int64_t b = clamp(begin), e = clamp(end);
  return e > b ? s.substr(static_cast<size_t>(b), static_cast<size_t>(e - b)) : std::u32string();
}

// Python's str.count (non-overlapping; an empty pattern counts len + 1).
size_t py_count(const std::u32string& s, const std::u32string& pattern) {
  if (pattern.empty()) return s.size() + 1;
  size_t n = 0;
  for (size_t at = s.find(pattern); at != std::u32string::npos; at = s.find(pattern, at + pattern.size())) ++n;
  return n;
}

}  // namespace

BookHaystack::BookHaystack(const text::Tokenizer& tokenizer, const std::string& text, std::string name)
    : tokenizer_(tokenizer), name_(std::move(name)), ids_(tokenizer.encode(text, false)) {
  valid_.push_back(0);
  for (size_t i = 0; i < ids_.size(); ++i)
    if (tokenizer_.decode({ids_[i]}, false).find('\n') != std::string::npos) valid_.push_back(static_cast<int64_t>(i));
}

Placement BookHaystack::place(const std::string& needle, int64_t context_length, double depth, int64_t shift,
                              double static_depth) const {
  Placement out;
  out.depth = depth;
  size_t closest = 0;
  const auto full = static_cast<int64_t>(ids_.size());
  if (static_depth == -1) {
    // argmin of (p - shift) / (context_length + 1) - depth over the valid p, negatives counted as infinity.
    double best = std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < valid_.size(); ++k) {
      double d = static_cast<double>(valid_[k] - shift) / static_cast<double>(context_length + 1) - depth;
      if (d < 0) d = std::numeric_limits<double>::infinity();
      if (d < best) {
        best = d;
        closest = k;
      }
    }
  } else {
    double best = std::numeric_limits<double>::infinity();
    for (size_t k = 0; k < valid_.size(); ++k) {
      const double d = std::abs(static_cast<double>(valid_[k]) / static_cast<double>(full) - static_depth);
      if (d < best) {
        best = d;
        closest = k;
      }
    }
    out.static_depth = static_cast<double>(valid_[closest]) / static_cast<double>(full);
    if (valid_[closest] - context_length < 0 || valid_[closest] + context_length > full)
      throw InputError(name_, 0, "options.static_depth",
                       fmt::format("a book long enough for {} tokens on both sides of static depth {} ({} tokens)",
                                   context_length, static_depth, full));
    if (shift > 0) throw InputError(name_, 0, "options.shift", "0 with a static depth (upstream refuses a shift)");
  }
  out.token_depth = static_cast<int64_t>(std::nearbyint(static_cast<double>(context_length) * depth));
  const int64_t p = valid_[closest];
  const int64_t start = p - out.token_depth;
  const int64_t end = start + context_length;
  if (start < 0 || end > full)
    throw InputError(name_, 0, "lengths",
                     fmt::format("a haystack book longer than the context window: {} tokens from token {} at depth {} "
                                 "do not fit in its {} tokens (use a longer book or a shorter length)",
                                 context_length, start, depth, full));
  auto decode = [&](int64_t b, int64_t e) {
    if (e <= b) return std::string();
    return tokenizer_.decode(std::vector<int32_t>(ids_.begin() + b, ids_.begin() + e), false);
  };
  std::string pre = decode(start, std::min(p + 1, full));
  const size_t newline = pre.rfind('\n');
  pre = newline == std::string::npos ? std::string() : pre.substr(0, newline);
  const std::string post = decode(p + 1, end);
  out.text = pre + " " + needle + "\n" + post;
  return out;
}

Placement BookHaystack::place_with_distractor(const std::string& needle, const std::string& distractor,
                                              int64_t context_length, double depth, int64_t shift,
                                              NumpyLegacyRng& rng) const {
  constexpr double kFreeZone = 0.2;  // distractor_free_zone
  const double left = std::max(0.0, depth - 2 * kFreeZone);
  const double right = std::max(0.0, 1 - (depth + 2 * kFreeZone));
  double dist_depth = rng.uniform(0, left + right);
  if (dist_depth > left) dist_depth = depth + kFreeZone + (dist_depth - left);
  else dist_depth += kFreeZone;
  if (context_length < 500) dist_depth = depth < 0.6 ? 0.7 : (depth > 0.75 ? 0.6 : 0.5);
  const Placement with_distractor = place(distractor, context_length, dist_depth, shift, -1);
  const std::u32string dtext = to_u32(with_distractor.text);
  const size_t found = dtext.find(to_u32(distractor));
  if (found == std::u32string::npos)
    throw InputError(name_, 0, "distractors", "a distractor that its own placement keeps whole");
  const auto pos = static_cast<int64_t>(found);
  const int64_t back = context_length >= 500 ? 50 : 25;
  const std::u32string key = py_slice(dtext, std::max<int64_t>(pos - back, 0), pos - 1);
  Placement out = place(needle, context_length, depth, shift, -1);
  std::u32string ntext = to_u32(out.text);
  if (py_count(ntext, key) > 1)
    throw InputError(name_, 0, "distractors",
                     fmt::format("a distractor spot that occurs once in the needle's placement (depth {}, length {}); "
                                 "upstream raises IndexError here too",
                                 depth, context_length));
  const size_t at = ntext.find(key);
  if (at == std::u32string::npos)
    throw InputError(name_, 0, "distractors",
                     fmt::format("a distractor spot found again in the needle's placement (depth {}, length {}); "
                                 "upstream raises ValueError here too",
                                 depth, context_length));
  const auto loc = static_cast<int64_t>(at) + (context_length >= 500 ? 49 : 23);
  ntext = py_slice(ntext, 0, loc) + to_u32(" " + distractor + "\n") +
          py_slice(ntext, loc, static_cast<int64_t>(ntext.size()));
  out.text = to_utf8(ntext);
  out.distractor_depth = dist_depth;
  return out;
}

}  // namespace loom::benchmarks
