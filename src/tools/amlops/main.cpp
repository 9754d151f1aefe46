#include "tools/amlops/registry.hpp"

int main(int argc, char** argv) { return amlops::tool_main("amlops", argc, argv, amlops::run_umbrella); }
