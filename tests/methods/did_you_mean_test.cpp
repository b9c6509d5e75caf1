// Edit distance and the "did you mean" suggestion: close typos get the intended name, far words get none.
#include "common/did_you_mean.h"

#include <gtest/gtest.h>

namespace loom {
namespace {

TEST(DidYouMean, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("stop", "stopp"), 1u);
  EXPECT_EQ(edit_distance("compresion_ratio", "compression_ratio"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("SnapKV", "snapkv"), 0u);  // case-insensitive
}

TEST(DidYouMean, SuggestsOnlyCloseNames) {
  const std::vector<std::string> names = {"compression_ratio", "max_capacity_prompt", "window_size"};
  EXPECT_EQ(did_you_mean("compresion_ratio", names), " (did you mean 'compression_ratio'?)");
  EXPECT_EQ(did_you_mean("windowsize", names), " (did you mean 'window_size'?)");
  EXPECT_EQ(did_you_mean("temperature", names), "");
  EXPECT_EQ(closest_name("stopp", {"stop", "top_p", "top_k"}), "stop");
  EXPECT_EQ(closest_name("max_new_token", {"max_new_tokens", "metric"}), "max_new_tokens");
  EXPECT_EQ(closest_name(std::string(1000, 'a'), names), "");
  EXPECT_EQ(join_names({"a", "b", "c"}), "a, b, c");
}

}  // namespace
}  // namespace loom
