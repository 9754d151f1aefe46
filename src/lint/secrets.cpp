// Credentials in text: Azure Storage keys and connection strings, SAS tokens, Entra client
// secrets, private keys and common API keys. Patterns follow gitleaks, Microsoft
// security-utilities and detect-secrets (see reference/ci-conventions.md §4.2). Each pattern runs
// only when one of its keywords occurs in the text, which keeps a 10,000-file scan fast.
#include <algorithm>
#include <array>
#include <cctype>

#include "lint/internal.hpp"

namespace amlops::lint::detail {
namespace {

// The public Azurite/Azure Storage Emulator key: documented, not a secret.
constexpr std::string_view kAzuriteKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

struct Pattern {
  std::string_view rule;
  std::string_view what;
  std::vector<std::string_view> keywords;  // lower-case; searched in the lower-cased text
  std::string regex;
  bool caseless = false;
};

struct Compiled {
  const Pattern* p;
  std::unique_ptr<Regex> re;
};

const std::vector<Pattern>& patterns() {
  static const std::vector<Pattern> p = {
      {"SEC001",
       "Azure Storage account key in a connection string",
       {"accountkey", "sharedaccesskey"},
       R"((?:AccountKey|SharedAccessKey)\s*=\s*([A-Za-z0-9+/]{86}==|[A-Za-z0-9+/]{43}=))",
       true},
      {"SEC001",
       "Azure Storage account key",
       {"key"},
       R"((?:access|account|storage)[_.-]?key["']?\s*[:=]\s*["']?([A-Za-z0-9+/]{86}==))",
       true},
      {"SEC001",
       "Azure Storage account key (identifiable format)",
       {"+ast"},
       R"((?:^|[^A-Za-z0-9+/_\-])([A-Za-z0-9+/]{76}\+ASt[A-Za-z0-9+/]{5}[AQgw]==))"},
      {"SEC002", "Azure Storage SAS token", {"sig="}, R"((?:^|[?;&"'\s])sig=([0-9A-Za-z/+%]{43,129}(?:=|%3[dD])))"},
      {"SEC003",
       "Microsoft Entra ID client secret",
       {"q~"},
       R"((?:^|[\\'"`\s>=:(,)])([a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34})(?:$|[\\'"`\s<),]))"},
      {"SEC003",
       "client secret",
       {"client_secret", "client-secret", "clientsecret"},
       R"((?:client[_-]?secret)["']?\s*[:=]\s*["']([A-Za-z0-9_~.\-+/]{32,44}=?)["'])",
       true},
      {"SEC004", "private key", {"private key"}, R"(-----BEGIN[ A-Z]{0,20} PRIVATE KEY(?: BLOCK)?-----)"},
      {"SEC005",
       "Azure OpenAI / AI services key",
       {"openai", "ocp-apim-subscription-key", "cognitive"},
       R"((?:openai|ocp-apim-subscription-key|cognitive)[\w.-]{0,24}["']?\s*[:=]\s*["']?([a-f0-9]{32})\b)",
       true},
      {"SEC005", "AWS access key id", {"akia", "asia"}, R"(\b((?:AKIA|ASIA)[A-Z0-9]{16})\b)"},
      {"SEC005",
       "GitHub token",
       {"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
       R"(\b((?:gh[pousr]_[A-Za-z0-9]{36})|github_pat_[A-Za-z0-9_]{82}))"},
      {"SEC005", "Google API key", {"aiza"}, R"(\b(AIza[0-9A-Za-z_\-]{35}))"},
      {"SEC005",
       "OpenAI API key",
       {"sk-"},
       R"(\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,}))"},
      {"SEC005", "Anthropic API key", {"sk-ant-"}, R"(\b(sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_\-]{80,100}))"},
      {"SEC005", "Hugging Face token", {"hf_"}, R"(\b(hf_[A-Za-z]{34})\b)"},
      {"SEC005", "Databricks token", {"dapi"}, R"(\b(dapi[a-f0-9]{32}(?:-\d)?)\b)"},
      {"SEC005", "Slack token", {"xox"}, R"(\b(xox[baprs]-[0-9A-Za-z\-]{10,}))"},
  };
  return p;
}

const std::vector<Compiled>& compiled() {
  static const std::vector<Compiled> c = [] {
    std::vector<Compiled> v;
    for (auto& p : patterns()) v.push_back({&p, std::make_unique<Regex>(p.regex, p.caseless)});
    return v;
  }();
  return c;
}

bool placeholder(std::string_view value) {
  // Documentation placeholders: long runs of one character, "xxxx", "<key>".
  if (value.find("xxxx") != std::string_view::npos || value.find("XXXX") != std::string_view::npos) return true;
  if (value.find("EXAMPLE") != std::string_view::npos) return true;
  size_t same = 0;
  for (size_t i = 1; i < value.size(); ++i)
    if (value[i] == value[i - 1] && ++same > value.size() / 2) return true;
  return false;
}

}  // namespace

void scan_secrets(const std::string& path, std::string_view content, Sink& sink) {
  std::string lower(content);
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));  // ASCII only: keywords are ASCII
  std::unique_ptr<Text> text;
  std::vector<std::pair<std::string, int>> seen;  // (rule, line): one finding per rule and line
  for (auto& c : compiled()) {
    bool any = std::any_of(c.p->keywords.begin(), c.p->keywords.end(),
                           [&](std::string_view k) { return lower.find(k) != std::string::npos; });
    if (!any) continue;
    c.re->each(content, [&](const Regex::Match& m) {
      std::string_view value = content.substr(m.g1_begin, m.g1_end - m.g1_begin);
      if (value == kAzuriteKey || value.find(kAzuriteKey.substr(0, 40)) != std::string_view::npos) return;
      if (c.p->rule != "SEC004" && placeholder(value)) return;
      if (!text) text = std::make_unique<Text>(content);
      int line = text->line_of(m.g1_begin);
      std::pair<std::string, int> key{std::string(c.p->rule), line};
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) return;
      seen.push_back(key);
      int col = text->col_of(m.g1_begin);
      int end_col = text->line_of(m.g1_end) == line ? text->col_of(m.g1_end) : 0;
      std::string shown = c.p->rule == "SEC004" ? std::string(value.substr(0, 10)) + "…" : redact_value(value);
      std::string msg = std::string(c.p->what) + " " + shown;
      if (!sink.commit.empty()) msg += " in commit " + sink.commit.substr(0, 12);
      sink.add(c.p->rule, path, line, col, msg, end_col);
    });
  }
}

}  // namespace amlops::lint::detail
