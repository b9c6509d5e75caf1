// Princeton WordNet 3.0 read from its database files (index.<pos>, <pos>.exc, data.<pos>; Debian package
// wordnet-base installs them under /usr/share/wordnet), for nltk's METEOR synonym stage. It answers what
// nltk 3.8.1's WordNetCorpusReader gives for
//   set(lemma.name() for synset in wordnet.synsets(word) for lemma in synset.lemmas() if "_" not in lemma.name())
// synsets(word): word.lower(); for each part of speech in nltk's POS_LIST order (n, v, a, r) the forms of
// _morphy(word, pos) (exception list first; else the word and one round of the detachment rules, kept where the
// index lists them for that pos; else further rounds until one gives a form), each form's synset offsets from
// index.<pos>, each synset's words from data.<pos> (an adjective's syntactic marker "(a)", "(p)", "(ip)" cut off).
#pragma once

#include <filesystem>
#include <memory>
#include <set>
#include <string>

namespace loom::metrics::text {

class WordNet {
 public:
  // Debian's location of the database files.
  static constexpr const char* kDefaultDir = "/usr/share/wordnet";

  // The database in `dir`, read once per process and shared (thread-safe). Throws std::runtime_error naming the
  // missing or malformed file when the database cannot be read.
  static std::shared_ptr<const WordNet> open(const std::filesystem::path& dir);
  // Empty when the database can be read, else why not (missing directory or file), without throwing.
  static std::string unavailable_reason(const std::filesystem::path& dir);

  // The lemma names (no multi-word names, i.e. none with '_') of every synset nltk's wordnet.synsets(word) returns.
  std::set<std::string> synonyms(const std::string& word) const;

  struct Data;
  explicit WordNet(std::unique_ptr<Data> data);
  ~WordNet();

 private:
  std::unique_ptr<Data> data_;
};

}  // namespace loom::metrics::text
