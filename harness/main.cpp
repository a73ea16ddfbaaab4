#include "harness/commands.h"

int main(int argc, char** argv) { return reckon::run_cli(argc, argv); }
