#include "index/vector_kernels.h"

#include <cmath>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define SAVOIR_X86 1
#endif

namespace savoir {
namespace {

// IEEE half <-> float without hardware support (the scalar path).
uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exp = static_cast<int32_t>((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffff;
  if (((x >> 23) & 0xff) == 0xff) return static_cast<uint16_t>(sign | 0x7c00 | (mant ? 0x200 : 0));
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10) return static_cast<uint16_t>(sign);
    mant |= 0x800000;
    uint32_t shift = static_cast<uint32_t>(14 - exp);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1))) ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(exp) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) ++half;  // may carry into exp: still correct
  return static_cast<uint16_t>(half);
}

float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t x;
  if (exp == 0) {
    if (mant == 0) {
      x = sign;
    } else {
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400) == 0);
      x = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    x = sign | 0x7f800000 | (mant << 13);
  } else {
    x = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

float DotF32Scalar(const float* q, const void* v, size_t n) {
  const float* b = static_cast<const float*>(v);
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += q[i] * b[i];
    s1 += q[i + 1] * b[i + 1];
    s2 += q[i + 2] * b[i + 2];
    s3 += q[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += q[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}
float DotF16Scalar(const float* q, const void* v, size_t n) {
  const uint16_t* b = static_cast<const uint16_t*>(v);
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += q[i] * HalfToFloat(b[i]);
  return s;
}
float DotI8Scalar(const float* q, const void* v, size_t n) {
  const int8_t* b = static_cast<const int8_t*>(v);
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += q[i] * static_cast<float>(b[i]);
  return s / kI8Scale;
}
float DotF32F32Scalar(const void* a, const void* b, size_t n) { return DotF32Scalar(static_cast<const float*>(a), b, n); }
float DotF16F16Scalar(const void* a, const void* b, size_t n) {
  const uint16_t* x = static_cast<const uint16_t*>(a);
  const uint16_t* y = static_cast<const uint16_t*>(b);
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += HalfToFloat(x[i]) * HalfToFloat(y[i]);
  return s;
}
float DotI8I8Scalar(const void* a, const void* b, size_t n) {
  const int8_t* x = static_cast<const int8_t*>(a);
  const int8_t* y = static_cast<const int8_t*>(b);
  int32_t s = 0;
  for (size_t i = 0; i < n; ++i) s += static_cast<int32_t>(x[i]) * y[i];
  return static_cast<float>(s) / (kI8Scale * kI8Scale);
}

#if SAVOIR_X86
#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))

AVX2_TARGET inline float HSum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v);
  __m128 hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_hadd_ps(lo, lo);
  lo = _mm_hadd_ps(lo, lo);
  return _mm_cvtss_f32(lo);
}

AVX2_TARGET float DotF32Avx2(const float* q, const void* v, size_t n) {
  const float* b = static_cast<const float*>(v);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(b + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), _mm256_loadu_ps(b + i + 8), a1);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(b + i), a0);
  float s = HSum(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) s += q[i] * b[i];
  return s;
}

AVX2_TARGET float DotF16Avx2(const float* q, const void* v, size_t n) {
  const uint16_t* b = static_cast<const uint16_t*>(v);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 b0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    __m256 b1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + 8)));
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), b0, a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), b1, a1);
  }
  for (; i + 8 <= n; i += 8) {
    __m256 b0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), b0, a0);
  }
  float s = HSum(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) s += q[i] * HalfToFloat(b[i]);
  return s;
}

AVX2_TARGET float DotF16F16Avx2(const void* a, const void* v, size_t n) {
  const uint16_t* x = static_cast<const uint16_t*>(a);
  const uint16_t* b = static_cast<const uint16_t*>(v);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 x0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    __m256 x1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i + 8)));
    __m256 b0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    __m256 b1 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + 8)));
    a0 = _mm256_fmadd_ps(x0, b0, a0);
    a1 = _mm256_fmadd_ps(x1, b1, a1);
  }
  float s = HSum(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) s += HalfToFloat(x[i]) * HalfToFloat(b[i]);
  return s;
}

