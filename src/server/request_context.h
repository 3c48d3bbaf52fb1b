// Who is asking. Every route gets its principal from RequestContextFor and
// nowhere else, so that the identity work (sessions, SSO, API keys) replaces
// this one function.
#pragma once

#include <httplib.h>

#include <string>

#include "retrieve/principal.h"

namespace savoir {

struct RequestContext {
  Principal principal;
  std::string mode;  // "single-user" for now; later "multi-user"
};

// Single-user mode: the server runs on its user's own machine over their own
// documents, so the local user sees everything indexed (all_access), whatever
// the access lists say. /api/me reports the mode and the UI shows a banner.
RequestContext RequestContextFor(const httplib::Request& req);

}  // namespace savoir
