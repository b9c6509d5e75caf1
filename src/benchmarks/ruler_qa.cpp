// RULER's qa_1 (SQuAD v2 dev) and qa_2 (HotpotQA dev distractor), after scripts/data/synthetic/qa.py: the gold
// paragraphs plus distractor paragraphs (same-article ones first for SQuAD, then random others) are shuffled and
// numbered "Document {i}:\n{text}".
#include "common/error.h"
#include "benchmarks/data_files.h"
#include "benchmarks/ruler_tasks.h"
#include "benchmarks/text_util.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace loom::benchmarks::ruler {
namespace {

QaData index_docs(std::vector<std::string> all_docs) {
  QaData data;
  std::set<std::string> unique(all_docs.begin(), all_docs.end());
  data.docs.assign(unique.begin(), unique.end());
  return data;
}

size_t doc_index(const QaData& data, const std::string& doc) {
  return static_cast<size_t>(std::lower_bound(data.docs.begin(), data.docs.end(), doc) - data.docs.begin());
}

// obj[key] when obj is an object holding it with the wanted type, else an InputError naming the file and the
// record path ("data[3].paragraphs[0].context") with what was expected.
enum class Kind { kString, kArray };
const nlohmann::json& member(const nlohmann::json& obj, const char* key, Kind kind, const std::string& path,
                             const std::string& where) {
  const std::string name = where.empty() ? key : where + "." + key;
  const char* expected = kind == Kind::kString ? "a string" : "a list";
  if (!obj.is_object() || !obj.contains(key)) throw InputError(path, 0, name, fmt::format("{} (missing)", expected));
  const nlohmann::json& value = obj[key];
  if (kind == Kind::kString ? !value.is_string() : !value.is_array())
    throw InputError(path, 0, name, fmt::format("{}, not {}", expected, value.type_name()));
  return value;
}

std::string at_index(const std::string& where, size_t i) { return fmt::format("{}[{}]", where, i); }

void require_questions(const QaData& data, const std::string& path, const char* dataset) {
  if (data.questions.empty() || data.docs.empty())
    throw InputError(path, 0, "", fmt::format("{} with at least one answerable question and its paragraph (RULER qa "
                                              "draws its questions and documents from it)", dataset));
}

}  // namespace

QaData read_squad(const std::string& path) {
  const nlohmann::json root = read_json(path);
  if (!root.is_object() || !root.contains("data") || !root["data"].is_array())
    throw InputError(path, 0, "data", "SQuAD v2 JSON with a `data` list of articles");
  const nlohmann::json& articles = root["data"];
  std::vector<std::string> contexts;
  for (size_t a = 0; a < articles.size(); ++a) {
    const std::string where = at_index("data", a);
    const nlohmann::json& paragraphs = member(articles[a], "paragraphs", Kind::kArray, path, where);
    for (size_t p = 0; p < paragraphs.size(); ++p)
      contexts.push_back(member(paragraphs[p], "context", Kind::kString, path, at_index(where + ".paragraphs", p)));
  }
  QaData data = index_docs(contexts);
  for (size_t a = 0; a < articles.size(); ++a) {
    const nlohmann::json& paragraphs = articles[a]["paragraphs"];
    std::vector<size_t> article_docs;
    for (const auto& p : paragraphs) article_docs.push_back(doc_index(data, p["context"].get<std::string>()));
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      const std::string where = at_index(at_index("data", a) + ".paragraphs", p);
      const size_t own = doc_index(data, paragraphs[p]["context"].get<std::string>());
      const nlohmann::json& qas = member(paragraphs[p], "qas", Kind::kArray, path, where);
      for (size_t k = 0; k < qas.size(); ++k) {
        const std::string qa_where = at_index(where + ".qas", k);
        const nlohmann::json& qa = qas[k];
        const bool impossible = qa.is_object() && qa.contains("is_impossible") && qa["is_impossible"].is_boolean() &&
                                qa["is_impossible"].get<bool>();
        if (impossible) continue;
        QaQuestion q;
        q.query = member(qa, "question", Kind::kString, path, qa_where).get<std::string>();
        const nlohmann::json& answers = member(qa, "answers", Kind::kArray, path, qa_where);
        for (size_t n = 0; n < answers.size(); ++n)
          q.outputs.push_back(
              member(answers[n], "text", Kind::kString, path, at_index(qa_where + ".answers", n)).get<std::string>());
        q.context = {own};
        for (size_t d : article_docs)
          if (d != own) q.more_context.push_back(d);
        data.questions.push_back(std::move(q));
      }
    }
  }
  require_questions(data, path, "SQuAD v2 JSON");
  return data;
}

