// Scaffold so the library links while the real quantizers are written (removed by then).
#include <cstdlib>
#include "quant/quants.h"
namespace pocketlm {
#define PLM_SCAFFOLD_DQ(t) void dequantize_row_##t(const void*, float*, int64_t) { std::abort(); }
#define PLM_SCAFFOLD_Q(t) void quantize_row_##t(const float*, void*, int64_t) { std::abort(); }
PLM_SCAFFOLD_DQ(f32) PLM_SCAFFOLD_DQ(f16) PLM_SCAFFOLD_DQ(bf16) PLM_SCAFFOLD_DQ(q4_0)
PLM_SCAFFOLD_DQ(q4_1) PLM_SCAFFOLD_DQ(q5_0) PLM_SCAFFOLD_DQ(q5_1) PLM_SCAFFOLD_DQ(q8_0)
PLM_SCAFFOLD_DQ(q8_1) PLM_SCAFFOLD_DQ(q2_K) PLM_SCAFFOLD_DQ(q3_K) PLM_SCAFFOLD_DQ(q4_K)
PLM_SCAFFOLD_DQ(q5_K) PLM_SCAFFOLD_DQ(q6_K) PLM_SCAFFOLD_DQ(q8_K)
PLM_SCAFFOLD_Q(f32) PLM_SCAFFOLD_Q(f16) PLM_SCAFFOLD_Q(bf16) PLM_SCAFFOLD_Q(q4_0) PLM_SCAFFOLD_Q(q4_1)
PLM_SCAFFOLD_Q(q5_0) PLM_SCAFFOLD_Q(q5_1) PLM_SCAFFOLD_Q(q8_0) PLM_SCAFFOLD_Q(q8_1) PLM_SCAFFOLD_Q(q8_K)
}  // namespace pocketlm
