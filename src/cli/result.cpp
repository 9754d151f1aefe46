#include "cli/result.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "report/comment.hpp"

namespace amlops::cli {

void add_markdown_option(Command& cmd) {
  cmd.options()("markdown", po::value<std::string>(),
                "write the result as a markdown fragment (title, verdict, status, body) to this file, for "
                "amlops-report");
}

void publish_result(Context& ctx, const report::Fragment& f, const std::string& markdown_path) {
  report::Fragment clean = f;
  clean.verdict = redact::text(f.verdict);
  clean.body = redact::text(f.body);
  if (ctx.host.kind() != ci::Kind::terminal) ctx.host.summary(report::render_section(clean));
  if (!markdown_path.empty()) {
    try {
      report::write_fragment(markdown_path, clean);
    } catch (const std::filesystem::filesystem_error& e) {  // a file where a folder should be
      throw ConfigError("cannot write the markdown fragment " + markdown_path + ": " + e.code().message());
    }
    log::debug("wrote the markdown fragment ", markdown_path);
  }
}

void publish_result(Context& ctx, const report::Fragment& f, const Command& cmd) {
  publish_result(ctx, f, cmd.str("markdown"));
}

std::string count_of(size_t n, const std::string& singular, const std::string& plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : (plural.empty() ? singular + "s" : plural));
}

}  // namespace amlops::cli
