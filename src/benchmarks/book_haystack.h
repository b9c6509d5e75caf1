// NoLiMa's BookHaystack (adobe-research/NoLiMa data/book_haystack.py): a book encoded once with the model's
// tokenizer (no special tokens); the valid needle positions are token 0 and every token whose decoded text holds a
// "\n". place() cuts a window of `context_length` tokens around the first valid position p with
// (p − shift)/(context_length + 1) ≥ depth (static_depth ≥ 0: the valid position nearest static_depth of the whole
// book), starting round(context_length · depth) tokens before p (half to even); the window's text before p is cut
// at its last "\n" and the text becomes  pre + " " + needle + "\n" + post. place_with_distractor() first places the
// distractor at a depth drawn from `rng` (at least 0.2 away from the needle), then inserts it into the needle's
// placement at the same spot of the text (found by the 50, below 500 tokens 25, characters before it).
#pragma once

#include "benchmarks/numpy_legacy_rng.h"
#include "text/tokenizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace loom::benchmarks {

struct Placement {
  std::string text;
  double static_depth = -1;  // real static depth (static placement), else -1
  int64_t token_depth = 0;   // round(context_length · depth)
  double depth = 0;
  double distractor_depth = -1;  // -1: no distractor
};

class BookHaystack {
 public:
  // `name` names the book in errors.
  BookHaystack(const text::Tokenizer& tokenizer, const std::string& text, std::string name);

  size_t num_tokens() const { return ids_.size(); }
  // Throws InputError (naming the book) when the window falls outside it (upstream: an assertion or ValueError).
  Placement place(const std::string& needle, int64_t context_length, double depth, int64_t shift,
                  double static_depth) const;
  Placement place_with_distractor(const std::string& needle, const std::string& distractor, int64_t context_length,
                                  double depth, int64_t shift, NumpyLegacyRng& rng) const;

 private:
  const text::Tokenizer& tokenizer_;
  std::string name_;
  std::vector<int32_t> ids_;
  std::vector<int64_t> valid_;  // token indices where a needle may go
};

}  // namespace loom::benchmarks
