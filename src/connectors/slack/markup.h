// Slack's message markup ("mrkdwn" with <...> entities and HTML escapes)
// rendered as text a reader and the keyword index understand.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

namespace savoir {

struct SlackNames {
  std::unordered_map<std::string, std::string> users;     // U123 -> display name
  std::unordered_map<std::string, std::string> channels;  // C123 -> name (no '#')
};

//   <@U123> / <@U123|old>   -> @display name (users.json), else the label or id
//   <#C123|name> / <#C123>  -> #name
//   <!here> <!channel> <!everyone> -> @here @channel @everyone; <!x|label> -> label
//   <https://x|label>       -> label (https://x);  <https://x> -> https://x
//   :smile: and a few other common emoji -> the character; others stay :code:
//   &lt; &gt; &amp;         -> < > &
std::string RenderSlackText(std::string_view text, const SlackNames& names);

}  // namespace savoir
