// A local NLI classifier for the NLI pass (judge.nli.model naming a model directory, docs/judge.md): upstream
// L-CiteEval's own rule, a sequence classifier (tasksource/deberta-base-long-nli) whose arg-max label for
// (premise, hypothesis) is entailed iff it is "entailment". loom_judge is torch-free, so the classifier (loom_nli's
// DeBERTa-v2, nli/deberta_nli.h) comes through a factory that the program installs (loom_mpi's main, the tests that
// need it); without one, a local NLI model is refused with the reason.
#pragma once

#include "metrics/judge/judge_config.h"

#include <functional>
#include <memory>
#include <string>

namespace loom::metrics::judge {

class NliClassifier {
 public:
  virtual ~NliClassifier() = default;
  // The predicted label of one pair, as the model's config names it (id2label). Throws loom::Error with the reason
  // when this pair cannot be classified (the pass stores a `failed` verdict with it).
  virtual std::string label(const std::string& premise, const std::string& hypothesis) = 0;
};

using LocalNliFactory = std::function<std::unique_ptr<NliClassifier>(const NliConfig&)>;

// Installs the factory of the local classifier (replacing any earlier one).
void set_local_nli_factory(LocalNliFactory factory);
// The classifier of config.model_dir on config.device; throws loom::Error when no factory is installed, and the
// factory's InputError for a model directory it cannot load.
std::unique_ptr<NliClassifier> make_local_nli(const NliConfig& config);

}  // namespace loom::metrics::judge
