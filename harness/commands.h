#pragma once
// The subcommand table: every verb of `reckon` is one row, defined in a cmd_*.cpp beside its peers.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace reckon {

// Registers the verb's options on `sub` and returns the action to run once parsing succeeded.
// The action returns an ExitCode; InputError thrown from it becomes exit 2 with its message.
using Action = std::function<int()>;
using DefineCommand = Action (*)(CLI::App& sub);

struct Command {
  const char* name;
  const char* help;
  DefineCommand define;
  const char* example;  // shown at the end of the verb's --help (the suite runs its flags against the CLI)
};

const std::vector<Command>& command_table();

// Runs the CLI: parses argv, dispatches to the chosen verb, maps errors to exit codes.
int run_cli(int argc, char** argv);

// Defined in cmd_*.cpp.
Action define_import(CLI::App& sub);
Action define_merge(CLI::App& sub);
Action define_summary(CLI::App& sub);
Action define_price(CLI::App& sub);
Action define_data(CLI::App& sub);
Action define_reversal(CLI::App& sub);
Action define_thinking(CLI::App& sub);
Action define_costs(CLI::App& sub);
Action define_providers(CLI::App& sub);
Action define_call(CLI::App& sub);
Action define_run(CLI::App& sub);
Action define_eval(CLI::App& sub);
Action define_tasks(CLI::App& sub);
Action define_gate(CLI::App& sub);
Action define_export(CLI::App& sub);
Action define_report(CLI::App& sub);
Action define_serve(CLI::App& sub);
Action define_select(CLI::App& sub);
Action define_estimate(CLI::App& sub);
Action define_route(CLI::App& sub);
Action define_sweep(CLI::App& sub);
Action define_scales(CLI::App& sub);
Action define_pipelines(CLI::App& sub);

}  // namespace reckon
