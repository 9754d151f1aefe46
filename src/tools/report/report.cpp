// amlops-report: `comment` assembles markdown fragments into one pull-request comment, updated in
// place on every run (GitHub, Azure DevOps); `summary` writes the same report to the job summary.
#include <algorithm>
#include <filesystem>
#include <memory>

#include "cli/cli.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "report/publish.hpp"

namespace amlops {
namespace {

namespace fs = std::filesystem;
using cli::po::value;

void add_fragment_options(cli::Command& cmd) {
  cmd.options()("fragment", value<std::vector<std::string>>()->composing(),
                "markdown fragment file written by a tool's --markdown (repeatable; a directory means its *.md "
                "files; a CI input may list several, one a line)")(
      "title", value<std::string>()->default_value("amlops report"), "heading of the report");
  cmd.positional("fragment", -1);
}

// Fragment files in command-line order; a directory contributes its *.md files sorted by name. A
// missing file becomes a warning section (the step that writes it may have failed or not run).
std::vector<report::Fragment> load_fragments(const cli::Command& cmd) {
  std::vector<report::Fragment> out;
  for (const std::string& value : cmd.list("fragment")) {
    for (const std::string& raw : str::split(value, '\n')) {
      std::string item(str::trim(raw));
      if (item.empty()) continue;
      fs::path p(item);
      if (fs::is_directory(p)) {
        std::vector<fs::path> mds;
        for (auto& e : fs::directory_iterator(p))
          if (e.is_regular_file() && e.path().extension() == ".md") mds.push_back(e.path());
        std::sort(mds.begin(), mds.end());
        for (auto& m : mds) out.push_back(report::read_fragment(m));
      } else if (fs::exists(p)) {
        out.push_back(report::read_fragment(p));
      } else {
        log::warn("fragment ", item, " does not exist: the report shows it as missing");
        report::Fragment f;
        f.title = p.stem().string();
        f.status = report::FragmentStatus::warn;
        f.verdict = "no report: " + item + " was not written (did the step that writes it run?)";
        out.push_back(std::move(f));
      }
    }
  }
  return out;
}

int comment_cmd(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "comment",
                   "Creates or updates this workflow's comment on the current pull request (GitHub, Azure DevOps). "
                   "Without a pull request, or when the token may not write, the report goes to the job summary and "
                   "the exit code is 0.",
                   "[--fragment F]... [--key NAME] [--title T] [--issue N] [--token-env VAR]");
  add_fragment_options(cmd);
  cmd.options()("key", value<std::string>(),
                "which comment to update (default: the workflow or pipeline name); runs with another key get "
                "their own comment")("issue", value<int64_t>(),
                                     "pull request or issue number (default: the pull request that triggered the "
                                     "run)")(
      "token-env", value<std::string>(),
      "environment variable holding the token (default: GITHUB_TOKEN on GitHub, SYSTEM_ACCESSTOKEN on Azure "
      "DevOps)")("blocking", cli::po::bool_switch(),
                 "Azure DevOps: leave the thread active, so that a 'resolve comments' policy blocks completion");
  if (!cmd.parse(args)) return 0;

  if (cmd.list("fragment").empty()) throw UsageError("give at least one --fragment (a file or a directory)");
  report::PublishOptions opt;
  opt.fragments = load_fragments(cmd);
  opt.title = cmd.str("title", "amlops report");
  if (cmd.vm().count("key")) opt.key = cmd.str("key");
  if (cmd.vm().count("issue")) {
    opt.issue = cmd.get<int64_t>("issue");
    if (*opt.issue <= 0) throw UsageError("--issue must be a positive number");
  }
  if (cmd.vm().count("token-env")) opt.token_env = cmd.str("token-env");
  opt.blocking = cmd.flag("blocking");
  opt.run_url = ctx.host.run_url();

  net::ClientOptions co;
  co.clock = &ctx.clock;
  co.user_agent = "amlops/" + ctx.tool;
  net::Client http(co);
  report::PublishResult r =
      report::publish_comment(ctx.env, http, opt, [&](const std::string& md) { ctx.host.summary(md); });

  // On a terminal there is no job summary: the markdown is the result.
  bool print_markdown = r.action == "summary" && ctx.host.kind() == ci::Kind::terminal;
  if (r.action != "summary") {
    ctx.host.set_output("comment-id", r.id);
    ctx.host.set_output("comment-url", r.url);
  }
  ctx.host.set_output("comment-action", r.action);

  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "host", r.host);
  b.set(doc, "action", r.action);
  b.set(doc, "key", r.key);
  if (r.pull_request) b.set(doc, "pull_request", static_cast<int64_t>(*r.pull_request));
  if (!r.id.empty()) b.set(doc, "id", r.id);
  if (!r.url.empty()) b.set(doc, "url", r.url);
  if (!r.reason.empty()) b.set(doc, "reason", r.reason);
  b.set(doc, "sections", static_cast<uint64_t>(r.sections));
  b.set(doc, "left_out", static_cast<uint64_t>(r.left_out));
  b.set(doc, "bytes", static_cast<uint64_t>(r.bytes));
  if (print_markdown) b.set(doc, "markdown", r.markdown);
  ctx.emit(doc, [&](std::ostream& os) {
    if (print_markdown) {
      os << r.markdown;
    } else if (r.action == "summary") {
      os << "wrote the report to the job summary: " << r.reason << "\n";
    } else {
      os << r.action << " " << (r.host == "github" ? "comment " : "thread ") << r.id << " (key '" << r.key << "'"
         << (r.left_out ? ", " + std::to_string(r.left_out) + " section(s) left out for the size limit" : "") << ")"
         << (r.url.empty() ? "" : ": " + r.url) << "\n";
    }
  });
  return 0;
}

int summary_cmd(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "summary",
                   "Writes the fragments as one report to the job summary (on a terminal: prints the markdown).",
                   "--fragment F...");
  add_fragment_options(cmd);
  if (!cmd.parse(args)) return 0;
  if (cmd.list("fragment").empty()) throw UsageError("give at least one --fragment (a file or a directory)");
  auto fragments = load_fragments(cmd);
  std::string md = report::summary_markdown(fragments, cmd.str("title", "amlops report"));
  bool terminal = ctx.host.kind() == ci::Kind::terminal;
  if (!terminal) {
    ctx.host.summary(md);
    log::info("wrote ", fragments.size(), " section(s) to the job summary");
  }
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "host", ctx.host.name());
  b.set(doc, "sections", static_cast<uint64_t>(fragments.size()));
  b.set(doc, "bytes", static_cast<uint64_t>(md.size()));
  b.set(doc, "markdown", md);
  ctx.emit(doc, [&](std::ostream& os) {
    if (terminal) os << md;
  });
  return 0;
}

}  // namespace

int run_report(Context& ctx, const std::vector<std::string>& args) {
  return cli::dispatch(ctx,
                       "amlops-report: one pull-request comment, updated in place (GitHub, Azure DevOps), and job "
                       "summaries from the markdown fragments that tools write with --markdown",
                       {{"comment", "create or update this workflow's pull-request comment", comment_cmd},
                        {"summary", "write the report to the job summary (terminal: print it)", summary_cmd}},
                       args);
}

}  // namespace amlops
