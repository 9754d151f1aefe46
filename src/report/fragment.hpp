// Markdown fragments: the unit that tools hand to amlops-report. A tool run with `--markdown F`
// writes one fragment file; `amlops-report comment|summary --fragment F...` assembles them into
// one pull-request comment or job summary. A fragment file is plain markdown that renders on its
// own (the header is an HTML comment):
//
//   <!-- amlops-fragment
//   title: Lint
//   verdict: 2 errors, 1 warning in 120 files
//   status: fail
//   order: 20
//   -->
//   | severity | rule | location | message |
//   ...
//
// `title` names the section; `verdict` is one line shown even when the body is collapsed;
// `status` is pass, fail, warn or info (an icon in the heading); `order` places the section
// (lower first, default 50; ties by title). Unknown keys are ignored, so the format can grow.
// A markdown file without the header is accepted too: its file name is the title.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace amlops::report {

enum class FragmentStatus { info, pass, warn, fail };

struct Fragment {
  std::string title;
  std::string verdict;  // one line
  FragmentStatus status = FragmentStatus::info;
  int order = 50;
  std::string body;  // markdown
};

inline constexpr int kDefaultFragmentOrder = 50;

// Fragment::order of each tool's sections (docs/report.md): the loop's order, lint first.
namespace section_order {
inline constexpr int lint = 10, job = 20, model = 30, promote = 40, deploy = 50, monitor = 60, setup = 70, doctor = 80;
}  // namespace section_order

std::string_view status_name(FragmentStatus s);
// "pass", "fail", "warn" or "info" (case-insensitive, a few synonyms); else ConfigError naming `source`.
FragmentStatus parse_status(std::string_view s, const std::string& source);

// The file text of a fragment. Newlines in title/verdict become spaces and "-->" cannot close
// the header early, so any strings are safe.
std::string render_fragment(const Fragment& f);
// Parses a fragment's text; `source` names it in errors ("lint.md:3: ...") and is the title of a
// file without a header.
Fragment parse_fragment(std::string_view text, const std::string& source);
Fragment read_fragment(const std::filesystem::path& path);

// What a tool calls for `--markdown F`: writes the fragment atomically (readers never see half a
// file). Throws ConfigError when the file cannot be written.
void write_fragment(const std::filesystem::path& path, const Fragment& f);

}  // namespace amlops::report
