#define BOOST_TEST_MODULE amlops integration tests
#include <boost/test/unit_test.hpp>
