#include "ci/host.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <ostream>
#include <stdexcept>

#include "ci/format.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"

namespace amlops::ci {

std::optional<std::string> Host::input(const std::string& name) const {
  for (const std::string& candidate :
       {input_env_name(kind(), name), input_env_name(kind(), str::replace_all(name, "-", "_"))}) {
    if (auto v = env_.get(candidate)) {
      std::string t(str::trim(*v));
      if (!t.empty()) return t;
    }
  }
  return std::nullopt;
}

bool Host::take_annotation_slot(Severity s) {
  int& n = counts_[static_cast<int>(s)];
  if (n >= kAnnotationCap) {
    ++dropped_;
    return false;
  }
  ++n;
  return true;
}

std::string random_token() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    got += static_cast<size_t>(n);
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

void Host::begin_untrusted(std::ostream& os) {
  if (untrusted_depth_++ > 0) return;
  untrusted_ = &os;
  if (kind() != Kind::github) return;
  stop_token_ = random_token();
  os << github::stop_commands(stop_token_) << '\n' << std::flush;
}

void Host::untrusted_line(std::string_view text) {
  std::ostream& os = untrusted_ ? *untrusted_ : cmd_;
  if (untrusted_depth_ == 0 && kind() == Kind::github) {
    // Outside a block: a block of one line.
    begin_untrusted(os);
    untrusted_line(text);
    end_untrusted();
    return;
  }
  if (kind() == Kind::azure)
    os << azure::neutralize(text) << '\n';
  else
    os << text << '\n';
  os.flush();
}

void Host::end_untrusted() {
  if (untrusted_depth_ == 0 || --untrusted_depth_ > 0) return;
  if (kind() == Kind::github) *untrusted_ << github::resume_commands(stop_token_) << '\n' << std::flush;
  untrusted_ = nullptr;
  stop_token_.clear();
}

void Host::command_line(const std::string& s) {
  if (untrusted_depth_ > 0 && kind() == Kind::github) {
    std::ostream& os = *untrusted_;
    os << github::resume_commands(stop_token_) << '\n' << s << '\n';
    stop_token_ = random_token();
    os << github::stop_commands(stop_token_) << '\n' << std::flush;
    return;
  }
  cmd_ << s << '\n' << std::flush;
}

namespace {

class TerminalHost : public Host {
 public:
  TerminalHost(const Env& env, std::ostream& commands, bool interactive)
      : Host(env, commands), live_(interactive && env.get_or("TERM", "") != "dumb") {}
  ~TerminalHost() override { status_clear(); }
  void status(const std::string& text) override {
    if (!live_) return;
    cmd_ << "\r\033[K" << text << std::flush;
    shown_ = true;
  }
  void status_clear() override {
    if (!shown_) return;
    cmd_ << "\r\033[K" << std::flush;
    shown_ = false;
  }
  [[nodiscard]] Kind kind() const override { return Kind::terminal; }
  [[nodiscard]] std::string name() const override { return "terminal"; }
  [[nodiscard]] std::optional<std::string> input(const std::string&) const override { return std::nullopt; }
  void set_output(const std::string&, const std::string&) override {}
  void annotate(const Annotation&) override {}  // the tool's own text output shows findings
  void mask(const std::string&) override {}     // the logger redacts registered secrets
  void group_begin(const std::string&) override {}
  void group_end() override {}
  void summary(const std::string&) override {}

 private:
  bool live_;
  bool shown_ = false;
};

class GitHubHost : public Host {
 public:
  GitHubHost(const Env& env, std::ostream& commands) : Host(env, commands) {}
  [[nodiscard]] Kind kind() const override { return Kind::github; }
  [[nodiscard]] std::string name() const override { return "github"; }

