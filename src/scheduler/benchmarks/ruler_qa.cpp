// RULER's qa_1 (SQuAD v2 dev) and qa_2 (HotpotQA dev distractor), after scripts/data/synthetic/qa.py: the gold
// paragraphs plus distractor paragraphs (same-article ones first for SQuAD, then random others) are shuffled and
// numbered "Document {i}:\n{text}".
#include "common/error.h"
#include "scheduler/benchmarks/data_files.h"
#include "scheduler/benchmarks/ruler_tasks.h"
#include "scheduler/benchmarks/text_util.h"

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

}  // namespace

QaData read_squad(const std::string& path) {
  const nlohmann::json root = read_json(path);
  if (!root.contains("data") || !root["data"].is_array())
    throw InputError(path, 0, "data", "SQuAD v2 JSON with a `data` list of articles");
  std::vector<std::string> contexts;
  for (const auto& article : root["data"])
    for (const auto& p : article.at("paragraphs")) contexts.push_back(p.at("context").get<std::string>());
  QaData data = index_docs(contexts);
  for (const auto& article : root["data"]) {
    std::vector<size_t> article_docs;
    for (const auto& p : article.at("paragraphs")) article_docs.push_back(doc_index(data, p.at("context")));
    for (const auto& p : article.at("paragraphs")) {
      const size_t own = doc_index(data, p.at("context"));
      for (const auto& qa : p.at("qas")) {
        if (qa.value("is_impossible", false)) continue;
        QaQuestion q;
        q.query = qa.at("question").get<std::string>();
        for (const auto& a : qa.at("answers")) q.outputs.push_back(a.at("text").get<std::string>());
        q.context = {own};
        for (size_t d : article_docs)
          if (d != own) q.more_context.push_back(d);
        data.questions.push_back(std::move(q));
      }
    }
  }
  return data;
}

QaData read_hotpotqa(const std::string& path) {
  const nlohmann::json root = read_json(path);
  if (!root.is_array()) throw InputError(path, 0, "", "the HotpotQA JSON list of questions");
  auto doc_text = [](const nlohmann::json& pair) {
    std::string text = pair.at(0).get<std::string>() + "\n";
    for (const auto& s : pair.at(1)) text += s.get<std::string>();
    return text;
  };
  std::vector<std::string> all;
  for (const auto& item : root)
    for (const auto& pair : item.at("context")) all.push_back(doc_text(pair));
  QaData data = index_docs(all);
  for (const auto& item : root) {
    QaQuestion q;
    q.query = item.at("question").get<std::string>();
    q.outputs = {item.at("answer").get<std::string>()};
    for (const auto& pair : item.at("context")) q.context.push_back(doc_index(data, doc_text(pair)));
    data.questions.push_back(std::move(q));
  }
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
  d.answer_prefix = format_template(task.answer_prefix, {{"query", q.query}});
  d.references = q.outputs;
  d.metadata["question_index"] = question_index % data.questions.size();
  return d;
}

}  // namespace loom::benchmarks::ruler
