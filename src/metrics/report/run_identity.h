// The identity of a run as the HTML report shows it: job name, model, commit, date, machine, read from the results
// file's root attributes (results::JobAttributes: the job's YAML text, config.json, git commit, hosts, devices,
// extras such as world_size) and the rows' arrival times (the date is the last row's, UTC).
#pragma once

#include "results/result_row.h"
#include "results/result_store.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace loom::metrics::report {

struct RunIdentity {
  std::string file;        // the results file as given
  std::string job;         // the job's `name`
  std::string model;       // the job's model.path, and config.json's model_type in parentheses
  std::string commit;      // git commit of the loom_mpi that ran it
  std::string date;        // last row's arrival, "YYYY-MM-DD HH:MM UTC"
  std::string machine;     // hostnames, devices and world size
  std::string version;     // loom_mpi version
};

RunIdentity run_identity(const std::filesystem::path& results_file, const results::JobAttributes& attributes,
                         const std::vector<results::ResultRow>& rows);

nlohmann::json identity_to_json(const RunIdentity& identity);

}  // namespace loom::metrics::report
