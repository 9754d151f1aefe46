// The VM sizes Azure ML compute clusters (AmlCompute) offer, by their Azure spelling: general
// purpose, memory and compute optimised, GPU. amlops-local accepts exactly these; amlops-setup
// accepts any name of Azure's size naming pattern and suggests the closest of these.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace amlops {

const std::vector<std::string_view>& amlcompute_vm_sizes();
// The Azure spelling of `size` (matched case-insensitively), or "" when it is not in the table.
std::string canonical_vm_size(std::string_view size);

}  // namespace amlops
