#define BOOST_TEST_MODULE amlops lint tests
#include <boost/test/unit_test.hpp>
