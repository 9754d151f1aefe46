// core/vm_sizes: the AmlCompute VM size table amlops-local serves and amlops-setup suggests from.
#include <boost/test/unit_test.hpp>
#include <set>

#include "core/strings.hpp"
#include "core/vm_sizes.hpp"

using namespace amlops;

BOOST_AUTO_TEST_SUITE(vm_sizes)

BOOST_AUTO_TEST_CASE(sizes_match_case_insensitively_to_their_azure_spelling) {
  BOOST_TEST(canonical_vm_size("standard_ds3_v2") == "Standard_DS3_v2");
  BOOST_TEST(canonical_vm_size("STANDARD_NC6S_V3") == "Standard_NC6s_v3");
  BOOST_TEST(canonical_vm_size("Standard_NC24ads_A100_v4") == "Standard_NC24ads_A100_v4");
  BOOST_TEST(canonical_vm_size("Standard_Huge_v9").empty());
  BOOST_TEST(canonical_vm_size("DS3_v2").empty());  // the Standard_ prefix is part of the name
  BOOST_TEST(canonical_vm_size("").empty());
}

BOOST_AUTO_TEST_CASE(the_table_holds_each_size_once_in_azure_spelling) {
  std::set<std::string> seen;
  for (auto s : amlcompute_vm_sizes()) {
    BOOST_TEST(seen.insert(str::to_lower(s)).second, s);
    BOOST_TEST(s.rfind("Standard_", 0) == 0u, s);
  }
  BOOST_TEST(seen.size() >= 20u);
}

BOOST_AUTO_TEST_SUITE_END()
