#include "index/analyzer.h"

#include "common/utf8.h"

#include <libstemmer.h>
#include <unicode/uchar.h>

#include <cld2/public/compact_lang_det.h>
#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace CLD2 {
const char* LanguageCode(Language lang);
}

namespace savoir {
namespace {

constexpr size_t kMaxTermBytes = 64;

bool IsWordChar(char32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
  return u_isalnum(static_cast<UChar32>(cp)) || u_getCombiningClass(static_cast<UChar32>(cp)) != 0;
}

// Folds Latin letters with diacritics to their base letters (already lower case).
const char* FoldLatin(char32_t cp) {
  switch (cp) {
    case U'à': case U'á': case U'â': case U'ã': case U'ä': case U'å': case U'ā': case U'ă': case U'ą': return "a";
    case U'æ': return "ae";
    case U'ç': case U'ć': case U'č': case U'ĉ': case U'ċ': return "c";
    case U'ď': case U'đ': return "d";
    case U'è': case U'é': case U'ê': case U'ë': case U'ē': case U'ė': case U'ę': case U'ě': return "e";
    case U'ğ': case U'ġ': case U'ģ': return "g";
    case U'ì': case U'í': case U'î': case U'ï': case U'ī': case U'į': case U'ı': return "i";
    case U'ł': case U'ľ': case U'ĺ': case U'ļ': return "l";
    case U'ñ': case U'ń': case U'ň': case U'ņ': return "n";
    case U'ò': case U'ó': case U'ô': case U'õ': case U'ö': case U'ø': case U'ō': case U'ő': return "o";
    case U'œ': return "oe";
    case U'ŕ': case U'ř': return "r";
    case U'ś': case U'š': case U'ş': case U'ș': return "s";
    case U'ß': return "ss";
    case U'ť': case U'ţ': case U'ț': return "t";
    case U'ù': case U'ú': case U'û': case U'ü': case U'ū': case U'ů': case U'ű': case U'ų': return "u";
    case U'ý': case U'ÿ': return "y";
    case U'ź': case U'ż': case U'ž': return "z";
    default: return nullptr;
  }
}

// Stop words (removed at index and query time). English: Lucene's default
// English set; French: the Snowball French list, with elided forms.
// Asked for nearly every word analyzed (snippets analyze whole passages per
// request): one open-addressing table of views into the word set, hashed
// without building a string.
class StopSet {
 public:
  explicit StopSet(const std::unordered_set<std::string>& words) {
    size_t n = 16;
    while (n < 4 * words.size()) n *= 2;  // at most a quarter full
    slots_.resize(n);
    for (const auto& w : words) {
      max_len_ = std::max(max_len_, w.size());
      size_t i = Hash(w) & (n - 1);
      while (!slots_[i].empty()) i = (i + 1) & (n - 1);
      slots_[i] = w;
    }
  }
  bool Contains(std::string_view word) const {
    // Most words are longer than every stop word: they skip the table.
    if (word.empty() || word.size() > max_len_) return false;
    const size_t mask = slots_.size() - 1;
    for (size_t i = Hash(word) & mask; !slots_[i].empty(); i = (i + 1) & mask)
      if (slots_[i] == word) return true;
    return false;
  }

