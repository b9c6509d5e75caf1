// Small HDF5 C API helpers shared by the results file and the metrics group: RAII handles, UTF-8 string
// attributes, and column tables stored as one chunked, extendable 1-D compound dataset whose members are
// variable-length UTF-8 strings, int64 or float64 (h5py reads it as a structured array; pandas.DataFrame(ds[()])).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace loom::results::h5 {

// Owns one hid_t and closes it with the matching H5*close.
class Handle {
 public:
  enum class Kind { file, group, dataset, dataspace, datatype, attribute, plist };
  Handle() = default;
  Handle(hid_t id, Kind kind) : id_(id), kind_(kind) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(other.id_), kind_(other.kind_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  void reset();

 private:
  hid_t id_ = -1;
  Kind kind_ = Kind::file;
};

// Throws loom::Error("what: <HDF5 error stack>") when id < 0.
hid_t check(hid_t id, const std::string& what);
void check_status(herr_t status, const std::string& what);

// Strings are written as pointers to caller-owned NUL-terminated text (no copy).
using WriteValues = std::variant<std::vector<const char*>, std::vector<int64_t>, std::vector<double>>;
struct WriteColumn {
  std::string name;
  WriteValues values;
};
void write_table(hid_t parent, const std::string& name, const std::vector<WriteColumn>& columns);

enum class ColumnKind { string, int64, float64 };
using ReadValues = std::variant<std::vector<std::string>, std::vector<int64_t>, std::vector<double>>;
struct ReadTable {
  size_t rows = 0;
  std::map<std::string, ReadValues> columns;  // only the requested columns that the dataset has
};
ReadTable read_table(hid_t parent, const std::string& name, const std::map<std::string, ColumnKind>& wanted);

void write_string_attribute(hid_t object, const std::string& name, const std::string& value);
void write_string_list_attribute(hid_t object, const std::string& name, const std::vector<std::string>& values);
// Every string or string-list attribute of the object (lists are returned as their elements).
std::map<std::string, std::vector<std::string>> read_string_attributes(hid_t object);

}  // namespace loom::results::h5
