#include "connectors/web/robots.h"

#include <cctype>
#include <sstream>

namespace savoir::web {
namespace {

std::string Trim(std::string s) {
  size_t h = s.find('#');
  if (h != std::string::npos) s.resize(h);
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Glob match of a robots pattern ('*' any run, '$' at the end anchors) as a
// prefix of `path`; single-star backtracking keeps it linear-ish.
bool Matches(const std::string& pat, const std::string& path) {
  size_t p = 0, s = 0, star = std::string::npos, mark = 0;
  while (p < pat.size()) {
    bool anchor = pat[p] == '$' && p + 1 == pat.size();
    if (anchor && s == path.size()) return true;
    if (!anchor && pat[p] == '*') {
      star = p++;
      mark = s;
      continue;
    }
    if (!anchor && s < path.size() && pat[p] == path[s]) {
      ++p;
      ++s;
      continue;
    }
    if (star == std::string::npos || mark >= path.size()) return false;
    p = star + 1;
    s = ++mark;
  }
  return true;
}

}  // namespace

Robots Robots::Parse(const std::string& text, const std::string& agent) {
  // Groups: consecutive user-agent lines followed by rules.
  std::vector<Rule> mine, star;
  bool have_mine = false;
  bool in_agents = false, for_mine = false, for_star = false;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    line = Trim(line);
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = Lower(Trim(line.substr(0, colon)));
    std::string value = Trim(line.substr(colon + 1));
    if (key == "user-agent") {
      if (!in_agents) for_mine = for_star = false;
      in_agents = true;
      std::string a = Lower(value);
      if (a == "*") for_star = true;
      else if (!a.empty() && Lower(agent).find(a) == 0) for_mine = have_mine = true;
      continue;
    }
    if (key != "allow" && key != "disallow") continue;
    in_agents = false;
    if (value.empty()) continue;  // "Disallow:" allows everything
    Rule r{key == "allow", value};
    if (for_mine) mine.push_back(r);
    if (for_star) star.push_back(r);
  }
  Robots robots;
  robots.rules_ = have_mine ? std::move(mine) : std::move(star);
  return robots;
}

bool Robots::Allowed(const std::string& path) const {
  const Rule* best = nullptr;
  for (const auto& r : rules_) {
    if (!Matches(r.pattern, path)) continue;
    if (!best || r.pattern.size() > best->pattern.size() ||
        (r.pattern.size() == best->pattern.size() && r.allow))
      best = &r;
  }
  return !best || best->allow;
}

}  // namespace savoir::web
