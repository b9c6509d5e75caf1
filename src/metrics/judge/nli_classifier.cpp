#include "metrics/judge/nli_classifier.h"

#include "common/error.h"

#include <mutex>

namespace loom::metrics::judge {
namespace {

std::mutex& factory_mutex() {
  static std::mutex m;
  return m;
}
LocalNliFactory& factory() {
  static LocalNliFactory f;
  return f;
}

}  // namespace

void set_local_nli_factory(LocalNliFactory f) {
  const std::lock_guard<std::mutex> lock(factory_mutex());
  factory() = std::move(f);
}

std::unique_ptr<NliClassifier> make_local_nli(const NliConfig& config) {
  LocalNliFactory f;
  {
    const std::lock_guard<std::mutex> lock(factory_mutex());
    f = factory();
  }
  if (!f)
    throw Error("judge.nli.model " + config.model_dir +
                " names a local NLI model, which needs the local classifier (loom_nli) this program does not install");
  return f(config);
}

}  // namespace loom::metrics::judge
