#include "server/request_context.h"

namespace savoir {

RequestContext RequestContextFor(const httplib::Request& /*req*/) {
  RequestContext ctx;
  ctx.principal.user = "local";
  ctx.principal.all_access = true;
  ctx.mode = "single-user";
  return ctx;
}

}  // namespace savoir
