#define BOOST_TEST_MODULE amlops unit tests
#include <boost/test/unit_test.hpp>
