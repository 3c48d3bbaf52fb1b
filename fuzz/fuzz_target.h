// One fuzz target = one function over raw bytes, defined with
// SAVOIR_FUZZ_TARGET(name) in fuzz/<name>_fuzzer.cc.
//
// Built with -DSAVOIR_FUZZ_MAIN (the SAVOIR_FUZZ=ON build), the file is a
// libFuzzer harness: LLVMFuzzerTestOneInput calls the function. Built
// without it (the normal build, inside savoir_tests), the function registers
// itself under `name` so tests/unit/fuzz_regressions_test.cc can replay the
// saved inputs of tests/fuzz_regressions/<name>/ through the same code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/parsed_document.h"

namespace savoir::fuzz {

using TargetFn = int (*)(const uint8_t* data, size_t size);

inline std::map<std::string, TargetFn>& Targets() {
  static std::map<std::string, TargetFn> targets;
  return targets;
}

struct Registration {
  Registration(const char* name, TargetFn fn) { Targets()[name] = fn; }
};

}  // namespace savoir::fuzz

#ifdef SAVOIR_FUZZ_MAIN
#define SAVOIR_FUZZ_TARGET(name)                                                   \
  static int SavoirFuzz_##name(const uint8_t* data, size_t size);                  \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {        \
    return SavoirFuzz_##name(data, size);                                          \
  }                                                                                \
  static int SavoirFuzz_##name(const uint8_t* data, size_t size)
#else
#define SAVOIR_FUZZ_TARGET(name)                                                   \
  static int SavoirFuzz_##name(const uint8_t* data, size_t size);                  \
  static ::savoir::fuzz::Registration savoir_fuzz_registration_##name(#name,        \
                                                                 &SavoirFuzz_##name); \
  static int SavoirFuzz_##name(const uint8_t* data, size_t size)
#endif

// Aborts (a finding for libFuzzer, a failed test for the replay) when an
// invariant the callers rely on does not hold.
#define SAVOIR_FUZZ_CHECK(cond)                                                   \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                        \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

namespace savoir::fuzz {

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Splits the input at NUL bytes into at most `max_parts` parts (the last
// part keeps any further NULs): lets one input carry several arguments.
inline std::vector<std::string_view> SplitParts(std::string_view in, size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    size_t nul = in.find('\0');
    if (nul == std::string_view::npos) break;
    parts.push_back(in.substr(0, nul));
    in.remove_prefix(nul + 1);
  }
  parts.push_back(in);
  return parts;
}

// What chunking and citations rely on: blocks inside the text, in order,
// not overlapping; heading levels 1..6 only on headings.
inline void CheckParsedDocument(const ParsedDocument& d) {
  uint32_t prev_end = 0;
  for (const Block& b : d.blocks) {
    SAVOIR_FUZZ_CHECK(b.begin <= b.end);
    SAVOIR_FUZZ_CHECK(b.end <= d.text.size());
    SAVOIR_FUZZ_CHECK(b.begin >= prev_end);
    prev_end = b.end;
  }
}

}  // namespace savoir::fuzz
