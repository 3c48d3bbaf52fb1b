// Dot products over compactly stored vectors (f32, f16, i8), chosen at run
// time: the project builds without -march=native, so the AVX2/F16C/FMA
// versions are compiled with target attributes and picked by CPU detection.
#pragma once

#include <cstddef>
#include <cstdint>

namespace savoir {

enum class VectorQuant : uint32_t { kF32 = 0, kF16 = 1, kI8 = 2 };

// Bytes one stored element takes.
inline size_t QuantBytes(VectorQuant q) { return q == VectorQuant::kF32 ? 4 : q == VectorQuant::kF16 ? 2 : 1; }

// i8 vectors store round(x * kI8Scale) of a unit vector.
constexpr float kI8Scale = 127.0f;

// Encodes `dims` floats into `out` (QuantBytes(q) * dims bytes).
void EncodeVector(const float* in, size_t dims, VectorQuant q, void* out);
void DecodeVector(const void* in, size_t dims, VectorQuant q, float* out);

// dot(query (f32), stored vector (q)), scaled back to the float domain.
using DotQueryFn = float (*)(const float* query, const void* stored, size_t dims);
// dot(stored a, stored b), both in q.
using DotStoredFn = float (*)(const void* a, const void* b, size_t dims);

DotQueryFn GetDotQuery(VectorQuant q);
DotStoredFn GetDotStored(VectorQuant q);
// "avx2" or "scalar": what the dispatcher picked (for benchmarks and logs).
const char* VectorKernelName();

}  // namespace savoir
