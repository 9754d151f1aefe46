#include "tools/common/cli.hpp"

#include <iostream>
#include <sstream>

#include "amlops_version.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"

namespace amlops::cli {

Command::Command(Context& ctx, std::string command, std::string summary, std::string usage)
    : ctx_(ctx),
      command_(std::move(command)),
      summary_(std::move(summary)),
      usage_(std::move(usage)),
      opts_("Options") {
  opts_.add_options()("help,h", "show this help")("output,o", po::value<std::string>()->default_value("text"),
                                                  "result format: text or json")(
      "verbose,v", po::bool_switch(), "more detail on stderr (-v -v: trace)")("quiet,q", po::bool_switch(),
                                                                              "errors only on stderr");
}

void Command::positional(const char* name, int max_count) { pos_.add(name, max_count); }

std::string Command::help() const {
  std::ostringstream os;
  os << "Usage: " << ctx_.tool << " " << command_ << (usage_.empty() ? "" : " " + usage_) << " [options]\n\n"
     << summary_ << "\n\n"
     << opts_
     << "\nOptions not given as flags are read from the CI input of the same name (INPUT_<NAME>),\n"
        "then from AMLOPS_<NAME> (dashes as underscores).\n";
  return os.str();
}

bool Command::parse(const std::vector<std::string>& args) {
  try {
    po::store(po::command_line_parser(args).options(opts_).positional(pos_).run(), vm_);
    if (vm_.count("help")) {
      ctx_.out << help();
      return false;
    }
    // CI inputs, then AMLOPS_* variables, for options not on the command line (store keeps the first value).
    po::store(po::parse_environment(opts_,
                                    [this](const std::string& var) -> std::string {
                                      if (!str::iequals(var.substr(0, 6), "INPUT_")) return {};
                                      std::string name = str::to_lower(var.substr(6));
                                      for (std::string cand : {name, str::replace_all(name, "_", "-")}) {
                                        if (opts_.find_nothrow(cand, false) && cand != "help") {
                                          // Inputs of this host only: the terminal reads none.
                                          if (ctx_.host.input(cand)) return cand;
                                        }
                                      }
                                      return {};
                                    }),
              vm_);
    po::store(po::parse_environment(opts_,
                                    [this](const std::string& var) -> std::string {
                                      if (var.rfind("AMLOPS_", 0) != 0) return {};
                                      std::string name = str::replace_all(str::to_lower(var.substr(7)), "_", "-");
                                      if (name == "help" || !opts_.find_nothrow(name, false)) return {};
                                      return name;
                                    }),
              vm_);
    po::notify(vm_);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (see " + ctx_.tool + " " + command_ + " --help)");
  }
  std::string out = vm_["output"].as<std::string>();
  if (out == "json")
    ctx_.format = OutputFormat::json;
  else if (out == "text")
    ctx_.format = OutputFormat::text;
  else
    throw UsageError("--output must be text or json, not '" + out + "'");
  if (vm_["quiet"].as<bool>())
    log::set_level(log::Level::error);
  else if (vm_["verbose"].as<bool>())
    log::set_level(log::Level::debug);
  return true;
}

std::string Command::str(const std::string& name, const std::string& fallback) const {
  if (!vm_.count(name)) return fallback;
  return vm_[name].as<std::string>();
}

std::vector<std::string> Command::list(const std::string& name) const {
  if (!vm_.count(name)) return {};
  return vm_[name].as<std::vector<std::string>>();
}

bool Command::flag(const std::string& name) const { return vm_.count(name) && vm_[name].as<bool>(); }

std::string Command::required(const std::string& name) const {
  if (!vm_.count(name) || vm_[name].as<std::string>().empty()) throw UsageError("--" + name + " is required");
  return vm_[name].as<std::string>();
}

std::string version_line(const std::string& tool) { return tool + " " + kVersion + " (commit " + kGitCommit + ")"; }

int dispatch(Context& ctx, const std::string& summary, const std::vector<Subcommand>& commands,
             const std::vector<std::string>& args) {
  auto usage = [&](std::ostream& os) {
    os << "Usage: " << ctx.tool << " <command> [options]\n\n" << summary << "\n\nCommands:\n";
    for (auto& c : commands) {
      os << "  " << c.name << std::string(c.name.size() < 12 ? 12 - c.name.size() : 1, ' ') << c.summary << "\n";
    }
    os << "\nRun '" << ctx.tool << " <command> --help' for a command's options.\n";
  };
  if (args.empty()) {
    usage(ctx.err);
    throw UsageError("a command is required");
  }
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    usage(ctx.out);
    return 0;
  }
  if (first == "--version" || first == "-V" || first == "version") {
    ctx.out << version_line(ctx.tool) << "\n";
    return 0;
  }
  for (auto& c : commands) {
    if (c.name == first) return c.run(ctx, std::vector<std::string>(args.begin() + 1, args.end()));
  }
  std::vector<std::string> names;
  for (auto& c : commands) names.push_back(c.name);
  throw UsageError("unknown command '" + first + "' (commands: " + str::join(names, ", ") + ")");
}

std::vector<std::pair<std::string, std::string>> key_values(const std::vector<std::string>& items,
                                                            const std::string& option) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& item : items) {
    auto kv = str::split_key_value(item);
    if (!kv || kv->first.empty()) throw UsageError("--" + option + " expects key=value, got '" + item + "'");
    out.push_back(*kv);
  }
  return out;
}

}  // namespace amlops::cli