AVX2_TARGET float DotI8Avx2(const float* q, const void* v, size_t n) {
  const int8_t* b = static_cast<const int8_t*>(v);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
    __m256 b0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(raw));
    __m256 b1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(raw, 8)));
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), b0, a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), b1, a1);
  }
  float s = HSum(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) s += q[i] * static_cast<float>(b[i]);
  return s / kI8Scale;
}

AVX2_TARGET float DotI8I8Avx2(const void* a, const void* v, size_t n) {
  const int8_t* x = static_cast<const int8_t*>(a);
  const int8_t* b = static_cast<const int8_t*>(v);
  __m256i acc = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i x16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i)));
    __m256i b16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x16, b16));
  }
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
  int32_t s = 0;
  for (int l = 0; l < 8; ++l) s += lanes[l];
  for (; i < n; ++i) s += static_cast<int32_t>(x[i]) * b[i];
  return static_cast<float>(s) / (kI8Scale * kI8Scale);
}

AVX2_TARGET float DotF32F32Avx2(const void* a, const void* b, size_t n) {
  return DotF32Avx2(static_cast<const float*>(a), b, n);
}

bool HasAvx2() {
  static const bool has = [] {
    __builtin_cpu_init();
    // F16C from CPUID leaf 1 (ECX bit 29): clang 14 does not know
    // __builtin_cpu_supports("f16c"), and `make fuzz` builds with clang.
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C);
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
  }();
  return has;
}
#else
bool HasAvx2() { return false; }
#endif

}  // namespace

void EncodeVector(const float* in, size_t dims, VectorQuant q, void* out) {
  switch (q) {
    case VectorQuant::kF32:
      std::memcpy(out, in, dims * 4);
      break;
    case VectorQuant::kF16: {
      uint16_t* o = static_cast<uint16_t*>(out);
      for (size_t i = 0; i < dims; ++i) o[i] = FloatToHalf(in[i]);
      break;
    }
    case VectorQuant::kI8: {
      int8_t* o = static_cast<int8_t*>(out);
      for (size_t i = 0; i < dims; ++i) {
        float x = std::nearbyint(in[i] * kI8Scale);
        o[i] = static_cast<int8_t>(x > 127 ? 127 : x < -127 ? -127 : x);
      }
      break;
    }
  }
}

void DecodeVector(const void* in, size_t dims, VectorQuant q, float* out) {
  switch (q) {
    case VectorQuant::kF32:
      std::memcpy(out, in, dims * 4);
      break;
    case VectorQuant::kF16:
      for (size_t i = 0; i < dims; ++i) out[i] = HalfToFloat(static_cast<const uint16_t*>(in)[i]);
      break;
    case VectorQuant::kI8:
      for (size_t i = 0; i < dims; ++i) out[i] = static_cast<const int8_t*>(in)[i] / kI8Scale;
      break;
  }
}

DotQueryFn GetDotQuery(VectorQuant q) {
#if SAVOIR_X86
  if (HasAvx2()) return q == VectorQuant::kF32 ? DotF32Avx2 : q == VectorQuant::kF16 ? DotF16Avx2 : DotI8Avx2;
#endif
  return q == VectorQuant::kF32 ? DotF32Scalar : q == VectorQuant::kF16 ? DotF16Scalar : DotI8Scalar;
}

DotStoredFn GetDotStored(VectorQuant q) {
#if SAVOIR_X86
  if (HasAvx2()) return q == VectorQuant::kF32 ? DotF32F32Avx2 : q == VectorQuant::kF16 ? DotF16F16Avx2 : DotI8I8Avx2;
#endif
  return q == VectorQuant::kF32 ? DotF32F32Scalar : q == VectorQuant::kF16 ? DotF16F16Scalar : DotI8I8Scalar;
}

const char* VectorKernelName() { return HasAvx2() ? "avx2+fma+f16c" : "scalar"; }

}  // namespace savoir
