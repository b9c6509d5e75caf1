// LV-Eval scorers (infinigence/LVEval metrics.py, evaluation.py). Only the first reference is scored (the
// upstream loop breaks after it). metadata "gold_ans" (or "answer_keywords") holds the answer keywords.
//  lveval_qa_f1_gold      (hotpotwikiqa, loogle_SD/CR/MIR, multifieldqa_en mixups): keyword recall, counting shared
//                         tokens not in ABANDON_WORDS_EN over all keyword tokens; < 0.2 -> 0, else SQuAD token F1.
//  lveval_qa_f1_zh_gold   (multifieldqa_zh, cmrc, lic mixups): jieba + ZH-norm tokens; keywords default to the
//                         answer; blacklist ABANDON_WORDS_ZH; threshold 0.4; else token F1.
//  lveval_qa_f1 / lveval_qa_f1_zh (factrecall_en / factrecall_zh): plain token F1.
//  lveval_rouge_zh_blacklist (dureader_mixup): jieba, re-jieba of the joined text, ZH-norm (empties kept), drop
//                         blacklisted tokens, pltrdy rouge-l F.
#include "metrics/scorers/scorer_support.h"

#include "metrics/text/jieba_segmenter.h"
#include "metrics/text/normalize.h"
#include "metrics/text/rouge.h"
#include "metrics/text/unicode_text.h"

#include <set>
#include <unordered_map>

namespace loom::metrics {

namespace {

using text::JiebaSegmenter;

const std::set<std::string>& abandon_en() {
  static const std::set<std::string> words = {
      "and", "to", "of", "in", "her", "was", "with", "for", "it", "from", "is", "that", "his", "he", "by", "she",
      "they", "or", "at", "because", "be", "on", "are", "their", "what", "as", "had", "were", "about", "being",
      "this", "who", "but", "have", "has", "when", "which", "does"};
  return words;
}

const std::set<std::string>& abandon_zh() {
  static const std::set<std::string> words = {
      "的", "和", "是", "等", "在", "年", "可以", "为", "与", "‰", "了", "或", "一种", "月", "c", "至", "日", "有",
      "进行", "于", "不", "中", "×", "根据", "小", "由", "亩", "也", "要", "指", "法", "会", "元", "主要", "以及",
      "通过", "首先", "对", "然后", "号", "以", "所", "后", "丁", "包括", "无", "将", "用", "能", "形", "方面", "因素",
      "位于", "而", "从", "到", "一定", "用于", "但", "使用", "让", "具有", "并", "亿元", "万元", "上", "类", "基于",
      "才", "来", "地", "片", "其他", "个", "或者", "变得", "时", "给", "你", "使", "条", "受", "已经", "带", "度"};
  return words;
}

// sum over the Counter intersection of prediction and keyword tokens, skipping blacklisted tokens.
double filtered_overlap(const std::vector<std::string>& pred, const std::vector<std::string>& keys,
                        const std::set<std::string>& blacklist) {
  std::unordered_map<std::string, long> pc, kc;
  for (const auto& t : pred) ++pc[t];
  for (const auto& t : keys) ++kc[t];
  long same = 0;
  for (const auto& [t, n] : kc)
    if (!blacklist.count(t)) {
      auto it = pc.find(t);
      if (it != pc.end()) same += std::min(n, it->second);
    }
  return static_cast<double>(same);
}

std::vector<std::string> zh_tokens(const std::string& s) {
  std::vector<std::string> out;
  for (const auto& t : JiebaSegmenter::shared().cut(s)) {
    std::string n = text::zh_normalize(t);
    if (!n.empty()) out.push_back(std::move(n));
  }
  return out;
}

std::string gold_keywords(const nlohmann::json& meta) {
  std::string g = metadata_string(meta, "gold_ans");
  if (g.empty()) g = metadata_string(meta, "answer_keywords");
  return g;
}

double qa_f1_gold(const std::string& prediction, const std::string& ground_truth, const std::string& gold) {
  const auto pred = text::py_split(text::squad_normalize(prediction));
  const auto truth = text::py_split(text::squad_normalize(ground_truth));
  if (!gold.empty()) {
    const auto keys = text::py_split(text::squad_normalize(gold));
    if (keys.empty()) return 0.0;  // upstream divides by zero
    const double recall = filtered_overlap(pred, keys, abandon_en()) / static_cast<double>(keys.size());
    if (recall < 0.2) return 0.0;
  }
  return text::token_f1(pred, truth);
}

double qa_f1_zh_gold(const std::string& prediction, const std::string& ground_truth, std::string gold) {
  const auto pred = zh_tokens(prediction);
  const auto truth = zh_tokens(ground_truth);
  if (gold.empty()) gold = ground_truth;
  if (!gold.empty()) {
    const auto keys = zh_tokens(gold);
    if (keys.empty()) return 0.0;  // upstream divides by zero
    const double recall = filtered_overlap(pred, keys, abandon_zh()) / static_cast<double>(keys.size());
    if (recall < 0.4) return 0.0;
  }
  return text::token_f1(pred, truth);
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) out += (i ? " " : "") + words[i];
  return out;
}

double rouge_zh_blacklist(const std::string& prediction, const std::string& ground_truth) {
  const auto& jieba = JiebaSegmenter::shared();
  auto filtered = [&](const std::string& s) {
    std::vector<std::string> kept;
    for (const auto& t : jieba.cut(join_words(jieba.cut(s)))) {
      std::string n = text::zh_normalize(t);
      if (!abandon_zh().count(n)) kept.push_back(std::move(n));
    }
    return join_words(kept);
  };
  // evaluation.py <module> -> scorer -> rouge_zh_score_blacklist -> rouge_score (depth 4) -> Rouge.get_scores
  auto scores = text::pltrdy_rouge(filtered(prediction), filtered(ground_truth), text::pltrdy_budget_for_caller_depth(4));
  return scores ? scores->rougel.f : 0.0;
}

ScorerEntry first_reference(const std::string& name,
                            std::function<double(const std::string&, const std::string&, const nlohmann::json&)> fn) {
  return {name, [fn](const std::string& p, const std::vector<std::string>& refs, const nlohmann::json& meta) {
            return refs.empty() ? 0.0 : std::max(0.0, fn(p, refs[0], meta));
          }};
}

}  // namespace

std::vector<ScorerEntry> lveval_scorers() {
  std::vector<ScorerEntry> out;
  out.push_back(first_reference("lveval_qa_f1_gold", [](const std::string& p, const std::string& r, const nlohmann::json& m) {
    return qa_f1_gold(p, r, gold_keywords(m));
  }));
  out.push_back(first_reference("lveval_qa_f1_zh_gold", [](const std::string& p, const std::string& r, const nlohmann::json& m) {
    return qa_f1_zh_gold(p, r, gold_keywords(m));
  }));
  out.push_back(first_reference("lveval_qa_f1", [](const std::string& p, const std::string& r, const nlohmann::json&) {
    return text::squad_f1(p, r);
  }));
  out.push_back(first_reference("lveval_qa_f1_zh", [](const std::string& p, const std::string& r, const nlohmann::json&) {
    return text::token_f1(zh_tokens(p), zh_tokens(r));
  }));
  out.push_back(first_reference("lveval_rouge_zh_blacklist", [](const std::string& p, const std::string& r, const nlohmann::json&) {
    return rouge_zh_blacklist(p, r);
  }));
  return out;
}

}  // namespace loom::metrics
