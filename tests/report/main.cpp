#define BOOST_TEST_MODULE amlops report tests
#include <boost/test/unit_test.hpp>
