#include "results/hdf5_table.h"

#include "common/error.h"

#include <algorithm>
#include <cstring>

namespace loom::results::h5 {
namespace {

constexpr hsize_t kChunkRows = 1024;
constexpr hsize_t kSlabRows = 8192;
constexpr size_t kMemberBytes = 8;  // pointer, int64 and double members alike

herr_t collect_error(unsigned depth, const H5E_error2_t* error, void* out) {
  auto* text = static_cast<std::string*>(out);
  if (depth < 4) {
    if (!text->empty()) *text += "; ";
    *text += fmt::format("{} ({})", error->desc ? error->desc : "", error->func_name ? error->func_name : "");
  }
  return 0;
}

std::string error_stack() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &text);
  H5Eclear2(H5E_DEFAULT);
  return text;
}

Handle utf8_string_type() {
  Handle type(check(H5Tcopy(H5T_C_S1), "copy string type"), Handle::Kind::datatype);
  check_status(H5Tset_size(type.get(), H5T_VARIABLE), "set string size");
  check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), "set string charset");
  return type;
}

herr_t reclaim(hid_t memtype, hid_t memspace, void* buffer) {
#if H5_VERSION_GE(1, 12, 0)
  return H5Treclaim(memtype, memspace, H5P_DEFAULT, buffer);
#else
  return H5Dvlen_reclaim(memtype, memspace, H5P_DEFAULT, buffer);
#endif
}

size_t column_size(const WriteValues& values) {
  return std::visit([](const auto& v) { return v.size(); }, values);
}

struct AttributeCollector {
  std::map<std::string, std::vector<std::string>>* out;
};

herr_t collect_attribute(hid_t object, const char* name, const H5A_info_t*, void* data) {
  auto* collector = static_cast<AttributeCollector*>(data);
  Handle attribute(H5Aopen(object, name, H5P_DEFAULT), Handle::Kind::attribute);
  if (attribute.get() < 0) return 0;
  Handle type(H5Aget_type(attribute.get()), Handle::Kind::datatype);
  if (type.get() < 0 || H5Tget_class(type.get()) != H5T_STRING) return 0;
  Handle space(H5Aget_space(attribute.get()), Handle::Kind::dataspace);
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  std::vector<std::string> values;
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle memtype = utf8_string_type();
    std::vector<char*> pointers(static_cast<size_t>(std::max<hssize_t>(count, 0)), nullptr);
    if (count > 0 && H5Aread(attribute.get(), memtype.get(), pointers.data()) >= 0) {
      for (char* p : pointers) values.emplace_back(p ? p : "");
      reclaim(memtype.get(), space.get(), pointers.data());
    }
  } else {
    const size_t width = H5Tget_size(type.get());
    std::vector<char> buffer(width * static_cast<size_t>(std::max<hssize_t>(count, 0)) + 1, '\0');
    if (count > 0 && H5Aread(attribute.get(), type.get(), buffer.data()) >= 0)
      for (hssize_t i = 0; i < count; ++i) {
        const char* p = buffer.data() + static_cast<size_t>(i) * width;
        values.emplace_back(p, strnlen(p, width));
      }
  }
  (*collector->out)[name] = std::move(values);
  return 0;
}

}  // namespace

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    kind_ = other.kind_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::reset() {
  if (id_ < 0) return;
  switch (kind_) {
    case Kind::file: H5Fclose(id_); break;
    case Kind::group: H5Gclose(id_); break;
    case Kind::dataset: H5Dclose(id_); break;
    case Kind::dataspace: H5Sclose(id_); break;
    case Kind::datatype: H5Tclose(id_); break;
    case Kind::attribute: H5Aclose(id_); break;
    case Kind::plist: H5Pclose(id_); break;
  }
  id_ = -1;
}

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) throw Error(fmt::format("HDF5: cannot {}: {}", what, error_stack()));
  return id;
}

