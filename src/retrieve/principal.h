// Who a query runs as. Until the identity issue lands, principals come from
// the CLI (--as/--group) or the server's single-user mode; later from
// sessions, SSO and API keys — always through this one type.
#pragma once

#include <string>
#include <vector>

namespace savoir {

struct Principal {
  std::string user;                 // login; empty for anonymous
  std::vector<std::string> groups;
  bool all_access = false;          // evaluation and admin tools only: no ACL filter

  // The access-list entries that grant this principal access.
  std::vector<std::string> AccessEntries() const {
    std::vector<std::string> out = {"public"};
    if (!user.empty()) out.push_back("user:" + user);
    for (const auto& g : groups) out.push_back("group:" + g);
    return out;
  }
};

}  // namespace savoir
