// `amlops doctor`: what this machine looks like to amlops, without printing any secret.
#include <filesystem>
#include <sstream>

#include "amlops_version.hpp"
#include "azure/credential_chain.hpp"
#include "cli/cli.hpp"
#include "cli/result.hpp"
#include "core/error.hpp"
#include "git/repo.hpp"
#include "tools/amlops/registry.hpp"

namespace amlops {

int run_doctor(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "doctor",
                   "Reports CI host detection, git metadata, configuration and which credential the chain would use.");
  cmd.options()("path", cli::po::value<std::string>()->default_value("."), "where to look for the git checkout");
  cli::add_markdown_option(cmd);
  if (!cmd.parse(args)) return 0;

  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "version", std::string(kVersion));
  b.set(doc, "commit", std::string(kGitCommit));

  json::Value host = b.obj();
  b.set(host, "kind", ctx.host.name());
  if (auto url = ctx.host.run_url()) b.set(host, "run_url", *url);
  b.set(host, "github_output", ctx.env.nonempty("GITHUB_OUTPUT").has_value());
  b.set(host, "step_summary", ctx.env.nonempty("GITHUB_STEP_SUMMARY").has_value());
  b.set(doc, "host", std::move(host));

  git::Provenance prov = git::provenance(ctx.env, cmd.str("path"), ctx.host.run_url());
  json::Value g = b.obj();
  if (prov.commit) b.set(g, "commit", *prov.commit);
  if (prov.ref) b.set(g, "ref", *prov.ref);
  if (prov.repository) b.set(g, "repository", *prov.repository);
  b.set(g, "dirty", prov.dirty);
  b.set(doc, "git", std::move(g));

  json::Value cfg = b.obj();
  b.set(cfg, "arm_endpoint", ctx.env.get_or("AMLOPS_ARM_ENDPOINT", "https://management.azure.com"));
  b.set(cfg, "authority_host", ctx.env.get_or("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com"));
  if (auto ws = ctx.env.nonempty("AMLOPS_WORKSPACE")) b.set(cfg, "workspace", *ws);
  b.set(cfg, "config_file", std::filesystem::exists("amlops.yml"));
  b.set(doc, "config", std::move(cfg));

  auto candidates = azure::credential_candidates(ctx.env);
  auto chosen = azure::select_credential(ctx.env);
  json::Value creds = b.arr();
  for (auto& c : candidates) {
    json::Value o = b.obj();
    b.set(o, "name", c.name);
    b.set(o, "available", c.available);
    b.set(o, "detail", c.detail);
    b.push(creds, std::move(o));
  }
  b.set(doc, "credentials", std::move(creds));
  b.set(doc, "credential", chosen ? chosen->name : std::string("none"));

  ctx.host.set_output("host", ctx.host.name());
  ctx.host.set_output("credential", chosen ? chosen->name : "none");
  if (prov.commit) ctx.host.set_output("commit", *prov.commit);

  std::ostringstream md;
  md << "| check | result |\n|---|---|\n"
     << "| version | " << kVersion << " (" << kGitCommit << ") |\n"
     << "| CI host | " << ctx.host.name() << " |\n"
     << "| git commit | " << prov.commit.value_or("-") << (prov.dirty ? " (dirty)" : "") << " |\n"
     << "| git ref | " << prov.ref.value_or("-") << " |\n"
     << "| credential | " << (chosen ? chosen->name + ": " + chosen->detail : std::string("none available")) << " |\n";
  report::Fragment section;
  section.title = "amlops doctor";
  section.order = report::section_order::doctor;
  section.verdict = "amlops " + std::string(kVersion) + " on " + ctx.host.name() + ", credential " +
                    (chosen ? chosen->name : std::string("none"));
  section.body = md.str();
  cli::publish_result(ctx, section, cmd);

  ctx.emit(doc, [&](std::ostream& os) {
    os << "amlops " << kVersion << " (commit " << kGitCommit << ")\n";
    os << "CI host:      " << ctx.host.name();
    if (auto url = ctx.host.run_url()) os << " (" << *url << ")";
    os << "\n";
    os << "git commit:   " << prov.commit.value_or("-") << (prov.dirty ? " (dirty)" : "") << "\n";
    os << "git ref:      " << prov.ref.value_or("-") << "\n";
    os << "repository:   " << prov.repository.value_or("-") << "\n";
    os << "ARM endpoint: " << ctx.env.get_or("AMLOPS_ARM_ENDPOINT", "https://management.azure.com") << "\n";
    os << "credentials (in chain order):\n";
    for (auto& c : candidates) os << "  " << (c.available ? "[x] " : "[ ] ") << c.name << ": " << c.detail << "\n";
    os << "would use:    " << (chosen ? chosen->name : std::string("none")) << "\n";
  });
  return 0;
}

}  // namespace amlops
