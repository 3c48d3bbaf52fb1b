// Chat-template markers written inside message text. A server that renders
// the chat template and then tokenizes the prompt reading special tokens
// (llama-server, vLLM and Ollama do) would take a retrieved passage holding
// "<|im_end|>\n<|im_start|>system\n..." for a real end of turn and a new
// system turn: untrusted documents could speak as the system. What goes to
// a remote model has the markers of the common templates broken by a
// zero-width space after their first character (the text still reads the
// same). The local model (llama_chat) does this exactly, from its own
// vocabulary's control tokens.
#pragma once

#include <string>
#include <string_view>

namespace savoir {

// `text` with every chat marker broken: "<|...|>" (ChatML, Llama 3, Phi:
// up to 40 letters, digits, '_', '-' or '.' between the bars), DeepSeek's
// "<｜...｜>", "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>", "<s>", "</s>",
// "<start_of_turn>", "<end_of_turn>", "<bos>", "<eos>". Text without any
// is returned as it is.
std::string DefangChatMarkers(std::string_view text);

}  // namespace savoir
