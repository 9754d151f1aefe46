// Secrets never reach a log: every registered secret is replaced by "***" in everything the
// logger writes, and URLs/headers are redacted by shape (sig=, key=, Authorization...).
#pragma once
#include <functional>
#include <string>
#include <string_view>

namespace amlops::redact {

// Registers a secret value (token, key, assertion). Listeners (a CI host's mask command) are
// told once per distinct value. Values shorter than 4 characters are ignored (too common).
void add_secret(std::string_view value);
// Called for every secret added, including those added before the listener.
void on_secret(std::function<void(const std::string&)> listener);
void clear_for_tests();

// Replaces every registered secret in text by "***".
std::string secrets(std::string_view text);
// Query values of sensitive parameters (sig, key, code, token, secret, password, assertion...)
// become "REDACTED"; user:password@ in the authority is dropped.
std::string url(std::string_view url);
// Header value for logging: sensitive headers (Authorization, x-ms-*-key, Cookie...) become "REDACTED".
std::string header(std::string_view name, std::string_view value);
// Shape-based redaction of free text: bearer tokens, "AccountKey=...", query strings inside it.
std::string text(std::string_view text);

}  // namespace amlops::redact
