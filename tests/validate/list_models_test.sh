#!/usr/bin/env bash
# list_models_test.sh LOOM_MPI SOURCE_DIR WORK_DIR: `loom_mpi list models` reads each model card: a loadable model
# shows its architecture class (and sliding window), a refused one says why (the key and what was expected), and
# the listing goes on.
set -euo pipefail
loom_mpi=$1 source=$2 work=$3
rm -rf "$work"
mkdir -p "$work/models/tiny" "$work/models/gpt2" "$work/models/swa"
ln -s "$source/configs" "$work/configs"
cp "$source/models/tiny-loom/config.json" "$work/models/tiny/"
cp "$source/tests/validate/models/gpt2_config/config.json" "$work/models/gpt2/"
cp "$source/tests/fixtures/models/qwen2_sliding/config.json" "$work/models/swa/"
output=$(LOOM_CONFIG_DIR="$work/configs" "$loom_mpi" list models)
echo "$output"
echo "$output" | grep -Eq "^models/tiny +LlamaForCausalLM +no tokenizer$" || { echo "tiny: no LlamaForCausalLM line"; exit 1; }
echo "$output" | grep -Eq "^models/gpt2 +\? +no tokenizer \(not loadable: 'model_type' unsupported architecture 'gpt2'" ||
  { echo "gpt2: no refusal with its reason"; exit 1; }
echo "$output" | grep -Eq "^models/swa +Qwen2ForCausalLM +no tokenizer, sliding window 5 on 1/2 layers$" ||
  { echo "swa: no sliding-window line"; exit 1; }
echo "listed as expected"
