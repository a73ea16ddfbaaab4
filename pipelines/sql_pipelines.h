#pragma once
// The text-to-SQL pipelines' hooks: a query is usable when it runs on the item's database (the
// SQLite error is what a repair round sends back), and self-consistency votes on result rows.
#include <string>

#include "pipelines/pipeline.h"

namespace reckon {

PipelineHooks sql_hooks(const std::string& db_path);
// How many distinct tables a schema-linking answer names (`table.column` lines): a routing feature.
size_t linked_tables(const std::string& link_answer);

}  // namespace reckon
