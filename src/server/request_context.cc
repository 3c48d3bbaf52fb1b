#include "server/request_context.h"

namespace savoir {

RequestContext RequestContextFor(const httplib::Request& /*req*/) {
  RequestContext ctx;
  ctx.principal.user = "local";
  ctx.principal.all_access = true;
  ctx.mode = "single-user";
  ctx.admin = true;  // the local user administers their own server
  return ctx;
}

Status RequireAdmin(const RequestContext& rc, const std::string& what) {
  if (rc.admin) return Status::Ok();
  return Status(ErrorKind::kPermissionDenied, "only an administrator may " + what);
}

}  // namespace savoir
