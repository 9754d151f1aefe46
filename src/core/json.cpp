#include "core/json.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace amlops::json {
namespace {

SourceLocation offset_location(std::string_view text, size_t offset, const std::string& source) {
  int line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {source, line, col};
}

[[noreturn]] void type_error(std::string_view source, std::string_view pointer, const char* what, bool missing) {
  std::string p = pointer.empty() ? "/" : std::string(pointer);
  throw ConfigError(std::string(source) + ": " + p + (missing ? ": missing (expected " : ": expected ") + what +
                    (missing ? ")" : ""));
}

// Debian's RapidJSON 1.1.0 reads out of bounds (full-precision path) on numbers far below the
// double range with many digits, e.g. 0.7777777777777777777e-330. Such numbers are refused
// before parsing: the decimal exponent of their first significant digit must be >= -320.
constexpr long kMinDecimalExponent = -320;

void check_number_ranges(std::string_view text, const std::string& source) {
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) continue;
    size_t start = i;
    if (c == '-') ++i;
    long int_digits = 0, leading_frac_zeros = 0;
    bool significant = false;
    auto digit = [&](size_t k) { return k < text.size() && text[k] >= '0' && text[k] <= '9'; };
    for (; digit(i); ++i) {
      if (text[i] != '0') significant = true;
      if (significant) ++int_digits;
    }
    if (i < text.size() && text[i] == '.') {
      for (++i; digit(i); ++i) {
        if (!significant && text[i] != '0') significant = true;
        if (!significant) ++leading_frac_zeros;
      }
    }
    long exponent = 0;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
      ++i;
      bool negative = i < text.size() && text[i] == '-';
      if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
      for (; digit(i); ++i) exponent = std::min(exponent * 10 + (text[i] - '0'), 1'000'000'000L);
      if (negative) exponent = -exponent;
    }
    if (significant) {
      long first = int_digits > 0 ? int_digits - 1 : -(leading_frac_zeros + 1);
      if (first + exponent < kMinDecimalExponent) {
        throw ConfigError(offset_location(text, start, source),
                          "JSON parse error: number below the range of a double (" +
                              std::string(text.substr(start, std::min<size_t>(i - start, 40))) + ")");
      }
    }
    if (i > start) --i;  // the loop's ++i moves past the token
  }
}

}  // namespace

Document parse(std::string_view text, const std::string& source) {
  check_number_ranges(text, source);
  Document d;
  d.Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseNanAndInfFlag>(text.data(), text.size());
  if (d.HasParseError()) {
    throw ConfigError(offset_location(text, d.GetErrorOffset(), source),
                      std::string("JSON parse error: ") + rapidjson::GetParseError_En(d.GetParseError()));
  }
  return d;
}

const Value* find(const Value& root, std::string_view pointer) {
  if (pointer.empty()) return &root;
  rapidjson::Pointer p(pointer.data(), pointer.size());
  if (!p.IsValid()) return nullptr;
  return p.Get(root);
}

std::string get_string(const Value& root, std::string_view pointer, std::string_view source) {
  const Value* v = find(root, pointer);
  if (!v || !v->IsString()) type_error(source, pointer, "a string", !v);
  return {v->GetString(), v->GetStringLength()};
}

double get_number(const Value& root, std::string_view pointer, std::string_view source) {
  const Value* v = find(root, pointer);
  if (!v || !v->IsNumber()) type_error(source, pointer, "a number", !v);
  return v->GetDouble();
}

int64_t get_int(const Value& root, std::string_view pointer, std::string_view source) {
  const Value* v = find(root, pointer);
  if (!v || !v->IsInt64()) type_error(source, pointer, "an integer", !v);
  return v->GetInt64();
}

bool get_bool(const Value& root, std::string_view pointer, std::string_view source) {
  const Value* v = find(root, pointer);
  if (!v || !v->IsBool()) type_error(source, pointer, "true or false", !v);
  return v->GetBool();
}

std::optional<std::string> opt_string(const Value& root, std::string_view pointer) {
  const Value* v = find(root, pointer);
  if (!v || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

std::optional<double> opt_number(const Value& root, std::string_view pointer) {
  const Value* v = find(root, pointer);
  if (!v || !v->IsNumber()) return std::nullopt;
  return v->GetDouble();
}

std::optional<int64_t> opt_int(const Value& root, std::string_view pointer) {
  const Value* v = find(root, pointer);
  if (!v || !v->IsInt64()) return std::nullopt;
  return v->GetInt64();
}

std::optional<bool> opt_bool(const Value& root, std::string_view pointer) {
  const Value* v = find(root, pointer);
  if (!v || !v->IsBool()) return std::nullopt;
  return v->GetBool();
}

std::string dump(const Value& v, bool pretty) {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    v.Accept(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
  }
  return {buf.GetString(), buf.GetSize()};
}

void Builder::set(Value& o, std::string_view key, Value v) {
  auto it = o.FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
  if (it != o.MemberEnd()) {
    it->value = std::move(v);
    return;
  }
  o.AddMember(str(key), v, a_);
}

void ObjectBuilder::set(std::string_view key, Value v) {
  auto [it, fresh] = index_.try_emplace(std::string(key), o_.MemberCount());
  if (!fresh) {
    (o_.MemberBegin() + it->second)->value = std::move(v);
    return;
  }
  o_.AddMember(b_.str(key), v, b_.allocator());
}

void Builder::set(Value& o, std::string_view key, double v) {
  if (std::isfinite(v))
    set(o, key, Value(v));
  else
    set_null(o, key);
}

std::vector<std::string> keys(const Value& obj) {
  std::vector<std::string> out;
  if (!obj.IsObject()) return out;
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) out.emplace_back(it->name.GetString());
  return out;
}

std::string scalar_text(const Value& v) {
  if (v.IsString()) return {v.GetString(), v.GetStringLength()};
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNull()) return "";
  if (v.IsNumber()) return dump(v);
  return dump(v);
}

std::map<std::string, std::string> string_map(const Value& root, std::string_view pointer) {
  std::map<std::string, std::string> out;
  const Value* m = find(root, pointer);
  if (m && m->IsObject())
    for (auto& kv : m->GetObject()) out[kv.name.GetString()] = scalar_text(kv.value);
  return out;
}

}  // namespace amlops::json
