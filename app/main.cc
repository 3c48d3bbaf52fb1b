// The savoir executable: a thin shell over the library (see src/cli).
#include "cli/cli.h"

int main(int argc, char** argv) { return savoir::RunCli(argc, argv); }