QaData read_hotpotqa(const std::string& path) {
  const nlohmann::json root = read_json(path);
  if (!root.is_array()) throw InputError(path, 0, "", "the HotpotQA JSON list of questions");
  // context: a list of [title, [sentence, ...]] pairs.
  auto doc_text = [&path](const nlohmann::json& pair, const std::string& where) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_array())
      throw InputError(path, 0, where, "a [title, [sentence, ...]] pair");
    std::string text = pair[0].get<std::string>() + "\n";
    for (const auto& sentence : pair[1]) {
      if (!sentence.is_string()) throw InputError(path, 0, where, "a [title, [sentence, ...]] pair of strings");
      text += sentence.get<std::string>();
    }
    return text;
  };
  std::vector<std::string> all;
  for (size_t i = 0; i < root.size(); ++i) {
    const std::string where = at_index("", i);
    const nlohmann::json& context = member(root[i], "context", Kind::kArray, path, where);
    for (size_t c = 0; c < context.size(); ++c) all.push_back(doc_text(context[c], at_index(where + ".context", c)));
  }
  QaData data = index_docs(all);
  for (size_t i = 0; i < root.size(); ++i) {
    const std::string where = at_index("", i);
    QaQuestion q;
    q.query = member(root[i], "question", Kind::kString, path, where).get<std::string>();
    q.outputs = {member(root[i], "answer", Kind::kString, path, where).get<std::string>()};
    const nlohmann::json& context = root[i]["context"];
    for (size_t c = 0; c < context.size(); ++c)
      q.context.push_back(doc_index(data, doc_text(context[c], at_index(where + ".context", c))));
    data.questions.push_back(std::move(q));
  }
  require_questions(data, path, "the HotpotQA JSON list");
  return data;
}

Draft draft_qa(const TaskConfig& task, const QaData& data, size_t question_index, int64_t n, DeterministicRng& rng) {
  const QaQuestion& q = data.questions[question_index % data.questions.size()];
  std::vector<size_t> chosen;
  const size_t num_docs = static_cast<size_t>(n);
  if (num_docs < data.docs.size()) {
    chosen = q.context;
    if (num_docs - std::min(num_docs, q.context.size()) > q.more_context.size()) {
      chosen.insert(chosen.end(), q.more_context.begin(), q.more_context.end());
      std::set<size_t> used(chosen.begin(), chosen.end());
      std::vector<size_t> rest;
      for (size_t i = 0; i < data.docs.size(); ++i)
        if (!used.count(i)) rest.push_back(i);
      const size_t extra = std::min(rest.size(), num_docs - chosen.size());
      for (size_t k : rng.sample_indices(rest.size(), extra)) chosen.push_back(rest[k]);
    } else {
      const size_t extra = num_docs > q.context.size() ? num_docs - q.context.size() : 0;
      for (size_t k : rng.sample_indices(q.more_context.size(), extra)) chosen.push_back(q.more_context[k]);
    }
  } else {
    for (size_t i = 0; i < num_docs; ++i) chosen.push_back(i % data.docs.size());
  }
  rng.shuffle(chosen);
  std::vector<std::string> blocks;
  for (size_t i = 0; i < chosen.size(); ++i)
    blocks.push_back("Document " + std::to_string(i + 1) + ":\n" + data.docs[chosen[i]]);
  Draft d;
  d.prompt = format_template(task.template_text, {{"context", join(blocks, "\n\n")}, {"query", q.query}});
  d.question_begin = question_begin(d.prompt, task.template_text, {{"query", q.query}});
  d.answer_prefix = format_template(task.answer_prefix, {{"query", q.query}});
  d.references = q.outputs;
  d.metadata["question_index"] = question_index % data.questions.size();
  return d;
}

}  // namespace loom::benchmarks::ruler
