// Judge verdicts of a results file (docs/judge.md): one per (sample_key, judged metric, judge model), with the
// judge's raw answer. Stored in the HDF5 file as /judge/<metric> (compound tables like /samples) and, until the
// next metrics pass folds them in, in the verdict journal <file>.judge.journal: one JSON object per line, each
// appended with one write(2) and fdatasync, so a verdict is durable when append returns and a killed judge run
// loses none it had; a torn last line is ignored when read. Only the holder of the results file's WriterLock
// appends. Checkpoints of the results file keep /judge (results_file.cpp), so a resumed run does not drop it.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace loom::results {

struct Verdict {
  std::string sample_key;
  std::string metric;        // a judged metric (metrics/judged/judged_metrics.h)
  std::string judge_model;   // the judge's model name as configured
  // ok: an answer upstream's parser accepted; unparsed: answers it rejected, upstream's tries used up (not asked
  // again); failed: no answer (transport error, timeout, HTTP error): asked again by the next judge run.
  std::string status;
  std::string request_hash;  // judged::request_hash of what was asked: a verdict counts only for the same request
  std::string response;      // the judge's raw answer (the last one), "" when failed
  std::string error;         // why it is not ok
  double score = 0;          // 0–100 per upstream's rule when ok (NaN otherwise); the pass re-parses `response`
  int64_t tries = 0;         // answers or requests used
  double finished_unix = 0;

  std::tuple<std::string, std::string, std::string> key() const { return {sample_key, metric, judge_model}; }
};

std::filesystem::path verdict_journal_path_for(const std::filesystem::path& results_path);

// Every verdict: the file's /judge tables, then the journal's lines on top (a later verdict for the same key
// replaces an earlier one). Missing file or journal: none from it. Throws loom::Error for an unreadable /judge.
std::vector<Verdict> read_verdicts(const std::filesystem::path& results_path);
// Keeps the last verdict per key, in key order.
std::vector<Verdict> latest_verdicts(const std::vector<Verdict>& verdicts);

class VerdictJournal {
 public:
  explicit VerdictJournal(std::filesystem::path journal_path);  // opens (creating) for appending
  ~VerdictJournal();
  VerdictJournal(const VerdictJournal&) = delete;
  VerdictJournal& operator=(const VerdictJournal&) = delete;
  void append(const Verdict& verdict);  // durable when it returns

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

// Writes /judge with one table per metric (the metrics pass passes the merged verdicts).
void write_verdict_groups(hid_t file, const std::vector<Verdict>& verdicts);

}  // namespace loom::results
