#pragma once
// The campaign's plan: tasks × items × models × repeats → cells, each with its request key and
// fingerprint; stored selections, samples, routers and shards decided here. Everything a run
// needs to know before it writes or sends anything is resolved (and checked) when the plan is
// built; the cells themselves are made one at a time as the run reaches them.
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness/campaign.h"
#include "pricing/catalog.h"
#include "routers/saved.h"
#include "results/prices.h"
#include "tasks/task.h"

namespace reckon {

struct Cell {
  size_t model = 0, task = 0;
  std::shared_ptr<const Item> item;  // shared by the item's cells; freed when the last one is done
  int64_t repeat = 0;
  const ModelRef* model_ref = nullptr;  // who answers (a routed cell's chosen candidate); the messages are the item's
  std::string request_key, fingerprint;
  const PriceEntry* price = nullptr;  // of the model that answers (a routed cell's chosen candidate)
  std::optional<std::string> route;   // a routed cell's decision
  std::string pipeline;               // the pipeline that answers, if any (the model's, or a routed choice)
  size_t block = 0;                   // its block of the plan (claimed as a whole; see claims.h)
  std::vector<Message> variant;       // a prompt variant's messages; empty: the item's own
  // The messages it asks, and the request it sends (built when needed rather than held).
  const std::vector<Message>& messages() const { return variant.empty() ? item->messages : variant; }
  ChatRequest request() const { return ChatRequest{*model_ref, messages()}; }
};

// What must hold before a run writes or sends anything: every key it needs is set and may go where
// it goes, every scorer can work here. InputError otherwise, naming the campaign file.
void check_ready_to_send(const Campaign& c, const RunOptions& opts);

// An item's messages asked through a prompt variant: the task's system message and last user message
// replaced by the variant's, rendered from {prompt} (the task's own prompt), the item's row and its
// text fields. InputError naming `where` for a field the item does not have.
std::vector<Message> variant_messages(const Item& item, const PromptVariant& v, const std::string& where);

// Which of n items a campaign's selection keeps (row numbers, ascending).
std::vector<size_t> select_items(size_t n, const Selection& s);

// Per task, per campaign model: the item ids that model is asked (an adaptive round); the plan then
// takes only those cells.
using ItemsPerModel = std::vector<std::vector<std::set<std::string>>>;

class CampaignPlan {
 public:
  // Reads the tasks once (every row checked), the stored selection, prices and routers from
  // `db_path`; InputError for anything missing or unpriced. With `only`, each model is asked the
  // items it names and no others.
  CampaignPlan(const Campaign& c, const RunOptions& opts, std::string run_id, const std::string& db_path,
               const ItemsPerModel* only = nullptr);
  CampaignPlan(const CampaignPlan&) = delete;
  CampaignPlan& operator=(const CampaignPlan&) = delete;

  // The next cell of this shard in plan order (task by task, item by item, each item's models and
  // repeats); nullptr at the end.
  std::unique_ptr<Cell> next();
  // Walks the plan again from its start (the items are read again).
  void rewind();
  // Called with each item as the walk reaches it, before its first cell.
  std::function<void(size_t task, const Item&)> on_item;

  // Cells over every shard (an upper bound of this shard's).
  size_t expected_cells() const { return expected_cells_; }
  // Every price entry a cell may be priced by (stored with the run); the judge's apart.
  const std::set<const PriceEntry*>& used_prices() const { return used_prices_; }
  const PriceEntry* judge_price() const { return judge_price_; }

 private:
  struct Routing {  // a routed model: its router, and the model, pipeline and price behind each candidate
    std::optional<SavedRouter> router;
    std::vector<const ModelRef*> targets;
    std::vector<std::string> target_pipelines;
    std::vector<const PriceEntry*> target_prices;
  };
  void choose_items(const std::string& db_path);
  void resolve_models(const std::string& db_path);
  const PriceEntry* price_of(const ModelRef& ref, const std::string& at, bool batch = false) const;
  std::unique_ptr<Cell> plan_cell(size_t m, size_t t, const std::shared_ptr<const Item>& item, int r) const;

  const Campaign& c_;
  const RunOptions& opts_;
  std::string run_id_;
  const ItemsPerModel* only_;
  std::vector<std::vector<bool>> chosen_;  // per task, per row: does the run take it
  std::vector<std::unique_ptr<ItemStream>> streams_;
  size_t expected_cells_ = 0;
  PriceSources price_sources_;
  PriceCatalog catalog_;
  std::vector<const PriceEntry*> prices_;  // per campaign model (nullptr for a routed one)
  std::deque<ModelRef> routed_refs_;       // the models behind routers' candidates, for cells to point at
  std::vector<Routing> routing_;
  std::set<const PriceEntry*> used_prices_;
  const PriceEntry* judge_price_ = nullptr;
  struct Cursor {
    size_t task = 0, row = 0, model = 0;
    int repeat = 0;
    std::shared_ptr<const Item> item;
  } cur_;
};

// Whether campaign model `m` is sent through its provider's batch API ("batch" in the file, or --batch).
inline bool sends_in_batches(const Campaign& c, const RunOptions& o, size_t m) { return o.batch || c.models[m].batch; }

// A rough cost of one request: ~4 characters per input token, `expected_output` tokens out.
double estimate_cost(const ChatRequest& r, const PriceEntry* e, double expected_output);

}  // namespace reckon
