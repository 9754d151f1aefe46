// JSON on RapidJSON: parsing with line:col errors, typed access with JSON-pointer paths in
// errors, and terse building helpers.
#pragma once
#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace amlops::json {

using Document = rapidjson::Document;
using Value = rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

// Parses text; on error throws ConfigError("SOURCE:line:col: JSON parse error: reason").
Document parse(std::string_view text, const std::string& source = "<json>");

// RFC 6901 lookup; nullptr when absent. "" is the root.
const Value* find(const Value& root, std::string_view pointer);

// Typed access. Errors name the source and pointer: "job.json: /properties/status: expected a string".
// `source` describes the document (a file name or "response of GET /jobs/x").
std::string get_string(const Value& root, std::string_view pointer, std::string_view source = "<json>");
double get_number(const Value& root, std::string_view pointer, std::string_view source = "<json>");
int64_t get_int(const Value& root, std::string_view pointer, std::string_view source = "<json>");
bool get_bool(const Value& root, std::string_view pointer, std::string_view source = "<json>");
std::optional<std::string> opt_string(const Value& root, std::string_view pointer);
std::optional<double> opt_number(const Value& root, std::string_view pointer);
std::optional<int64_t> opt_int(const Value& root, std::string_view pointer);
std::optional<bool> opt_bool(const Value& root, std::string_view pointer);

// Serialisation.
std::string dump(const Value& v, bool pretty = false);

// Building: json::Builder keeps the allocator so that calls stay short.
class Builder {
 public:
  explicit Builder(Allocator& a) : a_(a) {}
  Value str(std::string_view s) { return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a_); }
  Value obj() { return Value(rapidjson::kObjectType); }
  Value arr() { return Value(rapidjson::kArrayType); }
  // Sets (replacing) member `key` of object `o`.
  void set(Value& o, std::string_view key, Value v);
  void set(Value& o, std::string_view key, std::string_view s) { set(o, key, str(s)); }
  void set(Value& o, std::string_view key, const char* s) { set(o, key, str(s)); }
  void set(Value& o, std::string_view key, const std::string& s) { set(o, key, str(s)); }
  void set(Value& o, std::string_view key, bool b) { set(o, key, Value(b)); }
  void set(Value& o, std::string_view key, int v) { set(o, key, Value(v)); }
  void set(Value& o, std::string_view key, int64_t v) { set(o, key, Value(v)); }
  void set(Value& o, std::string_view key, uint64_t v) { set(o, key, Value(v)); }
  void set(Value& o, std::string_view key, double v);  // NaN/inf become null
  void set_null(Value& o, std::string_view key) { set(o, key, Value(rapidjson::kNullType)); }
  void push(Value& a, Value v) { a.PushBack(v, a_); }
  void push(Value& a, std::string_view s) { a.PushBack(str(s), a_); }
  Value copy(const Value& v) { return Value(v, a_); }
  Allocator& allocator() { return a_; }

 private:
  Allocator& a_;
};

// Builds an object with many members in linear time (Builder::set looks each key up, which is
// quadratic over a mapping of 40,000 tags); a repeated key replaces the earlier value, as set does.
class ObjectBuilder {
 public:
  explicit ObjectBuilder(Builder& b) : b_(b), o_(rapidjson::kObjectType) {}
  void set(std::string_view key, Value v);
  Value take() { return std::move(o_); }

 private:
  Builder& b_;
  Value o_;
  std::unordered_map<std::string, rapidjson::SizeType> index_;
};

// Object iteration helpers.
std::vector<std::string> keys(const Value& obj);
// Renders a scalar as text (strings unquoted, numbers shortest round-trip, bools, null as "").
std::string scalar_text(const Value& v);
// The object at `pointer` as name -> scalar_text(value); empty when absent or not an object.
std::map<std::string, std::string> string_map(const Value& root, std::string_view pointer);

}  // namespace amlops::json
