#include "results/row_codec.h"

#include <array>
#include <cstring>

namespace loom::results {
namespace {

// Version 2 appends prefill_block_density; version 3 appends fingerprint and attempts. Version 4 moves the cost
// figures into one trailing block written from cost_columns(): a count, then (name, kind, value) per column, so a
// new figure needs no new version and a row decodes whatever columns it has (a missing one keeps SampleCost's
// default, an unknown one is skipped). Older rows (journals of older builds) still decode, with density 1.0, no
// fingerprint, one attempt and an unshared prefill. Version 5 adds first_output after attempts (older rows: empty).
constexpr uint8_t kRowVersion = 5;
constexpr uint8_t kCostRecordVersion = 4;
constexpr uint8_t kIntegerValue = 'i';
constexpr uint8_t kRealValue = 'f';

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  void i64(int64_t v) {
    auto u = static_cast<uint64_t>(v);
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
  }
  void f64(double v) {
    int64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    i64(bits);
  }
  void str(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    out_ += s;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u8(uint8_t& v) {
    if (!need(1)) return false;
    v = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool u32(uint32_t& v) {
    if (!need(4)) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(in_[pos_++])) << (8 * i);
    return true;
  }
  bool i64(int64_t& v) {
    if (!need(8)) return false;
    uint64_t u = 0;
    for (int i = 0; i < 8; ++i) u |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_++])) << (8 * i);
    v = static_cast<int64_t>(u);
    return true;
  }
  bool i32(int32_t& v) {
    int64_t wide;
    if (!i64(wide)) return false;
    v = static_cast<int32_t>(wide);
    return true;
  }
  bool f64(double& v) {
    int64_t bits;
    if (!i64(bits)) return false;
    std::memcpy(&v, &bits, sizeof v);
    return true;
  }
  bool str(std::string& s) {
    uint32_t n;
    if (!u32(n) || !need(n)) return false;
    s.assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool at_end() const { return pos_ == in_.size(); }

 private:
  bool need(size_t n) const { return in_.size() - pos_ >= n; }
  std::string_view in_;
  size_t pos_ = 0;
};

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

// Versions 1-3: the cost figures sit at fixed places among the other fields.
bool decode_before_cost_record(Reader& in, uint8_t version, ResultRow& r) {
  SampleCost& c = r.cost;
  bool ok = true;
  for (std::string* s : {&r.sample_key, &r.benchmark, &r.task, &r.capability, &r.metric, &r.sample_id})
    ok = ok && in.str(*s);
  for (int64_t* v : {&r.sample_index, &r.target_length, &r.context_length, &c.input_tokens, &c.output_tokens})
    ok = ok && in.i64(*v);
  for (std::string* s : {&r.prediction, &r.references_json, &r.metadata_json, &r.method, &r.method_params_json})
    ok = ok && in.str(*s);
  ok = ok && in.f64(c.prefill_seconds) && in.f64(c.decode_seconds) && in.i64(c.kv_bytes) &&
       in.i64(c.peak_memory_bytes) && in.i32(r.rank) && in.i32(r.group) && in.str(r.status) && in.str(r.error) &&
       in.f64(r.finished_unix);
  if (version >= 2) ok = ok && in.f64(c.prefill_block_density);
  if (version >= 3) ok = ok && in.str(r.fingerprint) && in.i32(r.attempts);
  return ok;
}

bool decode_cost(Reader& in, SampleCost& cost) {
  uint32_t count = 0;
  if (!in.u32(count)) return false;
  for (uint32_t i = 0; i < count; ++i) {
    std::string name;
    uint8_t kind = 0;
    int64_t bits = 0;
    if (!in.str(name) || !in.u8(kind) || !in.i64(bits)) return false;
    if (kind != kIntegerValue && kind != kRealValue) return false;
    for (const CostColumn& column : cost_columns()) {
      if (column.name != name) continue;
      if (kind == kIntegerValue) {
        set_cost_integer(cost, column.field, bits);
      } else {
        double value;
        std::memcpy(&value, &bits, sizeof value);
        set_cost_value(cost, column.field, value);
      }
    }
  }
  return true;
}

bool decode_fields(Reader& in, uint8_t version, ResultRow& r) {
  bool ok = true;
  for (std::string* s : {&r.sample_key, &r.benchmark, &r.task, &r.capability, &r.metric, &r.sample_id})
    ok = ok && in.str(*s);
  for (int64_t* v : {&r.sample_index, &r.target_length, &r.context_length}) ok = ok && in.i64(*v);
  for (std::string* s : {&r.prediction, &r.references_json, &r.metadata_json, &r.method, &r.method_params_json})
    ok = ok && in.str(*s);
  ok = ok && in.i32(r.rank) && in.i32(r.group) && in.str(r.status) && in.str(r.error) && in.f64(r.finished_unix) &&
       in.str(r.fingerprint) && in.i32(r.attempts);
  if (version >= 5) ok = ok && in.str(r.first_output);
  return ok && decode_cost(in, r.cost);
}

}  // namespace

uint32_t crc32(const void* data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = make_crc_table();
  const auto* bytes = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

std::string encode_row(const ResultRow& r) {
  Writer w;
  w.u8(kRowVersion);
  for (const std::string* s : {&r.sample_key, &r.benchmark, &r.task, &r.capability, &r.metric, &r.sample_id}) w.str(*s);
  for (int64_t v : {r.sample_index, r.target_length, r.context_length}) w.i64(v);
  for (const std::string* s : {&r.prediction, &r.references_json, &r.metadata_json, &r.method, &r.method_params_json})
    w.str(*s);
  w.i64(r.rank);
  w.i64(r.group);
  w.str(r.status);
  w.str(r.error);
  w.f64(r.finished_unix);
  w.str(r.fingerprint);
  w.i64(r.attempts);
  w.str(r.first_output);
  // The cost record, one (name, kind, value) per column of cost_columns().
  const auto& columns = cost_columns();
  w.u32(static_cast<uint32_t>(columns.size()));
  for (const CostColumn& column : columns) {
    w.str(column.name);
    if (is_integer(column.field)) {
      w.u8(kIntegerValue);
      w.i64(cost_integer(r.cost, column.field));
    } else {
      w.u8(kRealValue);
      w.f64(cost_value(r.cost, column.field));
    }
  }
  return w.take();
}

std::optional<ResultRow> decode_row(std::string_view bytes) {
  Reader in(bytes);
  ResultRow r;
  uint8_t version = 0;
  if (!in.u8(version) || version < 1 || version > kRowVersion) return std::nullopt;
  const bool ok = version < kCostRecordVersion ? decode_before_cost_record(in, version, r) : decode_fields(in, version, r);
  if (!ok || !in.at_end()) return std::nullopt;
  return r;
}

}  // namespace loom::results
