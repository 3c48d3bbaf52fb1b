// Confluence HTML space export (Space tools > Export > HTML), unpacked in a
// folder or still in its .zip: `<KEY>/index.html` (the space home listing)
// and one `<Title>_<page id>.html` (or `<page id>.html`) per page, each with
// `#breadcrumbs` (space home first, then the ancestors), `#title-text`
// ("Space name : Page title") and the body in `#main-content`.
//
// Every page becomes a document `<KEY>/<page id>` (the same ids as the REST
// connector), its text `ParseBytes` of the main content, the breadcrumbs
// after the space home as the heading path prefix. Exports carry no
// permissions: the access list is `--acl` or `group:confluence-space:<KEY>`.
// Every run reads the whole export; pages no longer in it are removed.
#pragma once

#include <memory>
#include <string>

#include "connectors/connector.h"

namespace savoir {

struct ConfluenceExportOptions {
  std::string path;       // folder or .zip
  std::string space_key;  // empty: the export's top folder name
  AccessList acl;         // empty: group:confluence-space:<KEY>
  size_t batch_size = 100;
};

// One exported page, for tests: title (space name prefix removed),
// breadcrumb titles after the space home, and the main content's HTML.
struct ExportedPage {
  std::string title;
  std::vector<std::string> breadcrumbs;
  std::string body_html;
};
ExportedPage ParseExportedPage(const std::string& html);

std::unique_ptr<Connector> NewConfluenceExportConnector(const ConfluenceExportOptions& options);

}  // namespace savoir
