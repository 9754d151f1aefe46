// One pull-request comment assembled from markdown fragments: a hidden marker first (so that the
// next run finds and updates the same comment), a title, then one section per fragment in a
// stable order, long bodies collapsed in <details>, and a cut at a section boundary when the
// host's size limit would be passed. Pure functions; the hosts' REST calls are in github.hpp and
// azdo.hpp, the whole flow in publish.hpp.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "report/fragment.hpp"

namespace amlops::report {

// Comment size limits. GitHub rejects a body over 65,536 characters ("Body is too long");
// Azure DevOps over 150,000 ("A discussion comment cannot be longer than 150000 characters").
// Lengths are counted in bytes here, never fewer than characters, so the cut is on the safe side.
inline constexpr size_t kGitHubCommentLimit = 65536;
inline constexpr size_t kAzureDevOpsCommentLimit = 150000;

// A body is collapsed into <details> when it has more lines or bytes than this.
inline constexpr size_t kCollapseLines = 15;
inline constexpr size_t kCollapseBytes = 1500;

// A key usable inside an HTML comment: control characters, '<' and '>' become '_', "--" is
// broken up, surrounding space trimmed; empty becomes "amlops".
std::string sanitize_key(std::string_view key);
// "<!-- amlops-report:KEY -->" for a sanitised key.
std::string marker(std::string_view key);
// True when `body` begins (after leading whitespace) with `marker`: ours, not a quote of it.
bool has_marker(std::string_view body, std::string_view marker);

// Sections sorted by (order, title); the sort is stable, so equal fragments keep their order.
std::vector<Fragment> ordered(std::vector<Fragment> fragments);
bool is_long(std::string_view body);
std::string status_icon(FragmentStatus s);
std::string render_section(const Fragment& f);

struct AssembleOptions {
  std::string marker;  // empty: none (job summaries)
  std::string title = "amlops report";
  std::string footer;  // one line of markdown (commit, run link); empty: none
  size_t limit = 0;    // bytes; 0: no limit
};

struct Assembled {
  std::string markdown;
  size_t sections = 0;  // sections shown whole
  size_t left_out = 0;  // sections cut for the size limit (listed by title and verdict)
  [[nodiscard]] bool truncated() const { return left_out > 0; }
};

Assembled assemble(const std::vector<Fragment>& fragments, const AssembleOptions& opt);

// The token may not write comments here (a fork's read-only token, a missing permission): the
// caller writes the job summary instead.
class CommentForbidden : public HttpError {
 public:
  using HttpError::HttpError;
};

}  // namespace amlops::report
