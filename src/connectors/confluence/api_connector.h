// Confluence (Cloud or Data Center) through REST API v1.
//
// Each run lists the spaces (`/rest/api/space`, optionally limited to
// configured keys), then per space:
//  1. a full, light listing (CQL `space=KEY and type in (page,blogpost)`
//     with version, ancestors and read restrictions, no bodies): every
//     page's version and effective access list (restrictions of ancestors
//     the listing lacks, e.g. archived, are read by id), and the stored
//     pages no longer listed, which are deleted;
//  2. the changed pages with bodies, by CQL `lastmodified >= "<newest
//     version time seen> - 1 day"` (the margin covers CQL's user time zone);
//  3. any page whose version or access list differs from the checkpoint but
//     that query missed (clock skew, restriction changed on an ancestor) is
//     fetched by id.
// The checkpoint keeps, per space, that time and each page's version and
// access list. Then every listed page's attachments
// (`/rest/api/content/{id}/child/attachment`, paged): PDF, DOCX and text
// files become documents `<KEY>/<page id>/att/<attachment id>` with the
// page's access list, downloaded only when their version changed, parsed in
// a ParseWorker child; attachments gone are deleted. The checkpoint keeps
// each attachment's version. Then every listed page's footer comments
// (`/rest/api/content/{id}/child/comment?location=footer&depth=all`, paged):
// one document `<KEY>/<page id>/comments` per page with the page's access
// list, rebuilt when the comments' ids or versions change (their signature
// is in the checkpoint), deleted when the last comment goes. Each space commits with its checkpoint. HTTP 401/403 stop
// the source with a clear error; other failures cost their space only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "net/http_client.h"
#include "ingest/parse_worker.h"

namespace savoir {

struct ConfluenceOptions {
  std::string base_url;  // "https://acme.atlassian.net/wiki" or "https://wiki.acme.com"
  std::string user;      // Cloud: the account e-mail (basic auth); empty: bearer token (Data Center PAT)
  std::string token;     // decrypted; never logged
  std::vector<std::string> spaces;  // space keys; empty: every space the credential can list
  int page_size = 50;
  HttpOptions http;
  // Attachments (PDF, DOCX, text) are parsed in a ParseWorker child with
  // these limits; larger ones are skipped unread and reported.
  ParseLimits limits;
  bool attachments = true;
  // Footer comments: one document per page (`<KEY>/<page id>/comments`).
  bool comments = true;
};

std::unique_ptr<Connector> NewConfluenceConnector(const ConfluenceOptions& options);

}  // namespace savoir
