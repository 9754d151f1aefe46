// Assembly of the pull-request comment (order, collapsing, marker, truncation at section
// boundaries), the fragment format, Link header parsing and the event payload.
#include <boost/test/unit_test.hpp>
#include <map>
#include <string>

#include "core/env.hpp"
#include "core/error.hpp"
#include "report/azdo.hpp"
#include "report/comment.hpp"
#include "report/fragment.hpp"
#include "report/github.hpp"
#include "report/http_util.hpp"
#include "report/publish.hpp"

using namespace amlops;
using namespace amlops::report;

namespace {
Fragment frag(std::string title, std::string verdict, std::string body, int order = 50,
              FragmentStatus s = FragmentStatus::info) {
  Fragment f;
  f.title = std::move(title);
  f.verdict = std::move(verdict);
  f.body = std::move(body);
  f.order = order;
  f.status = s;
  return f;
}
MapEnv env1(const std::string& k, const std::string& v) { return MapEnv(std::map<std::string, std::string>{{k, v}}); }
std::string lines(size_t n, size_t width = 10) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += std::string(width, 'a') + "\n";
  return s;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(fragments)

BOOST_AUTO_TEST_CASE(round_trip) {
  Fragment f = frag("Lint\nchecks", "2 errors --> bad", "| a |\n|---|\n", 20, FragmentStatus::fail);
  std::string text = render_fragment(f);
  BOOST_TEST(text.rfind("<!-- amlops-fragment\n", 0) == 0);
  Fragment g = parse_fragment(text, "lint.md");
  BOOST_TEST(g.title == "Lint checks");
  BOOST_TEST(g.verdict == "2 errors --&gt; bad");  // cannot close the header early
  BOOST_TEST(g.order == 20);
  BOOST_TEST(status_name(g.status) == "fail");
  BOOST_TEST(g.body == "| a |\n|---|\n");
}

BOOST_AUTO_TEST_CASE(plain_markdown_is_a_fragment_named_after_the_file) {
  Fragment g = parse_fragment("# Hello\n\ntext\n", "out/drift-report.md");
  BOOST_TEST(g.title == "drift-report");
  BOOST_TEST(g.verdict.empty());
  BOOST_TEST(g.body == "# Hello\n\ntext\n");
}

BOOST_AUTO_TEST_CASE(bad_headers_name_file_and_line) {
  BOOST_CHECK_THROW(parse_fragment("<!-- amlops-fragment\ntitle: x\n", "f.md"), ConfigError);
  try {
    parse_fragment("<!-- amlops-fragment\ntitle: x\nstatus: purple\n-->\n", "f.md");
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find("f.md:3: status") != std::string::npos);
  }
  BOOST_CHECK_THROW(parse_fragment("<!-- amlops-fragment\norder: soon\n-->\n", "f.md"), ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(assembly)

BOOST_AUTO_TEST_CASE(marker_first_then_sections_by_order_then_title) {
  AssembleOptions o;
  o.marker = marker("CI");
  std::vector<Fragment> in = {frag("Zeta", "", "z", 10), frag("Drift", "", "d", 30), frag("Alpha", "", "a", 10)};
  std::string md = assemble(in, o).markdown;
  BOOST_TEST(md.rfind("<!-- amlops-report:CI -->\n## amlops report\n", 0) == 0);
  size_t a = md.find("Alpha"), z = md.find("Zeta"), d = md.find("Drift");
  BOOST_TEST((a < z && z < d));
  // Same input in another order: the same comment (stable for updates).
  std::vector<Fragment> shuffled = {in[1], in[2], in[0]};
  BOOST_TEST(assemble(shuffled, o).markdown == md);
}

BOOST_AUTO_TEST_CASE(long_bodies_collapse_short_ones_do_not) {
  std::string shortb = lines(kCollapseLines);
  std::string longb = lines(kCollapseLines + 1);
  BOOST_TEST(!is_long(shortb));
  BOOST_TEST(is_long(longb));
  BOOST_TEST(is_long(std::string(kCollapseBytes + 1, 'x')));
  std::string s = render_section(frag("Short", "ok", shortb, 50, FragmentStatus::pass));
  BOOST_TEST(s.find("<details>") == std::string::npos);
  BOOST_TEST(s.find("**ok**") != std::string::npos);
  BOOST_TEST(s.find("\u2705 Short") != std::string::npos);
  std::string l = render_section(frag("Long", "3 errors", longb, 50, FragmentStatus::fail));
  // The verdict stays visible above the collapsed body.
  BOOST_TEST(l.find("**3 errors**") < l.find("<details><summary>Details</summary>\n\n"));
  BOOST_TEST(l.find("\n\n</details>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(keys_cannot_break_the_marker) {
  BOOST_TEST(sanitize_key("  CI  ") == "CI");
  BOOST_TEST(sanitize_key("") == "amlops");
  std::string k = sanitize_key("a-->b<c\nd-");
  BOOST_TEST(k.find("--") == std::string::npos);
  BOOST_TEST(k.find('>') == std::string::npos);
  BOOST_TEST(k.find('\n') == std::string::npos);
  BOOST_TEST(marker(k).find("-->") == marker(k).size() - 3);
}

BOOST_AUTO_TEST_CASE(marker_must_start_the_body) {
  std::string m = marker("CI");
  BOOST_TEST(has_marker(m + "\n## x", m));
  BOOST_TEST(has_marker("\r\n  " + m + "\n", m));
  BOOST_TEST(!has_marker("> quoted " + m, m));
  BOOST_TEST(!has_marker(marker("CI2"), m));  // another key is another comment
  BOOST_TEST(!has_marker(marker("C"), m));
}

BOOST_AUTO_TEST_CASE(cut_at_a_section_boundary_under_the_limit) {
  AssembleOptions o;
  o.marker = marker("k");
  o.footer = "footer";
  std::vector<Fragment> in;
  for (int i = 0; i < 5; ++i) in.push_back(frag("S" + std::to_string(i), "v" + std::to_string(i), lines(100, 30), i));
  Assembled full = assemble(in, o);
  BOOST_TEST(!full.truncated());
  BOOST_TEST(full.sections == 5u);
  for (size_t limit : {full.markdown.size() - 1, full.markdown.size() / 2, size_t(4000), size_t(600)}) {
    o.limit = limit;
    Assembled a = assemble(in, o);
    BOOST_TEST(a.markdown.size() <= limit);
    BOOST_TEST(a.truncated());
    BOOST_TEST(a.sections + a.left_out == 5u);
    BOOST_TEST(a.markdown.rfind(o.marker, 0) == 0);  // still findable
    BOOST_TEST(a.markdown.find("<sub>footer</sub>") != std::string::npos);
    // Kept sections are whole: each kept one is exactly its rendered form, in order.
    std::string expect_prefix = o.marker + "\n## amlops report\n\n";
    for (size_t i = 0; i < a.sections; ++i) expect_prefix += render_section(in[i]);
    BOOST_TEST(a.markdown.rfind(expect_prefix, 0) == 0);
    BOOST_TEST(a.markdown.find("left out") != std::string::npos);
    // The sections left out are named when there is room.
    if (a.markdown.find("> - ") != std::string::npos) BOOST_TEST(a.markdown.find("S4: v4") != std::string::npos);
  }
  // A limit between the full size and one section less keeps all but the last.
  o.limit = full.markdown.size() - 1;
  BOOST_TEST(assemble(in, o).sections == 4u);
}

BOOST_AUTO_TEST_CASE(utf8_is_never_split) {
  AssembleOptions o;
  o.title = std::string(300, 'x') + "\u00e9\u00e9\u00e9";
  o.limit = 301;  // an absurd limit: the plain cut must land on a character boundary
  Assembled a = assemble({frag("S", "", "body")}, o);
  BOOST_TEST(a.markdown.size() <= 301u);
  unsigned char last = static_cast<unsigned char>(a.markdown.back());
  BOOST_TEST((last & 0xC0) != 0xC0);  // not a dangling lead byte
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(github)

BOOST_AUTO_TEST_CASE(link_header_as_github_sends_it) {
  std::string v =
      "<https://api.github.com/repositories/1300192/issues?page=2>; rel=\"prev\", "
      "<https://api.github.com/repositories/1300192/issues?page=4>; rel=\"next\", "
      "<https://api.github.com/repositories/1300192/issues?page=515>; rel=\"last\", "
      "<https://api.github.com/repositories/1300192/issues?page=1>; rel=\"first\"";
  auto links = parse_link_header(v);
  BOOST_TEST(links.size() == 4u);
  BOOST_TEST(link_next(v).value() == "https://api.github.com/repositories/1300192/issues?page=4");
  BOOST_TEST(links[2].rels.at(0) == "last");
}

BOOST_AUTO_TEST_CASE(link_header_variants) {
  BOOST_TEST(!link_next("").has_value());
  BOOST_TEST(!link_next("<https://x/?page=1>; rel=\"prev\"").has_value());
  // Several relations in one value, unquoted rel, odd spacing and case, commas inside quotes.
  BOOST_TEST(link_next("<https://x/a?p=2>;REL=\"last next\"").value() == "https://x/a?p=2");
  BOOST_TEST(link_next("<https://x/a?p=3> ; rel=next").value() == "https://x/a?p=3");
  BOOST_TEST(link_next("<https://x/a?p=1>; title=\"a, b\"; rel=\"prev\", <https://x/a?p=5>; rel=\"next\"").value() ==
             "https://x/a?p=5");
}

BOOST_AUTO_TEST_CASE(paging_links_stay_on_the_api_host) {
  BOOST_TEST(same_origin("https://api.github.com/repositories/1/issues?page=2", "https://api.github.com"));
  BOOST_TEST(same_origin("https://GHE.example/api/v3/x", "https://ghe.example/api/v3"));
  BOOST_TEST(!same_origin("https://evil.example/x", "https://api.github.com"));
  BOOST_TEST(!same_origin("https://api.github.com.evil.example/x", "https://api.github.com"));
  BOOST_TEST(!same_origin("http://api.github.com/x", "https://api.github.com"));
}

BOOST_AUTO_TEST_CASE(pull_request_number_from_the_event) {
  std::string pr = R"({"number": 7, "pull_request": {"number": 7, "head": {"sha": "abc", "repo": {"full_name": "f/r"}},
                       "base": {"repo": {"full_name": "o/r"}}}})";
  BOOST_TEST(github_pull_request_number(pr, "pull_request", "e").value() == 7);
  BOOST_TEST(github_pull_request_number(pr, "pull_request_target", "e").value() == 7);
  BOOST_TEST(github_event_is_fork(pr));
  BOOST_TEST(github_head_sha(pr).value() == "abc");
  BOOST_TEST(!github_pull_request_number(R"({"ref": "refs/heads/main"})", "push", "e").has_value());
  BOOST_TEST(!github_pull_request_number(R"({"number": 3})", "push", "e").has_value());
  BOOST_TEST(!github_event_is_fork(R"({"pull_request": {"head": {"repo": {"full_name": "o/r"}},
                                       "base": {"repo": {"full_name": "o/r"}}}})"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hosts)

BOOST_AUTO_TEST_CASE(forge_and_key_from_the_environment) {
  BOOST_TEST(std::string(forge_name(detect_forge(env1("GITHUB_ACTIONS", "true")))) == forge_name(Forge::github));
  BOOST_TEST(std::string(forge_name(detect_forge(env1("TF_BUILD", "True")))) == forge_name(Forge::azure_devops));
  BOOST_TEST(std::string(forge_name(detect_forge(MapEnv()))) == forge_name(Forge::none));
  BOOST_TEST(default_key(env1("GITHUB_WORKFLOW", "CI"), std::nullopt) == "CI");
  BOOST_TEST(default_key(env1("BUILD_DEFINITIONNAME", "train"), std::nullopt) == "train");
  BOOST_TEST(default_key(env1("GITHUB_WORKFLOW", "CI"), std::string("mine")) == "mine");
  BOOST_TEST(default_key(MapEnv(), std::nullopt) == "amlops");
}

BOOST_AUTO_TEST_CASE(azure_devops_threads_url) {
  AzdoTarget t;
  t.collection_uri = "https://dev.azure.com/fabrikam";
  t.project = "Fabrikam Fiber";
  t.repository_id = "3411ebc1";
  t.pull_request = 22;
  BOOST_TEST(azdo_pull_request_url(t) ==
             "https://dev.azure.com/fabrikam/Fabrikam%20Fiber/_apis/git/repositories/3411ebc1/pullRequests/22");
}

BOOST_AUTO_TEST_SUITE_END()