void check_status(herr_t status, const std::string& what) {
  if (status < 0) throw Error(fmt::format("HDF5: cannot {}: {}", what, error_stack()));
}

void write_table(hid_t parent, const std::string& name, const std::vector<WriteColumn>& columns) {
  LOOM_CHECK(!columns.empty(), "table {} has no columns", name);
  const size_t rows = column_size(columns.front().values);
  for (const auto& column : columns)
    LOOM_CHECK(column_size(column.values) == rows, "column {} of table {} has {} values, expected {}", column.name,
               name, column_size(column.values), rows);
  const size_t row_bytes = kMemberBytes * columns.size();

  Handle string_type = utf8_string_type();
  Handle type(check(H5Tcreate(H5T_COMPOUND, row_bytes), "create compound type"), Handle::Kind::datatype);
  for (size_t c = 0; c < columns.size(); ++c) {
    hid_t member = std::visit(
        [&](const auto& v) -> hid_t {
          using T = typename std::decay_t<decltype(v)>::value_type;
          if constexpr (std::is_same_v<T, const char*>) return string_type.get();
          else if constexpr (std::is_same_v<T, int64_t>) return H5T_NATIVE_INT64;
          else return H5T_NATIVE_DOUBLE;
        },
        columns[c].values);
    check_status(H5Tinsert(type.get(), columns[c].name.c_str(), c * kMemberBytes, member),
                 "add column " + columns[c].name);
  }

  const hsize_t dims[1] = {rows};
  const hsize_t max_dims[1] = {H5S_UNLIMITED};
  Handle space(check(H5Screate_simple(1, dims, max_dims), "create dataspace"), Handle::Kind::dataspace);
  Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), "create property list"), Handle::Kind::plist);
  const hsize_t chunk[1] = {std::clamp<hsize_t>(rows, 1, kChunkRows)};
  check_status(H5Pset_chunk(dcpl.get(), 1, chunk), "set chunking");
  Handle dataset(check(H5Dcreate2(parent, name.c_str(), type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                       "create dataset " + name),
                 Handle::Kind::dataset);

  std::vector<char> buffer;
  for (hsize_t start = 0; start < rows; start += kSlabRows) {
    const hsize_t count = std::min<hsize_t>(kSlabRows, rows - start);
    buffer.assign(count * row_bytes, '\0');
    for (size_t c = 0; c < columns.size(); ++c)
      std::visit(
          [&](const auto& v) {
            for (hsize_t r = 0; r < count; ++r)
              std::memcpy(buffer.data() + r * row_bytes + c * kMemberBytes, &v[start + r], kMemberBytes);
          },
          columns[c].values);
    Handle memspace(check(H5Screate_simple(1, &count, nullptr), "create memory space"), Handle::Kind::dataspace);
    check_status(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr), "select rows");
    check_status(H5Dwrite(dataset.get(), type.get(), memspace.get(), space.get(), H5P_DEFAULT, buffer.data()),
                 "write rows of " + name);
  }
}

