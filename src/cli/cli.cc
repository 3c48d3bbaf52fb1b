#include "cli/cli.h"

#include <cstdio>

namespace savoir {

int RunCli(int, char**) {
  std::fprintf(stderr, "savoir: no command yet\n");
  return 2;
}

}  // namespace savoir
