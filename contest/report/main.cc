// rinha-report: reads a run's JSON files and writes one self-contained HTML page with its charts,
// or with --tables prints the runner's end-of-run summary as text.
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "contest/report/report.h"
#include "contest/report/run_data.h"
#include "contest/report/text_tables.h"

ABSL_FLAG(std::string, run, "", "run.json written by rinha-load (required for the page)");
ABSL_FLAG(std::string, results, "",
          "final-results.json written by rinha-load (required for the page)");
ABSL_FLAG(std::string, resources, "", "resources.json written by cgroup-resources (optional)");
ABSL_FLAG(std::string, probe, "", "probe.json written by stall-probe (optional; needs --run)");
ABSL_FLAG(std::string, out, "", "the HTML file to write (required for the page)");
ABSL_FLAG(bool, tables, false,
          "instead of the page, print the score lines (--results), the router's undecided "
          "payments (--run), the resources table (--resources) and the machine's stall lines "
          "(--probe) to stdout");

namespace {

namespace report = rinha::report;

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "rinha-report: %s\n", std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "rinha-report --run=DIR/run.json --results=DIR/final-results.json "
      "[--resources=DIR/resources.json] [--probe=DIR/probe.json] --out=DIR/report.html\n"
      "rinha-report --tables [--results=...] [--resources=...] [--run=... --probe=...]");
  absl::ParseCommandLine(argc, argv);
  const std::string run_path = absl::GetFlag(FLAGS_run);
  const std::string results_path = absl::GetFlag(FLAGS_results);
  const std::string resources_path = absl::GetFlag(FLAGS_resources);
  const std::string probe_path = absl::GetFlag(FLAGS_probe);
  const std::string out_path = absl::GetFlag(FLAGS_out);
  const bool tables = absl::GetFlag(FLAGS_tables);
  if (tables ? !probe_path.empty() && run_path.empty()
             : run_path.empty() || results_path.empty() || out_path.empty()) {
    std::fprintf(stderr, tables ? "rinha-report: --probe needs --run\n"
                                : "rinha-report: --run, --results and --out are required\n");
    return 2;
  }

  report::ReportInput input;
  if (!run_path.empty()) {
    auto run = report::ReadFileAs(run_path, report::RunDataFromJson);
    if (!run.ok()) return Fail(run.status());
    input.run = *std::move(run);
  }
  if (!results_path.empty()) {
    auto results = report::ReadFileAs(results_path, report::ResultsFromJson);
    if (!results.ok()) return Fail(results.status());
    input.results = *std::move(results);
  }
  if (!resources_path.empty()) {
    auto resources = report::ReadFileAs(resources_path, report::ResourcesFromJson);
    if (!resources.ok()) return Fail(resources.status());
    input.resources = *std::move(resources);
  }
  if (!probe_path.empty()) {
    auto probe = report::ReadFileAs(probe_path, report::ProbeFromJson);
    if (probe.ok()) probe = report::PlaceProbeOnRun(*std::move(probe), input.run);
    if (!probe.ok()) return Fail(probe.status());
    input.probe = *std::move(probe);
  }

  if (tables) {
    std::string text;
    if (!results_path.empty()) text += report::ScoreLines(input.results, input.run.summary);
    if (!run_path.empty()) text += report::UndecidedLines(input.run);
    if (!text.empty()) text += "\n";
    if (input.resources.has_value()) text += report::ResourcesLines(*input.resources);
    if (input.probe.has_value()) text += report::ProbeLines(*input.probe, input.run) + "\n";
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  const std::string html = report::RenderReport(input);
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out << html;
  out.close();
  if (!out) return Fail(absl::UnavailableError("cannot write " + out_path));
  std::printf("rinha-report wrote %s (%zu bytes)\n", out_path.c_str(), html.size());
  return 0;
}
