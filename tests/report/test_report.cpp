// report::sarif checker runs (code scanning) and mermaid charts.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "report/markdown.hpp"
#include "report/sarif.hpp"

using namespace amlops;
namespace sarif = amlops::report::sarif;

namespace {

std::vector<sarif::CheckerRule> two_rules() {
  sarif::CheckerRule style{"CODE001", "unused-import", "Unused import", "Remove it", "note", {"ml", "code"}, "medium"};
  sarif::CheckerRule secret{"SEC001", "secret-in-file", "Secret in a file", "Rotate it", "error", {"ml", "secrets"}};
  secret.security = true;
  return {style, secret};
}

sarif::Finding finding(const std::string& rule, const std::string& level, int line) {
  sarif::Finding f;
  f.rule = rule;
  f.level = level;
  f.message = rule + " at " + std::to_string(line);
  f.path = "src/a b.py";
  f.line = line;
  f.col = 3;
  f.end_col = 9;
  f.fingerprint = "fp" + std::to_string(line);
  return f;
}

json::Document written(const sarif::Run& run) { return json::parse(sarif::write(run)); }

}  // namespace

BOOST_AUTO_TEST_SUITE(sarif_checker)

BOOST_AUTO_TEST_CASE(rules_carry_descriptions_tags_and_security_severity) {
  auto doc = written(sarif::checker_run({"amlops-lint", "1.2.3", "https://x/docs", "/w/repo"}, two_rules(), {}));
  const auto& driver = *json::find(doc, "/runs/0/tool/driver");
  BOOST_TEST(json::get_string(driver, "/name") == "amlops-lint");
  BOOST_TEST(json::get_string(driver, "/version") == "1.2.3");
  BOOST_TEST(json::get_string(driver, "/rules/0/id") == "CODE001");
  BOOST_TEST(json::get_string(driver, "/rules/0/fullDescription/text") == "Unused import.");
  BOOST_TEST(json::get_string(driver, "/rules/0/help/markdown") == "**Unused import**\n\nRemove it");
  BOOST_TEST(json::get_string(driver, "/rules/0/properties/precision") == "medium");
  BOOST_TEST(!json::find(driver, "/rules/0/properties/security-severity"));
  BOOST_TEST(json::get_string(driver, "/rules/1/defaultConfiguration/level") == "error");
  BOOST_TEST(json::get_string(driver, "/rules/1/properties/tags/2") == "security");
  BOOST_TEST(json::get_string(driver, "/rules/1/properties/security-severity") == "8.0");
  BOOST_TEST(json::get_string(driver, "/rules/1/properties/precision") == "high");
  BOOST_TEST(json::get_string(doc, "/runs/0/originalUriBaseIds/%SRCROOT%/uri") == "file:///w/repo/");
}

BOOST_AUTO_TEST_CASE(results_most_severe_first_with_location_fingerprint_and_fix) {
  std::vector<sarif::Finding> fs{finding("CODE001", "note", 1), finding("SEC001", "error", 2),
                                 finding("CODE001", "warning", 3)};
  fs[1].commit = "abc123";
  fs[2].fix = sarif::CheckerFix{"drop it", {3, 1, 4, 1}, ""};
  auto doc = written(sarif::checker_run({"t", "", "", "/w"}, two_rules(), fs));
  const auto& results = *json::find(doc, "/runs/0/results");
  BOOST_REQUIRE_EQUAL(results.Size(), 3u);
  BOOST_TEST(json::get_string(results, "/0/level") == "error");
  BOOST_TEST(json::get_string(results, "/1/level") == "warning");
  BOOST_TEST(json::get_string(results, "/2/level") == "note");
  BOOST_TEST(json::get_int(results, "/0/ruleIndex") == 1);
  BOOST_TEST(json::get_string(results, "/0/properties/commit") == "abc123");
  BOOST_TEST(json::get_string(results, "/0/partialFingerprints/primaryLocationLineHash") == "fp2");
  BOOST_TEST(json::get_string(results, "/0/locations/0/physicalLocation/artifactLocation/uri") == "src/a%20b.py");
  BOOST_TEST(json::get_int(results, "/0/locations/0/physicalLocation/region/startLine") == 2);
  BOOST_TEST(json::get_int(results, "/0/locations/0/physicalLocation/region/startColumn") == 3);
  BOOST_TEST(json::get_int(results, "/0/locations/0/physicalLocation/region/endColumn") == 9);
  BOOST_TEST(json::get_string(results, "/1/fixes/0/description/text") == "drop it");
  BOOST_TEST(json::get_int(results, "/1/fixes/0/artifactChanges/0/replacements/0/deletedRegion/endLine") == 4);
  BOOST_TEST(!json::find(results, "/1/fixes/0/artifactChanges/0/replacements/0/insertedContent"));
  BOOST_TEST(!json::find(results, "/2/fixes"));
}

BOOST_AUTO_TEST_CASE(cap_keeps_the_most_severe_results) {
  std::vector<sarif::Finding> fs;
  for (int i = 1; i <= 5; ++i) fs.push_back(finding("CODE001", "note", i));
  fs.push_back(finding("SEC001", "error", 99));
  auto run = sarif::checker_run({"t", "", "", ""}, two_rules(), fs, 2);
  BOOST_REQUIRE_EQUAL(run.results.size(), 2u);
  BOOST_TEST(run.results[0].rule_id == "SEC001");
  BOOST_TEST(run.results[1].region.start_line == 1);  // stable among equals
  BOOST_TEST(run.source_root.empty());
  BOOST_TEST(sarif::kMaxResults == 25000u);
}

BOOST_AUTO_TEST_CASE(unknown_rule_is_refused) {
  BOOST_CHECK_THROW(sarif::write(sarif::checker_run({"t", "", "", ""}, two_rules(), {finding("NOPE", "error", 1)})),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(markdown)

BOOST_AUTO_TEST_CASE(chart_title_is_kept_whole_and_bar_labels_are_shortened) {
  const std::string title = "Worst features (value relative to threshold; > 1 drifts)";
  auto md = report::mermaid_bar_chart(title, "severity relative to the threshold",
                                      {{"a_feature_name_that_is_much_longer_than_24", 2.0}}, 1.0);
  BOOST_TEST(md.find("title \"" + title + "\"") != std::string::npos, md);
  BOOST_TEST(md.find("y-axis \"severity relative to the threshold\"") != std::string::npos, md);
  BOOST_TEST(md.find("\"a_feature_name_that_is_~\"") != std::string::npos, md);
  BOOST_TEST(md.find("line [1]") != std::string::npos, md);
}

BOOST_AUTO_TEST_CASE(chart_text_cannot_break_the_mermaid_syntax) {
  auto md = report::mermaid_bar_chart("a \"quoted\" [title], here", "y", {{"x,y", 1.0}});
  BOOST_TEST(md.find("title \"a  quoted   title   here\"") != std::string::npos, md);
  BOOST_TEST(md.find("x-axis [\"x y\"]") != std::string::npos, md);
}

BOOST_AUTO_TEST_SUITE_END()
