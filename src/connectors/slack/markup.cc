#include "connectors/slack/markup.h"

#include <cstring>

namespace savoir {
namespace {

// The emoji people use most; the rest keep their :code:, which still reads
// (and is searchable) as a word.
const std::unordered_map<std::string_view, std::string_view>& Emoji() {
  static const std::unordered_map<std::string_view, std::string_view> m = {
      {"smile", "😄"}, {"simple_smile", "🙂"}, {"slightly_smiling_face", "🙂"}, {"grinning", "😀"},
      {"laughing", "😆"}, {"joy", "😂"}, {"wink", "😉"}, {"heart", "❤️"}, {"+1", "👍"},
      {"thumbsup", "👍"}, {"-1", "👎"}, {"thumbsdown", "👎"}, {"tada", "🎉"}, {"clap", "👏"},
      {"pray", "🙏"}, {"eyes", "👀"}, {"fire", "🔥"}, {"rocket", "🚀"}, {"white_check_mark", "✅"},
      {"x", "❌"}, {"thinking_face", "🤔"}, {"100", "💯"}, {"wave", "👋"}, {"ok_hand", "👌"}};
  return m;
}

std::string DecodeEntities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '&') {
      if (s.substr(i, 4) == "&lt;") { out += '<'; i += 4; continue; }
      if (s.substr(i, 4) == "&gt;") { out += '>'; i += 4; continue; }
      if (s.substr(i, 5) == "&amp;") { out += '&'; i += 5; continue; }
    }
    out += s[i++];
  }
  return out;
}

std::string RenderEntity(std::string_view body, const SlackNames& names) {
  std::string_view target = body, label;
  if (size_t bar = body.find('|'); bar != std::string_view::npos) {
    target = body.substr(0, bar);
    label = body.substr(bar + 1);
  }
  auto lookup = [](const std::unordered_map<std::string, std::string>& m, std::string_view id) -> const std::string* {
    auto it = m.find(std::string(id));
    return it == m.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (target.starts_with("@")) {
    if (const std::string* name = lookup(names.users, target.substr(1))) return "@" + *name;
    return "@" + DecodeEntities(label.empty() ? target.substr(1) : label);
  }
  if (target.starts_with("#")) {
    if (!label.empty()) return "#" + DecodeEntities(label);
    if (const std::string* name = lookup(names.channels, target.substr(1))) return "#" + *name;
    return std::string(target);
  }
  if (target.starts_with("!")) {
    std::string_view what = target.substr(1);
    if (what == "here" || what == "channel" || what == "everyone") return "@" + std::string(what);
    if (!label.empty()) return DecodeEntities(label);
    return "@" + std::string(what.substr(0, what.find('^')));
  }
  std::string url = DecodeEntities(target);
  if (label.empty()) return url;
  std::string text = DecodeEntities(label);
  // Slack labels bare links with the URL minus its scheme; repeating it adds nothing.
  std::string_view bare = url;
  for (std::string_view scheme : {"mailto:", "https://", "http://"})
    if (bare.starts_with(scheme)) bare.remove_prefix(scheme.size());
  if (text == url || text == bare) return url;
  return text + " (" + url + ")";
}

}  // namespace

std::string RenderSlackText(std::string_view text, const SlackNames& names) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == '<') {
      size_t close = text.find('>', i + 1);
      if (close != std::string_view::npos) {
        out += RenderEntity(text.substr(i + 1, close - i - 1), names);
        i = close + 1;
        continue;
      }
    } else if (c == ':') {
      size_t close = text.find(':', i + 1);
      if (close != std::string_view::npos && close - i - 1 <= 32 && close > i + 1) {
        std::string_view code = text.substr(i + 1, close - i - 1);
        auto it = Emoji().find(code);
        if (it != Emoji().end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    // Plain text up to the next special character, entities decoded.
    size_t next = text.find_first_of("<:", i + 1);
    if (next == std::string_view::npos) next = text.size();
    out += DecodeEntities(text.substr(i, next - i));
    i = next;
  }
  return out;
}

}  // namespace savoir
