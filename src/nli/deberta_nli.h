// L-CiteEval's NLI model run locally (judge.nli.model naming a directory, docs/judge.md): upstream calls a
// transformers text-classification pipeline of tasksource/deberta-base-long-nli with
// {text: premise, text_pair: hypothesis}, one pair at a time, no truncation, and counts the pair entailed iff the
// arg-max label is "entailment" (script/eval_citation.py _run_nli_autoais). Here the same: the pair encoded as
// DeBERTa-v3's tokenizer does, "[CLS] premise [SEP] hypothesis [SEP]" with token type ids 0 up to the first [SEP]
// and 1 after, the ids of each text from the directory's spm.model through libsentencepiece (text/
// sentencepiece_tokenizer.h; transformers' DebertaV2Tokenizer takes its pieces from the same model) with the added
// tokens named in the text cut out first as the tokenizers library does (encode_text), the classifier
// of deberta_v2.h, and the label of the largest logit (the first on a tie, as numpy's argmax).
// Requires <dir>/spm.model, config.json with an id2label naming "entailment", and the weights; tokenizer_config.json
// when present may name cls_token / sep_token and must not set do_lower_case or split_by_punct (DeBERTa-v3 sets
// neither). Errors are InputError naming the file and key.
#pragma once

#include "metrics/judge/nli_classifier.h"
#include "nli/deberta_v2.h"
#include "text/tokenizer.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace loom::nli {

struct PairEncoding {
  std::vector<int32_t> ids, token_types;
};

class DebertaNli final : public metrics::judge::NliClassifier {
 public:
  // `device`: cpu, cuda or cuda:N (InputError, key judge.nli.device, for anything else or an unreachable device).
  DebertaNli(const std::filesystem::path& model_dir, const std::string& device);

  // One text's ids without special tokens around it: the added tokens of tokenizer_config.json's
  // added_tokens_decoder that match on the raw text (normalized false: [PAD], [CLS], [SEP], [MASK] in DeBERTa-v3)
  // are cut out of the text as transformers' tokenizers do, each piece between them encoded by spm.model (its
  // lstrip / rstrip flags strip the whitespace beside it). A normalized added token ([UNK]) is not cut out.
  std::vector<int32_t> encode_text(const std::string& text) const;
  PairEncoding encode(const std::string& premise, const std::string& hypothesis) const;
  std::vector<float> logits(const std::string& premise, const std::string& hypothesis) const;
  std::string label(const std::string& premise, const std::string& hypothesis) override;

  const DebertaV2Classifier& classifier() const { return *classifier_; }

 private:
  struct AddedToken {
    std::string content;
    int32_t id = 0;
    bool lstrip = false, rstrip = false;
  };
  std::unique_ptr<text::Tokenizer> tokenizer_;
  std::vector<AddedToken> added_;  // cut out of the text, longest first
  std::unique_ptr<DebertaV2Classifier> classifier_;
  int32_t cls_id_ = 0, sep_id_ = 0;
};

// Installs DebertaNli as the local classifier of the NLI pass (metrics/judge/nli_classifier.h).
void install_deberta_nli();

}  // namespace loom::nli
