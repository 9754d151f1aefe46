// Small string helpers that the standard library lacks.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amlops::str {

std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);
std::string replace_all(std::string s, std::string_view from, std::string_view to);
bool iequals(std::string_view a, std::string_view b);

// Escapes & < > " ' for XML and HTML text and attribute values.
std::string xml_escape(std::string_view s);

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string url_encode(std::string_view s);
// Percent-decoding; '+' becomes a space only in form encoding.
std::string url_decode(std::string_view s, bool plus_as_space = false);
// Splits "k=v" at the first '='; nullopt when there is none.
std::optional<std::pair<std::string, std::string>> split_key_value(std::string_view s);

std::optional<int64_t> parse_int(std::string_view s);
std::optional<double> parse_double(std::string_view s);

// Quotes a string for a POSIX shell (single quotes), for messages and --print-env.
std::string shell_quote(std::string_view s);
// Random hex string from the OS's random source (delimiters, ids).
std::string random_hex(size_t bytes);

// Edit distance with adjacent transpositions (optimal string alignment), for "did you mean".
size_t edit_distance(std::string_view a, std::string_view b);
// The candidate nearest to `word` when it is close enough to be a likely typo (at most 2 edits,
// and fewer than half the word's length), else empty.
std::string closest(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace amlops::str
