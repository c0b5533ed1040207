// rinha-report: reads a run's JSON files and writes one self-contained HTML page with its charts.
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "contest/report/report.h"
#include "contest/report/run_data.h"

ABSL_FLAG(std::string, run, "", "run.json written by rinha-load (required)");
ABSL_FLAG(std::string, results, "", "final-results.json written by rinha-load (required)");
ABSL_FLAG(std::string, resources, "", "resources.json written by the runner (optional)");
ABSL_FLAG(std::string, probe, "", "probe.json written by stall-probe (optional)");
ABSL_FLAG(std::string, out, "", "the HTML file to write (required)");

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "rinha-report: %s\n", std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "rinha-report --run=DIR/run.json --results=DIR/final-results.json "
      "[--resources=DIR/resources.json] [--probe=DIR/probe.json] --out=DIR/report.html");
  absl::ParseCommandLine(argc, argv);
  const std::string run_path = absl::GetFlag(FLAGS_run);
  const std::string results_path = absl::GetFlag(FLAGS_results);
  const std::string resources_path = absl::GetFlag(FLAGS_resources);
  const std::string probe_path = absl::GetFlag(FLAGS_probe);
  const std::string out_path = absl::GetFlag(FLAGS_out);
  if (run_path.empty() || results_path.empty() || out_path.empty()) {
    std::fprintf(stderr, "rinha-report: --run, --results and --out are required\n");
    return 2;
  }

  using rinha::report::Json;
  rinha::report::ReportInput input;
  absl::StatusOr<Json> run_json = rinha::report::ReadJsonFile(run_path);
  if (!run_json.ok()) return Fail(run_json.status());
  absl::StatusOr<rinha::report::RunData> run = rinha::report::RunDataFromJson(*run_json);
  if (!run.ok())
    return Fail(absl::InvalidArgumentError(run_path + ": " + std::string(run.status().message())));
  input.run = *std::move(run);

  absl::StatusOr<Json> results_json = rinha::report::ReadJsonFile(results_path);
  if (!results_json.ok()) return Fail(results_json.status());
  absl::StatusOr<rinha::report::Results> results = rinha::report::ResultsFromJson(*results_json);
  if (!results.ok()) {
    return Fail(
        absl::InvalidArgumentError(results_path + ": " + std::string(results.status().message())));
  }
  input.results = *std::move(results);

  if (!resources_path.empty()) {
    absl::StatusOr<Json> resources_json = rinha::report::ReadJsonFile(resources_path);
    if (!resources_json.ok()) return Fail(resources_json.status());
    auto resources = rinha::report::ResourcesFromJson(*resources_json);
    if (!resources.ok()) {
      return Fail(absl::InvalidArgumentError(resources_path + ": " +
                                             std::string(resources.status().message())));
    }
    input.resources = *std::move(resources);
  }

  if (!probe_path.empty()) {
    absl::StatusOr<Json> probe_json = rinha::report::ReadJsonFile(probe_path);
    if (!probe_json.ok()) return Fail(probe_json.status());
    auto probe = rinha::report::ProbeFromJson(*probe_json);
    if (probe.ok()) probe = rinha::report::PlaceProbeOnRun(*std::move(probe), input.run);
    if (!probe.ok()) {
      return Fail(
          absl::InvalidArgumentError(probe_path + ": " + std::string(probe.status().message())));
    }
    input.probe = *std::move(probe);
  }

  const std::string html = rinha::report::RenderReport(input);
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << html;
  out.close();
  if (!out) return Fail(absl::UnavailableError("cannot write " + out_path));
  std::printf("rinha-report wrote %s (%zu bytes)\n", out_path.c_str(), html.size());
  return 0;
}
