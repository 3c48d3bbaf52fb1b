// The language model an administrator configured (--chat and friends), or
// none: answers are then extractive.
#pragma once

#include <memory>

#include "answer/chat_model.h"
#include "common/config.h"
#include "common/status.h"

namespace savoir {

// nullptr when config.chat is empty. Errors say which option is wrong.
Result<std::unique_ptr<ChatModel>> MakeChatModel(const Config& config);

}  // namespace savoir
