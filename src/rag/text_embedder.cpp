#include "rag/text_embedder.h"

#include "common/error.h"

#include <mutex>

namespace loom::rag {
namespace {

std::mutex& factory_mutex() {
  static std::mutex mutex;
  return mutex;
}

LocalEmbedderFactory& factory() {
  static LocalEmbedderFactory instance;
  return instance;
}

}  // namespace

void set_local_embedder_factory(LocalEmbedderFactory f) {
  const std::lock_guard<std::mutex> lock(factory_mutex());
  factory() = std::move(f);
}

std::unique_ptr<TextEmbedder> make_local_embedder(const RagConfig& config) {
  LocalEmbedderFactory f;
  {
    const std::lock_guard<std::mutex> lock(factory_mutex());
    f = factory();
  }
  if (!f)
    throw Error("rag.method " + config.method +
                " needs the local encoder (loom_rag_encoder), which this program does not install");
  return f(config);
}

}  // namespace loom::rag
