#!/bin/sh
# Debian 12 / Ubuntu 22.04+ packages loom_mpi needs to build and test (run as root, or with sudo).
# Helpers append their own apt-get lines below the base line; keep one line per purpose.
set -e
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# Base: compiler, build tools, MPI, libtorch (CPU), HDF5, YAML, logging, serialization, CLI, JSON, tests, text.
$SUDO apt-get install -y --no-install-recommends build-essential cmake ninja-build pkg-config git python3 \
  openmpi-bin libopenmpi-dev libtorch-dev libhdf5-dev hdf5-tools libyaml-cpp-dev libspdlog-dev libfmt-dev \
  libboost-serialization-dev libcli11-dev nlohmann-json3-dev libgtest-dev libpcre2-dev libutf8proc-dev \
  libsentencepiece-dev wamerican
# Speed: libtorch's GEMMs go through libblas.so.3; Debian's default is the reference BLAS (about 7x slower
# prefill here). OpenBLAS registers itself as the preferred alternative.
$SUDO apt-get install -y --no-install-recommends libopenblas0-pthread
# Metrics: jieba's dictionary for Chinese scorers.
$SUDO apt-get install -y --no-install-recommends python3-jieba
# Metrics: Princeton WordNet 3.0 database (/usr/share/wordnet) for LooGLE's METEOR synonym stage.
$SUDO apt-get install -y --no-install-recommends wordnet-base
# Run identity: SHA-256 fingerprints of each row's inputs (OpenSSL's libcrypto).
$SUDO apt-get install -y --no-install-recommends libssl-dev
# Tests: the README's h5py + pandas snippet is run against real results files.
$SUDO apt-get install -y --no-install-recommends python3-h5py python3-pandas
# API backend and `loom_mpi serve`: libcurl (HTTP client, multi interface) and cpp-httplib (HTTP server, test servers).
$SUDO apt-get install -y --no-install-recommends libcurl4-openssl-dev libcpp-httplib-dev
# Tests: the HTML report is rendered in headless Chromium (report_html_browser_test; skipped without it).
$SUDO apt-get install -y --no-install-recommends chromium || $SUDO apt-get install -y chromium-browser
