// Reads files of a Slack export, whether unpacked in a folder or still in
// its .zip (libzip), by their path inside the export.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace savoir {

class ExportReader {
 public:
  virtual ~ExportReader() = default;
  // Every file, as "channel/2015-12-03.json" style relative paths, sorted.
  virtual std::vector<std::string> Files() const = 0;
  virtual Result<std::string> Read(const std::string& rel) const = 0;
};

Result<std::unique_ptr<ExportReader>> OpenExport(const std::string& path);

}  // namespace savoir
