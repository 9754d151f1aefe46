// `amlops-local serve|stop|status`: the local Azure ML workspace server.
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "cli/cli.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/signals.hpp"
#include "core/strings.hpp"
#include "local/app.hpp"
#include "local/daemon.hpp"
#include "net/http.hpp"
#include "net/server.hpp"

namespace amlops {

namespace fs = std::filesystem;

namespace {

std::string env_lines(const local::App& app) {
  const auto& id = app.identity();
  const auto& cfg = app.config();
  std::string ws = cfg.workspaces.front();
  std::string out;
  auto line = [&](const char* k, const std::string& v) {
    out += std::string("export ") + k + "=" + str::shell_quote(v) + "\n";
  };
  line("AMLOPS_ARM_ENDPOINT", app.base_url());
  line("AZURE_AUTHORITY_HOST", app.base_url());
  line("AZURE_TENANT_ID", id.tenant);
  line("AZURE_CLIENT_ID", id.client_id);
  line("AZURE_CLIENT_SECRET", id.client_secret);
  line("AZURE_SUBSCRIPTION_ID", id.subscription);
  line("AMLOPS_WORKSPACE",
       "azureml://subscriptions/" + id.subscription + "/resourcegroups/" + cfg.resource_group + "/workspaces/" + ws);
  return out;
}

int serve(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "serve",
                   "Serves a local Azure ML workspace (ARM, MLflow, run history, blob) and runs its jobs.");
  cmd.options()("port", cli::po::value<int>()->default_value(0), "TCP port (0: any free port)")(
      "data", cli::po::value<std::string>()->default_value(".amlops-local"),
      "directory holding the store, blobs and job files")("daemon", cli::po::bool_switch(),
                                                          "start in the background and return once the server answers")(
      "print-env", cli::po::bool_switch(), "print `export` lines for the clients (eval them)")(
      "allow-remote", cli::po::bool_switch(), "allow --address other than loopback")(
      "address", cli::po::value<std::string>()->default_value("127.0.0.1"), "address to bind")(
      "faults", cli::po::value<std::string>()->default_value(""),
      "inject faults: 429=R,503=R,reset=R,slow=R (rates per request)")(
      "fault-seed", cli::po::value<uint64_t>()->default_value(1), "seed of the fault injection")(
      "slow-delay", cli::po::value<std::string>()->default_value("2s"), "stall of a 'slow' fault")(
      "token-lifetime", cli::po::value<std::string>()->default_value("1h"), "lifetime of issued access tokens")(
      "local-config", cli::po::value<std::string>(),
      "YAML config (environment name -> interpreter); default DATA/config.yml when present")(
      "max-jobs", cli::po::value<int>()->default_value(4), "command processes running at once")(
      "pipeline-concurrency", cli::po::value<int>()->default_value(4), "steps of one pipeline running at once")(
      "page-size", cli::po::value<int>()->default_value(100), "items per list page before nextLink")(
      "lro-delay", cli::po::value<std::string>()->default_value("0s"),
      "time a long-running operation reports InProgress")("workspace-name", cli::po::value<std::vector<std::string>>(),
                                                          "workspace name (repeatable; default 'local')")(
      "registry-name", cli::po::value<std::vector<std::string>>(),
      "registry name (repeatable; default 'local-registry')")("subscription-id", cli::po::value<std::string>(),
                                                              "subscription id (default: generated once per DATA)")(
      "tenant-id", cli::po::value<std::string>(), "tenant id (default: generated once per DATA)")(
      "client-id", cli::po::value<std::string>(), "client id (default: generated once per DATA)")(
      "resource-group", cli::po::value<std::string>()->default_value("amlops-local"), "resource group name")(
      "location", cli::po::value<std::string>()->default_value("local"), "workspace location");
  if (!cmd.parse(args)) return 0;

  local::Config cfg;
  cfg.data_dir = cmd.str("data");
  std::string address = cmd.str("address");
  if (address != "127.0.0.1" && address != "localhost" && address != "::1" && !cmd.flag("allow-remote"))
    throw UsageError("--address " + address +
                     " is not loopback; amlops-local binds 127.0.0.1 only unless --allow-remote is given");
  if (address == "localhost") address = "127.0.0.1";
  int port = cmd.get<int>("port");
  if (port < 0 || port > 65535) throw UsageError("--port must be 0..65535");
  cfg.faults = local::parse_faults(cmd.str("faults"));
  cfg.fault_seed = cmd.get<uint64_t>("fault-seed");
  cfg.slow_for = parse_duration(cmd.str("slow-delay"));
  cfg.token_lifetime = parse_duration(cmd.str("token-lifetime"));
  if (cfg.token_lifetime.count() < 1000) throw UsageError("--token-lifetime must be at least 1s");
  cfg.max_running_jobs = std::max(1, cmd.get<int>("max-jobs"));
  cfg.pipeline_concurrency = std::max(1, cmd.get<int>("pipeline-concurrency"));
  cfg.page_size = std::max(1, cmd.get<int>("page-size"));
  cfg.lro_delay = parse_duration(cmd.str("lro-delay"));
  if (cmd.has("workspace-name")) cfg.workspaces = cmd.list("workspace-name");
  if (cmd.has("registry-name")) cfg.registries = cmd.list("registry-name");
  if (cmd.has("subscription-id")) cfg.subscription = cmd.str("subscription-id");
  if (cmd.has("tenant-id")) cfg.tenant = cmd.str("tenant-id");
  if (cmd.has("client-id")) cfg.client_id = cmd.str("client-id");
  cfg.resource_group = cmd.str("resource-group");
  cfg.location = cmd.str("location");
  fs::path config_file = cmd.has("local-config") ? fs::path(cmd.str("local-config")) : cfg.data_dir / "config.yml";
  if (cmd.has("local-config") || fs::exists(config_file)) local::load_config_file(config_file, cfg);
  local::ensure_data_dir(cfg.data_dir);
  fs::path data = fs::absolute(cfg.data_dir);

