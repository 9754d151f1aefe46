// Command lines on Boost.Program_options with the conventions every tool shares:
// --help (with the exit codes), --version, -o/--output text|json, -v/--verbose (repeatable),
// -q/--quiet; values not given as flags are read from CI inputs (INPUT_<NAME>) and then from
// AMLOPS_<NAME> environment variables. `help CMD` is `CMD --help`; a mistyped command or option
// gets a "did you mean".
#pragma once
#include <boost/program_options.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/context.hpp"

namespace amlops::cli {

namespace po = boost::program_options;

class Command {
 public:
  // `usage` is the synopsis after the command name, e.g. "NAME [--follow]".
  Command(Context& ctx, std::string command, std::string summary, std::string usage = {});
  po::options_description_easy_init options() { return opts_.add_options(); }
  void positional(const char* name, int max_count = 1);
  // Parses. Returns false when --help was printed (the caller returns 0).
  // Unknown options and bad values throw UsageError.
  bool parse(const std::vector<std::string>& args);

  [[nodiscard]] bool has(const std::string& name) const { return vm_.count(name) > 0 && !vm_[name].defaulted(); }
  template <typename T>
  [[nodiscard]] T get(const std::string& name) const {
    return vm_[name].as<T>();
  }
  template <typename T>
  [[nodiscard]] std::optional<T> opt(const std::string& name) const {
    if (!vm_.count(name)) return std::nullopt;
    return vm_[name].as<T>();
  }
  [[nodiscard]] std::string str(const std::string& name, const std::string& fallback = {}) const;
  [[nodiscard]] std::vector<std::string> list(const std::string& name) const;
  [[nodiscard]] bool flag(const std::string& name) const;
  // Throws UsageError("--name is required") when absent.
  [[nodiscard]] std::string required(const std::string& name) const;
  [[nodiscard]] const po::variables_map& vm() const { return vm_; }
  [[nodiscard]] std::string help() const;

 private:
  Context& ctx_;
  std::string command_, summary_, usage_;
  po::options_description opts_;
  po::positional_options_description pos_;
  po::variables_map vm_;
};

// What a command line offers, collected by describe() without running anything (completion scripts).
struct OptionSpec {
  std::string long_name;   // "file"
  std::string short_name;  // "f" or ""
  std::string help;
  bool takes_value = false;
};
struct CommandSpec {
  std::string name;  // "job", "submit"; the program for the root
  std::string summary;
  std::vector<OptionSpec> options;
  std::vector<CommandSpec> commands;
};
// Runs `entry` in describe mode: every dispatch() records its subcommands (and describes each), every
// Command::parse() records its options; nothing else runs.
CommandSpec describe(Context& ctx, const std::string& name,
                     const std::function<int(Context&, const std::vector<std::string>&)>& entry);

// The describe protocol between binaries (the umbrella's completion describes each amlops-<tool> it
// would exec): `amlops-<tool> --amlops-describe` (the only argument; hidden) prints the tool's
// CommandSpec as one JSON document, {"amlops_describe": 1, "name", "summary", "options": [{"long",
// "short", "help", "value"}], "commands": [...]}.
inline constexpr const char* kDescribeFlag = "--amlops-describe";
std::string spec_to_json(const CommandSpec& spec);
// The tree back from spec_to_json's text; ConfigError (naming `source`) when it is not one.
CommandSpec spec_from_json(std::string_view text, const std::string& source);

// The exit codes every tool shares, as --help lists them.
extern const char* const kExitCodesHelp;

// The name closest to a mistyped one (a unique prefix, or within max(1, length/3) edits), if any.
std::optional<std::string> did_you_mean(const std::string& typed, const std::vector<std::string>& names);

struct Subcommand {
  std::string name;
  std::string summary;
  std::function<int(Context&, const std::vector<std::string>&)> run;
};

// Dispatches args[0] to a subcommand; handles --help/--version, `help CMD...` (= CMD... --help) and
// unknown commands (UsageError with a suggestion).
int dispatch(Context& ctx, const std::string& summary, const std::vector<Subcommand>& commands,
             const std::vector<std::string>& args);

std::string version_line(const std::string& tool);

// Parses repeated "k=v" values (tags, --set); throws UsageError naming the option.
std::vector<std::pair<std::string, std::string>> key_values(const std::vector<std::string>& items,
                                                            const std::string& option);

}  // namespace amlops::cli