 private:
  static size_t Hash(std::string_view w) {  // FNV-1a
    uint32_t h = 2166136261u;
    for (unsigned char c : w) h = (h ^ c) * 16777619u;
    return h;
  }
  std::vector<std::string_view> slots_;  // views into the static word sets
  size_t max_len_ = 0;
};
const std::unordered_set<std::string>& StopWords(std::string_view lang);
const StopSet& StopWordsOf(std::string_view lang) {
  static const StopSet en(StopWords("en")), fr(StopWords("fr")), none(StopWords(""));
  if (lang == "en") return en;
  if (lang == "fr") return fr;
  return none;
}

const std::unordered_set<std::string>& StopWords(std::string_view lang) {
  static const std::unordered_set<std::string> en = {
      "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
      "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
      "they", "this", "to", "was", "will", "with", "s", "t",
      // Question words and pronouns: questions are how people search.
      "how", "what", "which", "who", "whom", "whose", "when", "where", "why", "do", "does", "did",
      "i", "me", "my", "we", "our", "you", "your", "many"};
  static const std::unordered_set<std::string> fr = {
      "au", "aux", "avec", "ce", "ces", "dans", "de", "des", "du", "elle", "en", "et", "eux", "il",
      "ils", "je", "la", "le", "les", "leur", "lui", "ma", "mais", "me", "même", "mes", "moi", "mon",
      "ne", "nos", "notre", "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui", "sa", "se",
      "ses", "son", "sur", "ta", "te", "tes", "toi", "ton", "tu", "un", "une", "vos", "votre", "vous",
      "c", "d", "j", "l", "à", "m", "n", "s", "t", "y", "été", "étée", "étées", "étés", "étant",
      "suis", "es", "est", "sommes", "êtes", "sont", "serai", "sera", "serons", "seront", "serais",
      "serait", "étais", "était", "étions", "étiez", "étaient", "fus", "fut", "soit", "soient",
      "ai", "as", "avons", "avez", "ont", "aura", "auront", "aurait", "avais", "avait", "avaient",
      "eu", "ayant", "cette", "cet", "ceci", "cela", "ça", "dont", "où", "lors", "ni", "car", "si",
      // Question words and fillers: questions are how people search.
      "quel", "quelle", "quels", "quelles", "lequel", "laquelle", "lesquels", "lesquelles",
      "combien", "comment", "pourquoi", "quand", "quoi", "est-ce", "ceux", "celle", "celles",
      "celui", "y", "a", "ont", "fait", "faire", "peut", "être", "avoir", "aussi", "plus", "très",
      "tout", "tous", "toute", "toutes", "autre", "autres", "entre", "comme", "après", "avant"};
  static const std::unordered_set<std::string> none;
  if (lang == "en") return en;
  if (lang == "fr") return fr;
  return none;
}

const char* SnowballName(std::string_view lang) {
  static const std::unordered_map<std::string_view, const char*> names = {
      {"en", "english"}, {"fr", "french"},   {"de", "german"},    {"es", "spanish"},
      {"it", "italian"}, {"pt", "portuguese"}, {"nl", "dutch"},   {"sv", "swedish"},
      {"no", "norwegian"}, {"da", "danish"}, {"fi", "finnish"},  {"ru", "russian"},
      {"hu", "hungarian"}, {"ro", "romanian"}, {"tr", "turkish"}};
  auto it = names.find(lang);
  return it == names.end() ? nullptr : it->second;
}

// A language's Snowball stemmer, as libstemmer builds it for UTF-8 and,
// where it has one, for ISO-8859-1: the same algorithm (same rules, same
// tables), a third faster on French and a sixth on English because its
// suffix searches step over bytes instead of decoding UTF-8. A word of
// ASCII and Latin-1 lower-case letters goes through the Latin-1 one, any
// other through UTF-8. The two builds stem alike (tests/unit/analyzer_test.cc,
// and 139,516 words, SciFact's and PIAF's and generated ones, on every
// language), except Dutch, whose two builds differ on a few letter
// sequences ("açë": "aç" in UTF-8, "açe" in Latin-1): Dutch stays UTF-8.
// libstemmer instances are not thread-safe: one per thread and language.
class Stemmer {
 public:
  explicit Stemmer(const char* name)
      : utf8_(sb_stemmer_new(name, "UTF_8")),
        latin1_(std::strcmp(name, "dutch") == 0 ? nullptr : sb_stemmer_new(name, "ISO_8859_1")) {}
  ~Stemmer() {
    if (utf8_) sb_stemmer_delete(utf8_);
    if (latin1_) sb_stemmer_delete(latin1_);
  }
  Stemmer(const Stemmer&) = delete;
  Stemmer& operator=(const Stemmer&) = delete;
  bool ok() const { return utf8_ != nullptr; }