ReadTable read_table(hid_t parent, const std::string& name, const std::map<std::string, ColumnKind>& wanted) {
  Handle dataset(check(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), "open dataset " + name), Handle::Kind::dataset);
  Handle file_type(check(H5Dget_type(dataset.get()), "get type of " + name), Handle::Kind::datatype);
  LOOM_CHECK(H5Tget_class(file_type.get()) == H5T_COMPOUND, "dataset {} is not a compound table", name);
  Handle space(check(H5Dget_space(dataset.get()), "get space of " + name), Handle::Kind::dataspace);
  const hssize_t npoints = H5Sget_simple_extent_npoints(space.get());
  LOOM_CHECK(npoints >= 0, "dataset {} has no valid extent", name);

  ReadTable table;
  table.rows = static_cast<size_t>(npoints);
  std::vector<std::pair<std::string, ColumnKind>> present;
  for (const auto& [column, kind] : wanted)
    if (H5Tget_member_index(file_type.get(), column.c_str()) >= 0) present.emplace_back(column, kind);
  if (present.empty()) return table;

  const size_t row_bytes = kMemberBytes * present.size();
  Handle string_type = utf8_string_type();
  Handle memtype(check(H5Tcreate(H5T_COMPOUND, row_bytes), "create compound type"), Handle::Kind::datatype);
  for (size_t c = 0; c < present.size(); ++c) {
    const auto& [column, kind] = present[c];
    hid_t member = kind == ColumnKind::string  ? string_type.get()
                   : kind == ColumnKind::int64 ? H5T_NATIVE_INT64
                                               : H5T_NATIVE_DOUBLE;
    check_status(H5Tinsert(memtype.get(), column.c_str(), c * kMemberBytes, member), "add column " + column);
    if (kind == ColumnKind::string) table.columns[column] = std::vector<std::string>();
    else if (kind == ColumnKind::int64) table.columns[column] = std::vector<int64_t>();
    else table.columns[column] = std::vector<double>();
    std::visit([&](auto& v) { v.reserve(table.rows); }, table.columns[column]);
  }

  std::vector<char> buffer;
  for (hsize_t start = 0; start < table.rows; start += kSlabRows) {
    const hsize_t count = std::min<hsize_t>(kSlabRows, table.rows - start);
    buffer.assign(count * row_bytes, '\0');
    Handle memspace(check(H5Screate_simple(1, &count, nullptr), "create memory space"), Handle::Kind::dataspace);
    check_status(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr), "select rows");
    check_status(H5Dread(dataset.get(), memtype.get(), memspace.get(), space.get(), H5P_DEFAULT, buffer.data()),
                 "read rows of " + name);
    for (size_t c = 0; c < present.size(); ++c)
      std::visit(
          [&](auto& v) {
            using T = typename std::decay_t<decltype(v)>::value_type;
            for (hsize_t r = 0; r < count; ++r) {
              const char* cell = buffer.data() + r * row_bytes + c * kMemberBytes;
              if constexpr (std::is_same_v<T, std::string>) {
                const char* text;
                std::memcpy(&text, cell, sizeof text);
                v.emplace_back(text ? text : "");
              } else {
                T value;
                std::memcpy(&value, cell, sizeof value);
                v.push_back(value);
              }
            }
          },
          table.columns[present[c].first]);
    check_status(reclaim(memtype.get(), memspace.get(), buffer.data()), "free strings of " + name);
  }
  return table;
}

void write_string_attribute(hid_t object, const std::string& name, const std::string& value) {
  Handle type = utf8_string_type();
  Handle space(check(H5Screate(H5S_SCALAR), "create scalar space"), Handle::Kind::dataspace);
  Handle attribute(check(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                         "create attribute " + name),
                   Handle::Kind::attribute);
  const char* text = value.c_str();
  check_status(H5Awrite(attribute.get(), type.get(), &text), "write attribute " + name);
}

void write_string_list_attribute(hid_t object, const std::string& name, const std::vector<std::string>& values) {
  Handle type = utf8_string_type();
  const hsize_t dims[1] = {values.size()};
  Handle space(check(H5Screate_simple(1, dims, nullptr), "create list space"), Handle::Kind::dataspace);
  Handle attribute(check(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                         "create attribute " + name),
                   Handle::Kind::attribute);
  std::vector<const char*> texts;
  for (const auto& v : values) texts.push_back(v.c_str());
  if (!texts.empty()) check_status(H5Awrite(attribute.get(), type.get(), texts.data()), "write attribute " + name);
}

std::map<std::string, std::vector<std::string>> read_string_attributes(hid_t object) {
  std::map<std::string, std::vector<std::string>> out;
  AttributeCollector collector{&out};
  hsize_t index = 0;
  check_status(H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &index, collect_attribute, &collector),
               "list attributes");
  return out;
}

}  // namespace loom::results::h5
