// robots.txt as crawlers read it (RFC 9309): the group naming our agent
// ("savoir") if there is one, else the "*" group; the longest matching
// Allow/Disallow rule wins, Allow on a tie; '*' and a final '$' in rules.
#pragma once

#include <string>
#include <vector>

namespace savoir::web {

class Robots {
 public:
  // Everything allowed (no robots.txt, or it could not be read).
  Robots() = default;
  static Robots Parse(const std::string& text, const std::string& agent = "savoir");
  // `path_and_query` starts with '/'.
  bool Allowed(const std::string& path_and_query) const;

 private:
  struct Rule {
    bool allow;
    std::string pattern;
  };
  std::vector<Rule> rules_;
};

}  // namespace savoir::web