  // The stem of lower-case UTF-8 `word`, in UTF-8, into `out`.
  void Stem(std::string_view word, std::string* out) {
    if (latin1_ && ToLatin1(word, &latin1_word_)) {
      const sb_symbol* s = sb_stemmer_stem(latin1_, reinterpret_cast<const sb_symbol*>(latin1_word_.data()),
                                           static_cast<int>(latin1_word_.size()));
      if (!s) {  // out of memory: the word as it is
        out->assign(word);
        return;
      }
      out->clear();
      const int n = sb_stemmer_length(latin1_);
      for (int i = 0; i < n; ++i) {
        const unsigned char c = s[i];
        if (c < 0x80) {
          out->push_back(static_cast<char>(c));
        } else {
          out->push_back(static_cast<char>(0xC0 | (c >> 6)));
          out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
      }
      return;
    }
    const sb_symbol* s =
        sb_stemmer_stem(utf8_, reinterpret_cast<const sb_symbol*>(word.data()), static_cast<int>(word.size()));
    if (!s) {
      out->assign(word);
      return;
    }
    out->assign(reinterpret_cast<const char*>(s), sb_stemmer_length(utf8_));
  }

  // `word` in ISO-8859-1 into `out`; false when a character is not an
  // ASCII byte or a Latin-1 lower-case letter.
  static bool ToLatin1(std::string_view word, std::string* out) {
    out->clear();
    for (size_t i = 0; i < word.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(word[i]);
      if (c < 0x80) {
        out->push_back(static_cast<char>(c));
        continue;
      }
      // Only the lower-case letters U+00DF..U+00FF (C3 9F..C3 BF), less
      // the sign U+00F7: on other characters (µ, ª, º) the two builds can
      // differ ("uµe" is "uµ" in UTF-8 Dutch, "uµe" in Latin-1).
      if (c != 0xC3 || i + 1 == word.size()) return false;
      const unsigned char d = static_cast<unsigned char>(word[i + 1]);
      if (d < 0x9F || d > 0xBF || d == 0xB7) return false;
      out->push_back(static_cast<char>(0xC0 | (d & 0x3F)));
      ++i;
    }
    return true;
  }

 private:
  sb_stemmer* utf8_;
  sb_stemmer* latin1_;  // nullptr: libstemmer has no Latin-1 build of it
  std::string latin1_word_;
};

class StemmerCache {
 public:
  Stemmer* Get(std::string_view lang) {
    auto it = stemmers_.find(std::string(lang));
    if (it != stemmers_.end()) return it->second.get();
    const char* name = SnowballName(lang);
    std::unique_ptr<Stemmer> s = name ? std::make_unique<Stemmer>(name) : nullptr;
    if (s && !s->ok()) s.reset();
    Stemmer* got = s.get();
    stemmers_.emplace(std::string(lang), std::move(s));
    return got;
  }

 private:
  std::unordered_map<std::string, std::unique_ptr<Stemmer>> stemmers_;
};

StemmerCache& Stemmers() {
  thread_local StemmerCache cache;
  return cache;
}

// Stems of words already seen, shared by every thread: the same words come
// back all the time (indexing, query analysis, snippets), and a lookup costs
// a fraction of a Snowball stem. Per language, 16 shards each under its own
// reader/writer lock, taken without waiting; a full shard is emptied
// (memory stays bounded). Each shard is one open-addressing table whose
// slots hold the word, its stem and its variant inline: a lookup reads one
// slot (a cache line), where node-based maps chased two or three pointers
// (a tenth of a search request's CPU went to those misses, in snippets).
class StemCache {
 public:
  struct Entry {
    std::string term;     // folded stem
    std::string variant;  // stem of the accent-less word when it differs, else ""
  };
  // Copies the entry for `word` into `out`; false when absent.
  bool Find(std::string_view word, Entry* out) {
    if (word.size() > kText) return false;
    const size_t h = std::hash<std::string_view>()(word);
    Shard& s = shards_[h % kShards];
    // Never waits: a busy shard counts as a miss (a thread preempted while
    // holding a lock must not stall the others; servers run many threads).
    std::shared_lock<std::shared_mutex> lock(s.mu, std::try_to_lock);
    if (!lock.owns_lock() || s.slots.empty()) return false;
    const uint32_t tag = Tag(h);
    for (size_t i = Home(h);; i = (i + 1) & (kSlots - 1)) {
      const Slot& slot = s.slots[i];
      if (slot.tag == 0) return false;
      if (slot.tag == tag && slot.wlen == word.size() && std::memcmp(slot.text, word.data(), word.size()) == 0) {
        out->term.assign(slot.text + slot.wlen, slot.tlen);
        out->variant.assign(slot.text + slot.wlen + slot.tlen, slot.vlen);
        return true;
      }
    }
  }
  void Put(std::string_view word, const Entry& e) {
    if (word.size() + e.term.size() + e.variant.size() > kText) return;  // too long to keep
    const size_t h = std::hash<std::string_view>()(word);
    Shard& s = shards_[h % kShards];
    std::unique_lock<std::shared_mutex> lock(s.mu, std::try_to_lock);
    if (!lock.owns_lock()) return;
    if (s.slots.empty()) s.slots.resize(kSlots);
    if (s.used >= kShardCapacity) {
      std::fill(s.slots.begin(), s.slots.end(), Slot{});
      s.used = 0;
    }
    const uint32_t tag = Tag(h);
    size_t i = Home(h);
    for (;; i = (i + 1) & (kSlots - 1)) {
      const Slot& slot = s.slots[i];
      if (slot.tag == 0) break;
      if (slot.tag == tag && slot.wlen == word.size() && std::memcmp(slot.text, word.data(), word.size()) == 0)
        return;  // another thread put it first
    }
    Slot& slot = s.slots[i];
    slot.tag = tag;
    slot.wlen = static_cast<uint8_t>(word.size());
    slot.tlen = static_cast<uint8_t>(e.term.size());
    slot.vlen = static_cast<uint8_t>(e.variant.size());
    std::memcpy(slot.text, word.data(), word.size());
    std::memcpy(slot.text + word.size(), e.term.data(), e.term.size());
    std::memcpy(slot.text + word.size() + e.term.size(), e.variant.data(), e.variant.size());
    ++s.used;
  }

