#include "monitor/cluster.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/strings.hpp"

namespace amlops::monitor {

namespace fs = std::filesystem;

namespace {

// The first line start at or after `pos` (a line starts at 0 or right after '\n').
uint64_t line_start(std::ifstream& in, uint64_t pos, uint64_t size) {
  if (pos == 0) return 0;
  in.clear();
  in.seekg(static_cast<std::streamoff>(pos - 1));
  char buf[65536];
  uint64_t at = pos - 1;
  while (at < size) {
    in.read(buf, sizeof buf);
    const auto got = static_cast<uint64_t>(in.gcount());
    if (got == 0) break;
    for (uint64_t i = 0; i < got; ++i)
      if (buf[i] == '\n') return at + i + 1;
    at += got;
  }
  return size;
}

bool is_jsonl(const fs::path& p) {
  const auto ext = str::to_lower(p.extension().string());
  return ext == ".jsonl" || ext == ".ndjson";
}

void place(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  std::error_code ec;
  fs::create_hard_link(from, to, ec);  // big data files: no copy when on the same file system
  if (ec) fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

std::string join_quoted(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) out += " " + str::shell_quote(a);
  return out;
}

}  // namespace

std::pair<size_t, size_t> parse_byte_range(const std::string& text) {
  auto parts = str::split(text, '/');
  std::optional<int64_t> i, n;
  if (parts.size() == 2) {
    i = str::parse_int(parts[0]);
    n = str::parse_int(parts[1]);
  }
  if (!i || !n || *i < 0 || *n < 1 || *i >= *n)
    throw UsageError("--byte-range must be I/N with 0 <= I < N, not '" + text + "'");
  return {static_cast<size_t>(*i), static_cast<size_t>(*n)};
}

stats::Table read_partition(const fs::path& file, size_t index, size_t count, const stats::ReadOptions& ro) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw UsageError("no such file: " + file.string());
  const uint64_t size = fs::file_size(file);
  const uint64_t begin = line_start(in, size * index / count, size);
  const uint64_t end = index + 1 == count ? size : line_start(in, size * (index + 1) / count, size);
  std::string text;
  const bool csv = !is_jsonl(file);
  if (csv && begin > 0) {
    in.clear();
    in.seekg(0);
    std::string header;
    std::getline(in, header);
    text = header + "\n";
  }
  const size_t head = text.size();
  text.resize(head + (end > begin ? end - begin : 0));
  if (end > begin) {
    in.clear();
    in.seekg(static_cast<std::streamoff>(begin));
    in.read(text.data() + head, static_cast<std::streamsize>(end - begin));
  }
  const std::string source = file.string() + " (part " + std::to_string(index) + "/" + std::to_string(count) + ")";
  auto o = ro;
  if (str::to_lower(file.extension().string()) == ".tsv") o.delimiter = '\t';
  if (csv && str::trim(text.substr(head)).empty() && begin > 0) {
    // An empty partition: the header alone gives the columns, no rows.
    return stats::parse_csv(text, source, o);
  }
  return csv ? stats::parse_csv(text, source, o) : stats::parse_jsonl(text, source, o);
}

