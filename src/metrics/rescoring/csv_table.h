// A small RFC 4180 CSV reader (quoted fields, doubled quotes, newlines inside quotes), enough for the result
// CSVs the official BABILong harness writes with pandas.DataFrame.to_csv.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace loom::metrics {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // Index of a header column; throws loom::InputError naming the file and the column when absent.
  size_t column(const std::string& name, const std::string& file) const;
};

CsvTable read_csv(const std::filesystem::path& path);
CsvTable parse_csv(const std::string& text, const std::string& file_for_errors);

}  // namespace loom::metrics