 private:
  // At most 4096 words a shard in 8192 slots (half full at most, so probes
  // stay short): 64k words a language, 8 MB once every shard is used.
  static constexpr size_t kShards = 16, kShardCapacity = 4096, kSlots = 8192;
  static constexpr size_t kText = 57;  // word + stem + variant bytes
  struct alignas(64) Slot {
    uint32_t tag = 0;  // 0: empty
    uint8_t wlen = 0, tlen = 0, vlen = 0;
    char text[kText];
  };
  static_assert(sizeof(Slot) == 64);
  static uint32_t Tag(size_t h) { return static_cast<uint32_t>(h >> 32) | 1u; }
  static size_t Home(size_t h) { return (h >> 4) & (kSlots - 1); }
  struct Shard {
    std::shared_mutex mu;
    std::vector<Slot> slots;  // allocated on first use
    size_t used = 0;
  };
  Shard shards_[kShards];
};

StemCache& StemCacheFor(std::string_view lang) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::unique_ptr<StemCache>> caches;
  thread_local std::string last_lang;
  thread_local StemCache* last = nullptr;
  if (last && last_lang == lang) return *last;
  std::lock_guard<std::mutex> lock(mu);
  auto& c = caches[std::string(lang)];
  if (!c) c = std::make_unique<StemCache>();
  last_lang = std::string(lang);
  last = c.get();
  return *c;
}

bool HasDigit(std::string_view w) {
  for (char c : w) if (c >= '0' && c <= '9') return true;
  return false;
}

void FoldInto(std::string_view lower, std::string* out) {
  out->clear();
  for (size_t i = 0; i < lower.size();) {
    if (static_cast<unsigned char>(lower[i]) < 0x80) { out->push_back(lower[i++]); continue; }
    char32_t cp = DecodeUtf8(lower, i);
    if (u_getCombiningClass(static_cast<UChar32>(cp)) != 0) continue;  // decomposed accents
    if (const char* f = FoldLatin(cp)) out->append(f);
    else AppendUtf8(cp, out);
  }
}

}  // namespace

static void AnalyzeImpl(std::string_view text, std::string_view language, std::vector<Token>* out,
                 std::vector<std::string>* variants, const std::string_view* first_bytes);

bool Analyzer::HasStemmer(std::string_view language) { return SnowballName(language) != nullptr; }

std::string Analyzer::Fold(std::string_view word) {
  std::string lower, folded;
  for (size_t i = 0; i < word.size();) {
    char32_t cp = DecodeUtf8(word, i);
    AppendUtf8(static_cast<char32_t>(u_tolower(static_cast<UChar32>(cp))), &lower);
  }
  FoldInto(lower, &folded);
  return folded;
}

void Analyzer::Analyze(std::string_view text, std::string_view language, std::vector<Token>* out,
                       std::vector<std::string>* variants) {
  AnalyzeImpl(text, language, out, variants, nullptr);
}

void Analyzer::AnalyzeForMatch(std::string_view text, std::string_view language, std::string_view first_bytes,
                               std::vector<Token>* out) {
  AnalyzeImpl(text, language, out, nullptr, &first_bytes);
}

namespace {
// The first byte of a lower-case word once accent folded, or -1 when that
// is not known cheaply (the word is then analyzed in full).
int FoldedFirstByte(std::string_view word) {
  if (word.empty()) return -1;
  unsigned char c = static_cast<unsigned char>(word[0]);
  if (c < 0x80) return c;
  size_t i = 0;
  char32_t cp = DecodeUtf8(word, i);
  if (const char* f = FoldLatin(cp)) return static_cast<unsigned char>(f[0]);
  return -1;
}
}  // namespace

namespace {

// Splits `text` into words (runs of letters, digits and combining marks),
// lower-cased into `word`, and calls fn(word, begin, end) with the byte
// offsets of each; words longer than kMaxTermBytes are skipped.
template <typename Fn>
void SplitWords(std::string_view text, Fn&& fn) {
  std::string word;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    size_t start = i;
    char32_t cp = DecodeUtf8(text, i);
    if (!IsWordChar(cp)) continue;
    word.clear();
    size_t end = i;
    for (;;) {
      if (cp < 0x80) word.push_back(static_cast<char>((cp >= 'A' && cp <= 'Z') ? cp + 32 : cp));
      else AppendUtf8(static_cast<char32_t>(u_tolower(static_cast<UChar32>(cp))), &word);
      end = i;
      if (i >= n) break;
      // ASCII bytes decode to themselves.
      if (const unsigned char c = static_cast<unsigned char>(text[i]); c < 0x80) {
        cp = c;
        if (!IsWordChar(cp)) break;
        ++i;
        continue;
      }
      size_t save = i;
      cp = DecodeUtf8(text, i);
      if (!IsWordChar(cp)) { i = save; break; }
    }
    if (word.size() > kMaxTermBytes) continue;
    fn(std::string_view(word), static_cast<uint32_t>(start), static_cast<uint32_t>(end));
  }
}

// One language's analysis state: its stop words and stemmer (per thread).
struct LanguageState {
  explicit LanguageState(std::string_view language)
      : stops(StopWordsOf(language)), stemmer(Stemmers().Get(language)) {}
  bool IsStop(std::string_view word) const { return stops.Contains(word); }
  const StopSet& stops;
  Stemmer* stemmer;
};

// The stem of `word` folded, and the stem of the word typed without
// accents when it differs ("payes" -> "pay", while "payés" -> "pai"),
// which is indexed too so that accent-less queries match.
void StemInto(Stemmer* stemmer, std::string_view word, StemCache::Entry* entry, std::string* folded) {
  thread_local std::string stemmed;
  stemmer->Stem(word, &stemmed);
  FoldInto(stemmed, &entry->term);
  entry->variant.clear();
  FoldInto(word, folded);
  if (*folded != word) {
    std::string alt;
    stemmer->Stem(*folded, &alt);
    if (alt != entry->term) entry->variant = std::move(alt);
  }
}

}  // namespace