fs::path write_cluster_job(const ClusterPlan& plan, const fs::path& dir) {
  if (plan.partitions < 1) throw UsageError("--partitions must be at least 1");
  if (plan.current.empty()) throw UsageError("--on-cluster needs local current data (a file or a folder of files)");
  const fs::path code = dir / "code";
  fs::create_directories(code);
  place(plan.binary, code / "amlops-monitor");
  fs::permissions(code / "amlops-monitor", fs::perms::owner_all, fs::perm_options::add);
  place(plan.reference_profile, code / "reference.profile.json");
  std::vector<std::string> names;
  for (size_t i = 0; i < plan.current.size(); ++i) {
    const auto name = "data/" + std::to_string(i) + "-" + plan.current[i].filename().string();
    place(plan.current[i], code / name);
    names.push_back(name);
  }
  // The binary may lose its mode in the code upload: run a private executable copy.
  const std::string run = R"(B=$(mktemp) && cp amlops-monitor "$B" && chmod +x "$B" && "$B")";
  const std::string compute = plan.compute.rfind("azureml:", 0) == 0 ? plan.compute : "azureml:" + plan.compute;
  std::string y = "type: pipeline\ndisplay_name: amlops-monitor drift on " + std::to_string(plan.partitions) +
                  " partitions\nexperiment_name: amlops-monitor\nsettings:\n  default_compute: " + compute +
                  "\noutputs:\n  result: {type: uri_folder}\njobs:\n";
  auto quote_yaml = [](const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  };
  for (size_t p = 0; p < plan.partitions; ++p) {
    std::vector<std::string> inputs;
    std::string range;
    if (names.size() == 1) {
      inputs = {names[0]};
      range = " --byte-range " + std::to_string(p) + "/" + std::to_string(plan.partitions);
    } else {
      for (size_t i = p; i < names.size(); i += plan.partitions) inputs.push_back(names[i]);
      if (inputs.empty())
        throw UsageError("--partitions " + std::to_string(plan.partitions) + " exceeds the " +
                         std::to_string(names.size()) + " files of the current data");
    }
    const std::string cmd =
        run + " profile" + join_quoted(inputs) + range + join_quoted(plan.profile_args) +
        " --out ${{outputs.profile}}/part.profile.json --output json > ${{outputs.profile}}/part.json";
    y += "  part" + std::to_string(p) + ":\n    type: command\n    code: ./code\n    environment: " + plan.environment +
         "\n    command: " + quote_yaml(cmd) + "\n    outputs:\n      profile: {type: uri_folder}\n";
  }
  std::string parts, summaries;
  y += "  merge:\n    type: command\n    code: ./code\n    environment: " + plan.environment + "\n    inputs:\n";
  for (size_t p = 0; p < plan.partitions; ++p) {
    const auto in = "p" + std::to_string(p);
    y += "      " + in + ": ${{parent.jobs.part" + std::to_string(p) + ".outputs.profile}}\n";
    parts += " ${{inputs." + in + "}}/part.profile.json";
    summaries += " ${{inputs." + in + "}}/part.json";
  }
  const std::string merge =
      run + " profile" + parts + join_quoted(plan.profile_args) +
      " --out ${{outputs.result}}/current.profile.json --output json > ${{outputs.result}}/merge.json"
      " && cat" +
      summaries +
      " > ${{outputs.result}}/parts.json && \"$B\" drift --reference "
      "reference.profile.json --current ${{outputs.result}}/current.profile.json" +
      join_quoted(plan.drift_args) + " --output json > ${{outputs.result}}/drift.json";
  y += "    command: " + quote_yaml(merge) + "\n    outputs:\n      result: ${{parent.outputs.result}}\n";
  const auto file = dir / "pipeline.yml";
  files::write_atomic(file, y);
  return file;
}

double ks_bound(const std::vector<int64_t>& rows, size_t m) {
  int64_t n = 0, smallest = INT64_MAX;
  for (auto r : rows) {
    n += r;
    smallest = std::min(smallest, r);
  }
  if (rows.empty() || n == 0) return 0;
  // Partitions within m values are exact; their merge is the whole data, sampled as one machine does.
  const bool sampled = std::any_of(rows.begin(), rows.end(), [&](int64_t r) { return static_cast<uint64_t>(r) > m; });
  if (!sampled) return 0;
  const double k = static_cast<double>(rows.size());
  double imbalance = 0;
  for (auto r : rows) imbalance += std::abs(1.0 / k - static_cast<double>(r) / static_cast<double>(n));
  return 3.0 / static_cast<double>(m - 1) + imbalance + 2.0 / static_cast<double>(std::max<int64_t>(smallest, 1));
}

}  // namespace amlops::monitor
