#include "metrics/rescoring/csv_table.h"

#include "common/error.h"

#include <fstream>
#include <sstream>

namespace loom::metrics {

size_t CsvTable::column(const std::string& name, const std::string& file) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return i;
  throw InputError(file, 1, name, "a CSV header with a '" + name + "' column");
}

CsvTable parse_csv(const std::string& text, const std::string& file) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool in_quotes = false, field_started = false;
  int line = 1;
  auto end_field = [&]() {
    record.push_back(field);
    field.clear();
    field_started = false;
  };
  auto end_record = [&]() {
    end_field();
    if (!(record.size() == 1 && record[0].empty())) records.push_back(record);
    record.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = true;
      field_started = true;
    } else if (c == ',') {
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
    } else {
      field.push_back(c);
      field_started = true;
    }
  }
  if (in_quotes) throw InputError(file, line, "", "a closing '\"' for the quoted CSV field");
  if (!field.empty() || !record.empty()) end_record();
  CsvTable table;
  if (records.empty()) throw InputError(file, 1, "", "a CSV header line");
  table.header = records.front();
  table.rows.assign(records.begin() + 1, records.end());
  for (size_t r = 0; r < table.rows.size(); ++r)
    if (table.rows[r].size() != table.header.size())
      throw InputError(file, 0, "", "every CSV record to have " + std::to_string(table.header.size()) +
                                        " fields (record " + std::to_string(r + 1) + " has " +
                                        std::to_string(table.rows[r].size()) + ")");
  return table;
}

CsvTable read_csv(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), 0, "", "a readable CSV file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_csv(ss.str(), path.string());
}

}  // namespace loom::metrics
