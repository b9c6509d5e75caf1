#include "metrics/fixture_reader.h"

#include <fstream>
#include <stdexcept>

namespace loom::metrics::testing {

std::string fixture_dir() { return std::string(LOOM_SOURCE_DIR) + "/tests/fixtures/metrics"; }

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open fixture " + path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace loom::metrics::testing
