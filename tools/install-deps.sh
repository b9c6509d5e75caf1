#!/bin/sh
# Debian packages loom_mpi needs beyond the base image (one apt-get line per helper; append only).
set -e
apt-get install -y python3-jieba