  if (cmd.flag("daemon")) {
    // Re-run ourselves in the foreground, detached, and wait until the server answers.
    // (amlops-local itself, also under the umbrella, which execs it.)
    std::vector<std::string> argv = {fs::read_symlink("/proc/self/exe").string(), "serve"};
    for (auto& a : args)
      if (a != "--daemon" && a != "--print-env") argv.push_back(a);
    net::Client client;
    auto info = local::start_daemon(argv, data, [&](const local::ServerInfo& i) {
      net::Request r;
      r.url = i.url + "/_amlops/health";
      return client.send(r).ok();
    });
    if (cmd.flag("print-env")) {
      // Same identities as the daemon: read back from the shared store.
      cfg.run_jobs = false;
      cfg.recover = false;
      local::App app(cfg);
      app.set_base_url(info.url);
      ctx.out << env_lines(app);
    }
    log::info("amlops-local running in the background: ", info.url, " (pid ", info.pid, ", data ", data.string(), ")");
    ctx.host.set_output("url", info.url);
    ctx.host.set_output("port", std::to_string(info.port));
    return 0;
  }

  local::ServerLock lock(data);  // one server per DATA directory
  local::App app(cfg);
  redact::add_secret(app.identity().client_secret);
  net::ServerOptions so;
  so.address = address;
  so.port = static_cast<uint16_t>(port);
  // Authentication from the headers alone, before a body is read: an unauthenticated 500 MB PUT
  // is answered 401 at once instead of being buffered.
  so.on_headers = [&app](const net::ServerRequest& headers) { return app.reject_before_body(headers); };
  net::HttpServer server([&app](const net::ServerRequest& r) { return app.handle(r); }, so);
  try {
    server.start();
  } catch (const std::exception& e) {
    throw UsageError("cannot listen on " + address + ":" + std::to_string(port) + ": " + e.what());
  }
  std::string url = local::server_url(address, server.port());
  app.set_base_url(url);
  app.start_runner();
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "pid", static_cast<int64_t>(::getpid()));
  b.set(d, "port", static_cast<int64_t>(server.port()));
  b.set(d, "url", url);
  b.set(d, "data", data.string());
  b.set(d, "subscription", app.identity().subscription);
  b.set(d, "tenant", app.identity().tenant);
  b.set(d, "client_id", app.identity().client_id);
  b.set(d, "resource_group", cfg.resource_group);
  b.set(d, "workspace", cfg.workspaces.front());
  b.set(d, "started", iso8601_utc(std::chrono::system_clock::now()));
  local::write_server_info(data, d);
  if (cmd.flag("print-env")) {
    ctx.out << env_lines(app);
    ctx.out.flush();
  }
  log::info("amlops-local listening on ", url, " (data ", data.string(), ")");
  while (!signals::interrupted()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  log::info("amlops-local stopping");
  server.stop();
  app.stop_runner("amlops-local was stopped while the job was running");
  local::remove_server_info(data);
  return 0;
}

int stop(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "stop",
                   "Stops the amlops-local server of a data directory (running jobs are stopped and marked Failed).");
  cmd.options()("data", cli::po::value<std::string>()->default_value(".amlops-local"), "data directory of the server")(
      "timeout", cli::po::value<std::string>()->default_value("20s"), "time to wait before killing it");
  if (!cmd.parse(args)) return 0;
  fs::path data = fs::absolute(cmd.str("data"));
  auto stopped = local::stop_server(data, parse_duration(cmd.str("timeout")));
  if (!stopped) {
    log::info("amlops-local is not running for ", data.string());
    return 0;
  }
  const auto& info = stopped->info;
  if (stopped->killed) log::warn("amlops-local (pid ", info.pid, ") did not stop in time and was killed");
  ctx.out << "stopped amlops-local (pid " << info.pid << ", " << info.url << ")\n";
  return 0;
}

int status(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "status", "Shows whether an amlops-local server runs for a data directory.");
  cmd.options()("data", cli::po::value<std::string>()->default_value(".amlops-local"), "data directory of the server");
  if (!cmd.parse(args)) return 0;
  fs::path data = fs::absolute(cmd.str("data"));
  auto info = local::running_server(data);
  bool up = info.has_value();
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "running", up);
  b.set(d, "data", data.string());
  if (up) {
    b.set(d, "pid", info->pid);
    b.set(d, "url", info->url);
  }
  ctx.emit(d, [&](std::ostream& os) {
    if (up)
      os << "running: " << info->url << " (pid " << info->pid << ")\n";
    else
      os << "not running (" << data.string() << ")\n";
  });
  return up ? 0 : 1;
}

}  // namespace

int run_local(Context& ctx, const std::vector<std::string>& args) {
  return cli::dispatch(
      ctx, "A local Azure ML workspace on loopback: ARM + MLflow + blob subset; jobs run as local processes.",
      {{"serve", "serve a local workspace (foreground, or --daemon)", serve},
       {"stop", "stop the server of a data directory", stop},
       {"status", "show whether a server runs for a data directory", status}},
      args);
}

}  // namespace amlops
