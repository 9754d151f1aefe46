#include "cli/cli.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>

#include "amlops_version.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"

namespace amlops::cli {

namespace {

// -v -v (or -vv): each occurrence adds one; AMLOPS_VERBOSE / INPUT_VERBOSE may give a number or true/false.
class Counter : public po::typed_value<int> {
 public:
  Counter() : po::typed_value<int>(nullptr) {
    zero_tokens();
    default_value(0);
  }
  void xparse(boost::any& store, const std::vector<std::string>& tokens) const override {
    int add = 1;
    if (!tokens.empty()) {
      std::string t = str::to_lower(tokens.front());
      if (auto n = str::parse_int(t); n && *n >= 0 && *n <= 10)
        add = static_cast<int>(*n);
      else if (t == "false" || t == "no" || t == "off" || t.empty())
        add = 0;
      else if (t != "true" && t != "yes" && t != "on")
        throw po::invalid_option_value(tokens.front());
    }
    store = (store.empty() ? 0 : boost::any_cast<int>(store)) + add;
  }
};

}  // namespace

const char* const kExitCodesHelp =
    "Exit codes:\n"
    "  0    success\n"
    "  1    the checked thing failed (job failed, gate blocked, drift found with --fail-on-drift, lint errors)\n"
    "  2    usage or configuration error (YAML errors name file:line:col)\n"
    "  3    timed out\n"
    "  4    service or network error after retries\n"
    "  130  interrupted\n";

Command::Command(Context& ctx, std::string command, std::string summary, std::string usage)
    : ctx_(ctx),
      command_(std::move(command)),
      summary_(std::move(summary)),
      usage_(std::move(usage)),
      opts_("Options") {
  opts_.add_options()("help,h", "show this help")("output,o", po::value<std::string>()->default_value("text"),
                                                  "result format: text or json")(
      "verbose,v", new Counter, "more detail on stderr; repeat (-v -v, -vv) for a trace")("quiet,q", po::bool_switch(),
                                                                                          "errors only on stderr");
}

void Command::positional(const char* name, int max_count) { pos_.add(name, max_count); }

std::string Command::help() const {
  std::ostringstream os;
  os << "Usage: " << ctx_.tool << " " << command_ << (usage_.empty() ? "" : " " + usage_) << " [options]\n\n"
     << summary_ << "\n\n"
     << opts_
     << "\nOptions not given as flags are read from the CI input of the same name (INPUT_<NAME>),\n"
        "then from AMLOPS_<NAME> (dashes as underscores).\n\n"
     << kExitCodesHelp;
  return os.str();
}

bool Command::parse(const std::vector<std::string>& args) {
  if (ctx_.describing) {
    CommandSpec& spec = *ctx_.describing;
    if (spec.summary.empty()) spec.summary = summary_;
    for (const auto& o : opts_.options()) {
      OptionSpec os{o->long_name(), {}, o->description(), o->semantic()->max_tokens() > 0};
      std::string shown = o->canonical_display_name(po::command_line_style::allow_dash_for_short);
      if (shown.size() == 2 && shown[0] == '-') os.short_name = shown.substr(1);
      spec.options.push_back(std::move(os));
    }
    return false;
  }
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
  } catch (const po::unknown_option& e) {
    std::string typed = e.get_option_name();
    std::vector<std::string> names;
    for (const auto& o : opts_.options()) names.push_back("--" + o->long_name());
    auto hint = typed.rfind("--", 0) == 0 ? did_you_mean(typed.substr(0, typed.find('=')), names) : std::nullopt;
    throw UsageError(std::string(e.what()) + (hint ? "; did you mean '" + *hint + "'?" : std::string()) + " (see " +
                     ctx_.tool + " " + command_ + " --help)");
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
  int verbose = vm_["verbose"].as<int>();
  if (vm_["quiet"].as<bool>())
    log::set_level(log::Level::error);
  else if (verbose >= 2)
    log::set_level(log::Level::trace);
  else if (verbose == 1)
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

std::optional<std::string> did_you_mean(const std::string& typed, const std::vector<std::string>& names) {
  if (typed.empty()) return std::nullopt;
  std::vector<std::string> prefixed;
  for (auto& n : names)
    if (n.size() > typed.size() && n.rfind(typed, 0) == 0) prefixed.push_back(n);
  if (prefixed.size() == 1) return prefixed.front();
  std::optional<std::string> best;
  size_t best_d = std::max<size_t>(1, typed.size() / 3) + 1;
  for (auto& n : names) {
    size_t d = str::edit_distance(str::to_lower(typed), str::to_lower(n));
    if (d < best_d) {
      best_d = d;
      best = n;
    }
  }
  return best;
}

CommandSpec describe(Context& ctx, const std::string& name,
                     const std::function<int(Context&, const std::vector<std::string>&)>& entry) {
  CommandSpec root;
  root.name = name;
  CommandSpec* saved = ctx.describing;
  ctx.describing = &root;
  try {
    entry(ctx, {});
  } catch (...) {
    ctx.describing = saved;
    throw;
  }
  ctx.describing = saved;
  return root;
}

namespace {

json::Value spec_value(json::Builder& b, const CommandSpec& spec) {
  json::Value v = b.obj();
  b.set(v, "name", spec.name);
  b.set(v, "summary", spec.summary);
  json::Value options = b.arr();
  for (const auto& o : spec.options) {
    json::Value ov = b.obj();
    b.set(ov, "long", o.long_name);
    b.set(ov, "short", o.short_name);
    b.set(ov, "help", o.help);
    b.set(ov, "value", o.takes_value);
    b.push(options, std::move(ov));
  }
  b.set(v, "options", std::move(options));
  json::Value commands = b.arr();
  for (const auto& c : spec.commands) b.push(commands, spec_value(b, c));
  b.set(v, "commands", std::move(commands));
  return v;
}

// The spec at `at` (a JSON pointer into doc, "" for the root); errors name the pointer.
CommandSpec spec_at(const json::Value& doc, const std::string& at, const std::string& source) {
  auto array = [&](const std::string& member) -> const json::Value* {
    const json::Value* a = json::find(doc, at + "/" + member);
    if (a && !a->IsArray()) throw ConfigError(source + ": " + at + "/" + member + ": expected an array");
    return a;
  };
  CommandSpec spec;
  spec.name = json::get_string(doc, at + "/name", source);
  spec.summary = json::opt_string(doc, at + "/summary").value_or("");
  if (const json::Value* options = array("options")) {
    for (rapidjson::SizeType i = 0; i < options->Size(); ++i) {
      std::string o = at + "/options/" + std::to_string(i);
      spec.options.push_back(
          {json::get_string(doc, o + "/long", source), json::opt_string(doc, o + "/short").value_or(""),
           json::opt_string(doc, o + "/help").value_or(""), json::opt_bool(doc, o + "/value").value_or(false)});
    }
  }
  if (const json::Value* commands = array("commands")) {
    for (rapidjson::SizeType i = 0; i < commands->Size(); ++i)
      spec.commands.push_back(spec_at(doc, at + "/commands/" + std::to_string(i), source));
  }
  return spec;
}

}  // namespace

std::string spec_to_json(const CommandSpec& spec) {
  json::Document doc;
  json::Builder b(doc.GetAllocator());
  json::Value v = spec_value(b, spec);
  b.set(v, "amlops_describe", 1);
  return json::dump(v);
}

CommandSpec spec_from_json(std::string_view text, const std::string& source) {
  json::Document doc = json::parse(text, source);
  if (json::opt_int(doc, "/amlops_describe") != 1)
    throw ConfigError(source + ": not an amlops describe document (protocol 1)");
  return spec_at(doc, "", source);
}

int dispatch(Context& ctx, const std::string& summary, const std::vector<Subcommand>& commands,
             const std::vector<std::string>& args) {
  if (ctx.describing) {
    CommandSpec* me = ctx.describing;
    if (me->summary.empty()) me->summary = summary;
    me->options = {{"help", "h", "show this help", false}, {"version", "V", "print the version", false}};
    for (auto& c : commands) {
      CommandSpec child;
      child.name = c.name;
      child.summary = c.summary;
      ctx.describing = &child;
      try {
        c.run(ctx, {});
      } catch (const std::exception&) {
        // A command that cannot describe itself is listed without options.
      }
      ctx.describing = me;
      me->commands.push_back(std::move(child));
    }
    return 0;
  }
  auto usage = [&](std::ostream& os) {
    os << "Usage: " << ctx.tool << " <command> [options]\n\n" << summary << "\n\nCommands:\n";
    for (auto& c : commands) {
      os << "  " << c.name << std::string(c.name.size() < 12 ? 12 - c.name.size() : 1, ' ') << c.summary << "\n";
    }
    os << "\nRun '" << ctx.tool << " <command> --help' (or '" << ctx.tool
       << " help <command>') for a command's options.\n\n"
       << kExitCodesHelp;
  };
  if (args.empty()) {
    usage(ctx.err);
    throw UsageError("a command is required");
  }
  const std::string& first = args[0];
  if (first == "help" && args.size() > 1) {
    // `help CMD [SUB...]` is `CMD [SUB...] --help`.
    std::vector<std::string> rest(args.begin() + 1, args.end());
    rest.push_back("--help");
    return dispatch(ctx, summary, commands, rest);
  }
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
  if (auto hint = did_you_mean(first, names))
    throw UsageError("unknown command '" + first + "'; did you mean '" + *hint + "'?");
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
