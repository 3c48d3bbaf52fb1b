// The savoir executable: a thin shell over the library (see src/cli).
#include "cli/cli.h"
#include "common/allocator.h"

int main(int argc, char** argv) {
  savoir::ConfigureAllocator();
  return savoir::RunCli(argc, argv);
}
