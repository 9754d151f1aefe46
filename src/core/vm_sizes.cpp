// The AmlCompute VM size table (see vm_sizes.hpp).
#include "core/vm_sizes.hpp"

#include "core/strings.hpp"

namespace amlops {

const std::vector<std::string_view>& amlcompute_vm_sizes() {
  static const std::vector<std::string_view> kSizes = {
      "Standard_DS1_v2",
      "Standard_DS2_v2",
      "Standard_DS3_v2",
      "Standard_DS4_v2",
      "Standard_DS5_v2",
      "Standard_DS11_v2",
      "Standard_DS12_v2",
      "Standard_DS13_v2",
      "Standard_DS14_v2",
      "Standard_DS15_v2",
      "Standard_D1_v2",
      "Standard_D2_v2",
      "Standard_D3_v2",
      "Standard_D4_v2",
      "Standard_D5_v2",
      "Standard_D11_v2",
      "Standard_D12_v2",
      "Standard_D13_v2",
      "Standard_D14_v2",
      "Standard_D2_v3",
      "Standard_D4_v3",
      "Standard_D8_v3",
      "Standard_D16_v3",
      "Standard_D32_v3",
      "Standard_D64_v3",
      "Standard_D2s_v3",
      "Standard_D4s_v3",
      "Standard_D8s_v3",
      "Standard_D16s_v3",
      "Standard_D32s_v3",
      "Standard_D64s_v3",
      "Standard_D2as_v4",
      "Standard_D4as_v4",
      "Standard_D8as_v4",
      "Standard_D16as_v4",
      "Standard_D2s_v5",
      "Standard_D4s_v5",
      "Standard_D8s_v5",
      "Standard_D16s_v5",
      "Standard_D2ds_v4",
      "Standard_D4ds_v4",
      "Standard_D8ds_v4",
      "Standard_E2s_v3",
      "Standard_E4s_v3",
      "Standard_E8s_v3",
      "Standard_E16s_v3",
      "Standard_E32s_v3",
      "Standard_E64s_v3",
      "Standard_E4ds_v4",
      "Standard_E8ds_v4",
      "Standard_F2s_v2",
      "Standard_F4s_v2",
      "Standard_F8s_v2",
      "Standard_F16s_v2",
      "Standard_F32s_v2",
      "Standard_F64s_v2",
      "Standard_F72s_v2",
      "Standard_NC6",
      "Standard_NC12",
      "Standard_NC24",
      "Standard_NC6s_v3",
      "Standard_NC12s_v3",
      "Standard_NC24s_v3",
      "Standard_NC4as_T4_v3",
      "Standard_NC8as_T4_v3",
      "Standard_NC16as_T4_v3",
      "Standard_NC64as_T4_v3",
      "Standard_NC24ads_A100_v4",
      "Standard_NC48ads_A100_v4",
      "Standard_NC96ads_A100_v4",
      "Standard_ND40rs_v2",
      "Standard_ND96asr_v4",
      "Standard_ND96amsr_A100_v4",
      "Standard_NV6",
      "Standard_NV12s_v3",
      "Standard_M8ms",
      "Standard_M16ms",
      "Standard_M32ms",
      "Standard_M64ms",
      "Standard_HB120rs_v3",
  };
  return kSizes;
}

std::string canonical_vm_size(std::string_view size) {
  for (auto s : amlcompute_vm_sizes())
    if (str::iequals(s, size)) return std::string(s);
  return {};
}

}  // namespace amlops