static void AnalyzeImpl(std::string_view text, std::string_view language, std::vector<Token>* out,
                 std::vector<std::string>* variants, const std::string_view* first_bytes) {
  const LanguageState lang(language);
  std::string folded;
  StemCache* cache = nullptr;
  StemCache::Entry entry;
  SplitWords(text, [&](std::string_view word, uint32_t begin, uint32_t end) {
    if (lang.IsStop(word)) return;
    Token tok;
    tok.begin = begin;
    tok.end = end;
    if (first_bytes) {
      int b = FoldedFirstByte(word);
      if (b >= 0 && first_bytes->find(static_cast<char>(b)) == std::string_view::npos) {
        out->push_back(std::move(tok));  // empty term: cannot match
        return;
      }
    }
    if (lang.stemmer && !HasDigit(word)) {
      if (!cache) cache = &StemCacheFor(language);
      if (!cache->Find(word, &entry)) {
        StemInto(lang.stemmer, word, &entry, &folded);
        cache->Put(word, entry);
      }
      tok.term = entry.term;
      if (variants && !entry.variant.empty()) variants->push_back(entry.variant);
    } else {
      FoldInto(word, &tok.term);
    }
    if (tok.term.empty()) return;
    out->push_back(std::move(tok));
  });
}

void Analyzer::ForEachWord(std::string_view text,
                           const std::function<void(std::string_view word, uint32_t begin, uint32_t end)>& fn) {
  SplitWords(text, fn);
}