  void set_output(const std::string& name, const std::string& value) override {
    auto path = env_.nonempty("GITHUB_OUTPUT");
    if (!path) {
      log::warn("GITHUB_OUTPUT is not set: output '", name, "' is not recorded");
      return;
    }
    files::append(*path, github::file_entry(name, value));
  }
  void annotate(const Annotation& a) override {
    if (take_annotation_slot(a.severity)) line(github::annotation(a));
  }
  void mask(const std::string& secret) override { line(github::mask(secret)); }
  void group_begin(const std::string& title) override { line(github::group_begin(title)); }
  void group_end() override { line(github::group_end()); }
  void summary(const std::string& markdown) override {
    auto path = env_.nonempty("GITHUB_STEP_SUMMARY");
    if (!path) return;
    // The runner does not mask step summaries as reliably as logs: redact here.
    std::string md = redact::text(markdown);
    if (!md.empty() && md.back() != '\n') md += '\n';
    // The runner drops a step summary over 1 MiB entirely: cut ours below that instead.
    constexpr size_t kLimit = 1024 * 1024 - 1024;
    std::error_code ec;
    size_t existing = std::filesystem::exists(*path, ec) ? std::filesystem::file_size(*path, ec) : 0;
    if (existing + md.size() > kLimit) {
      size_t room = kLimit > existing ? kLimit - existing : 0;
      md = md.substr(0, room > 200 ? room - 200 : 0) + "\n\n_(summary truncated: the host limit is 1 MiB)_\n";
    }
    files::append(*path, md);
  }
  [[nodiscard]] std::optional<std::string> run_url() const override {
    auto repo = env_.nonempty("GITHUB_REPOSITORY");
    auto run = env_.nonempty("GITHUB_RUN_ID");
    if (!repo || !run) return std::nullopt;
    return env_.get_or("GITHUB_SERVER_URL", "https://github.com") + "/" + *repo + "/actions/runs/" + *run;
  }

 private:
  void line(const std::string& s) { command_line(s); }
};

class AzureHost : public Host {
 public:
  AzureHost(const Env& env, std::ostream& commands) : Host(env, commands) {}
  ~AzureHost() override {
    // One summary file a step, uploaded once: the agent attaches it to the run.
    if (summary_.empty()) return;
    try {
      std::filesystem::path dir = env_.get_or("AGENT_TEMPDIRECTORY", std::filesystem::temp_directory_path().string());
      std::filesystem::path file = dir / ("amlops-summary-" + str::random_hex(6) + ".md");
      files::write_atomic(file, summary_);
      line(azure::upload_summary(file.string()));
    } catch (const std::exception& e) {
      log::warn("cannot write the summary: ", e.what());
    }
  }
  [[nodiscard]] Kind kind() const override { return Kind::azure; }
  [[nodiscard]] std::string name() const override { return "azure-pipelines"; }
  void set_output(const std::string& name, const std::string& value) override {
    line(azure::set_variable(name, value, true));
  }
  void annotate(const Annotation& a) override {
    Severity s = a.severity == Severity::notice ? Severity::warning : a.severity;
    if (take_annotation_slot(s)) line(azure::logissue(a));
  }
  void mask(const std::string& secret) override { line(azure::set_secret(secret)); }
  void group_begin(const std::string& title) override { line(azure::group_begin(title)); }
  void group_end() override { line(azure::group_end()); }
  void summary(const std::string& markdown) override {
    summary_ += redact::text(markdown);
    if (!summary_.empty() && summary_.back() != '\n') summary_ += '\n';
  }
  void fail(const std::string& message) override { line(azure::complete("Failed", message)); }
  [[nodiscard]] std::optional<std::string> run_url() const override {
    auto coll = env_.nonempty("SYSTEM_COLLECTIONURI");
    auto project = env_.nonempty("SYSTEM_TEAMPROJECT");
    auto build = env_.nonempty("BUILD_BUILDID");
    if (!coll || !project || !build) return std::nullopt;
    std::string base = *coll;
    if (base.back() != '/') base += '/';
    return base + str::url_encode(*project) + "/_build/results?buildId=" + *build;
  }

 private:
  void line(const std::string& s) { command_line(s); }
  std::string summary_;
};

}  // namespace

Kind detect_kind(const Env& env) {
  if (env.get_or("GITHUB_ACTIONS", "") == "true") return Kind::github;
  if (str::iequals(env.get_or("TF_BUILD", ""), "true")) return Kind::azure;
  return Kind::terminal;
}

std::unique_ptr<Host> make_host(Kind kind, const Env& env, std::ostream& commands) {
  switch (kind) {
    case Kind::github:
      return std::make_unique<GitHubHost>(env, commands);
    case Kind::azure:
      return std::make_unique<AzureHost>(env, commands);
    case Kind::terminal:
      break;
  }
  // Live status lines only when the command stream is an interactive terminal's stderr.
  bool interactive = &commands == &std::cerr && ::isatty(STDERR_FILENO) == 1;
  return std::make_unique<TerminalHost>(env, commands, interactive);
}

std::unique_ptr<Host> detect(const Env& env, std::ostream& commands) {
  return make_host(detect_kind(env), env, commands);
}

}  // namespace amlops::ci
