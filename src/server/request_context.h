// Who is asking. Every route gets its principal from RequestContextFor and
// nowhere else, so that the identity work (sessions, SSO, API keys) replaces
// this one function.
#pragma once

#include <httplib.h>

#include <string>

#include "common/status.h"
#include "retrieve/principal.h"

namespace savoir {

struct RequestContext {
  Principal principal;
  std::string mode;    // "single-user" for now; later "multi-user"
  bool admin = false;  // may configure sources (and later users, groups, models)
};

// Single-user mode: the server runs on its user's own machine over their own
// documents, so the local user sees everything indexed (all_access), whatever
// the access lists say. /api/me reports the mode and the UI shows a banner.
RequestContext RequestContextFor(const httplib::Request& req);

// kPermissionDenied ("only an administrator may <what>") unless the request's
// principal administers the server. Every admin route calls this, so the
// identity work decides who is an admin here and in RequestContextFor only.
Status RequireAdmin(const RequestContext& rc, const std::string& what);

}  // namespace savoir