bool Analyzer::NormalizeWord(std::string_view word, std::string_view language, std::string* term,
                             std::string* variant) {
  thread_local std::string last_language;
  thread_local std::unique_ptr<LanguageState> lang;
  if (!lang || last_language != language) {
    lang = std::make_unique<LanguageState>(language);
    last_language = std::string(language);
  }
  term->clear();
  variant->clear();
  if (lang->IsStop(word)) return false;
  if (lang->stemmer && !HasDigit(word)) {
    thread_local StemCache::Entry entry;
    thread_local std::string folded;
    StemInto(lang->stemmer, word, &entry, &folded);
    *term = entry.term;
    *variant = entry.variant;
  } else {
    FoldInto(word, term);
  }
  return true;
}

std::vector<std::string> Analyzer::Terms(std::string_view text, std::string_view language) {
  std::vector<Token> toks;
  Analyze(text, language, &toks);
  std::vector<std::string> terms;
  terms.reserve(toks.size());
  for (auto& t : toks) terms.push_back(std::move(t.term));
  return terms;
}

std::string DetectLanguage(std::string_view text, bool* reliable) {
  return DetectLanguageAmong(text, {}, reliable);
}

namespace {

// CLD2 reads every byte it is given (33 MB/s a core here, two thirds of
// preparing a document for the store). Most chunks say their language
// clearly in their first bytes: a long text is first detected on its first
// kLanguageSample bytes, and only when that sample is unsure (not reliable, or
// the language under kSampleSurePercent of it) on the whole text. On the
// 6,849 chunks of SciFact, PIAF and the shared documents this is 2.4x less
// CLD2 time, and the two chunks whose answer changes were unsure on their
// whole text and are sure, and right, on their beginning.
constexpr size_t kLanguageSample = 512;
constexpr int kSampleSurePercent = 80;

std::string DetectWithCld2(std::string_view text, const std::vector<std::string>& allowed, int sure_percent,
                           bool* reliable) {
  CLD2::Language top3[3];
  int percent3[3];
  int text_bytes = 0;
  bool is_reliable = false;
  CLD2::DetectLanguageSummary(text.data(), static_cast<int>(text.size()), /*is_plain_text=*/true, top3,
                              percent3, &text_bytes, &is_reliable);
  *reliable = false;
  for (int i = 0; i < 3; ++i) {
    if (top3[i] == CLD2::UNKNOWN_LANGUAGE) continue;
    std::string code = CLD2::LanguageCode(top3[i]);
    if (code == "un") continue;
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), code) == allowed.end()) continue;
    // Reliable when CLD2 is sure overall and this language is most of the text.
    *reliable = is_reliable && percent3[i] >= sure_percent;
    return code;
  }
  return "";
}

// The first about `limit` bytes of `text`, cut before a word when a space is
// close enough (else at a code point: TruncateUtf8).
std::string_view LeadingSample(std::string_view text, size_t limit) {
  if (text.size() <= limit) return text;
  std::string_view head = TruncateUtf8(text, limit);
  size_t space = head.rfind(' ');
  return space != std::string_view::npos && space > limit / 2 ? head.substr(0, space) : head;
}

}  // namespace

std::string DetectLanguageAmong(std::string_view text, const std::vector<std::string>& allowed,
                                bool* reliable) {
  bool sure = false;
  if (text.size() > kLanguageSample) {
    std::string code = DetectWithCld2(LeadingSample(text, kLanguageSample), allowed, kSampleSurePercent, &sure);
    if (sure) {
      if (reliable) *reliable = true;
      return code;
    }
  }
  std::string code = DetectWithCld2(text, allowed, 50, &sure);
  if (reliable) *reliable = sure;
  return code;
}

}  // namespace savoir
