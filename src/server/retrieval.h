// Retrieval as the HTTP routes need it: run the search as the request's
// principal, load each hit's document, chunk and source, and shape the
// result objects shared by /api/search, the `sources` event of /api/chat and
// the `sources` field of the OpenAI-compatible API.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "answer/answer.h"
#include "retrieve/engine.h"
#include "server/request_context.h"

namespace savoir {

struct RetrievedHit {
  DocumentHit hit;
  DocumentRecord doc;
  ChunkRecord chunk;
  SourceRecord source;
  std::string snippet;  // plain text in which only <mark> and </mark> are markup
  std::string text;     // the chunk's text (doc.content is not loaded)
};

struct Retrieval {
  std::vector<RetrievedHit> hits;
  std::string language;  // the query's, as the searcher analyzed it
  double took_ms = 0;
};

Result<Retrieval> Retrieve(Engine& engine, const std::string& query, const Principal& principal,
                           const SearchFilters& filters, size_t k);

// Whether `principal` may read a document with this access list (the same
// rule the index applies inside search).
bool CanRead(const Principal& principal, const AccessList& acl);

nlohmann::json SourceJson(const SourceRecord& source);
nlohmann::json ResultJson(const RetrievedHit& hit);
nlohmann::json ResultsJson(const Retrieval& retrieval);
// The /api/search body, {"results": ResultsJson(retrieval), "took_ms": took_ms},
// byte for byte as DumpJson would write it, without building the JSON tree
// (its map nodes and string copies were a twentieth of a request's CPU).
std::string SearchResponseJson(const Retrieval& retrieval, double took_ms);
nlohmann::json CitationJson(const Citation& citation);

// The passages handed to the answerer, numbered as the results are.
std::vector<Passage> PassagesFor(const Retrieval& retrieval);

}  // namespace savoir
