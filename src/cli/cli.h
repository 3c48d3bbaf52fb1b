#pragma once

namespace savoir {

// Parses the command line, runs the command, returns the process exit code.
int RunCli(int argc, char** argv);

}  // namespace savoir
