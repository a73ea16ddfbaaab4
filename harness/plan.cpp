#include "harness/plan.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/sha256.h"
#include "common/text.h"
#include "pricing/cost.h"
#include "providers/registry.h"
#include "results/store.h"

namespace reckon {

void check_ready_to_send(const Campaign& c, const RunOptions& opts) {
  // A key that is not set is a mistake in the setup, named before the store is touched or anything is sent.
  std::vector<const ModelRef*> refs;
  for (const auto& m : c.models)
    for (const ModelRef* r : m.refs()) refs.push_back(r);
  if (c.judge) refs.push_back(&*c.judge);
  for (const ModelRef* ref : refs) {
    const ProviderInfo* info = find_provider(ref->provider);
    if (auto unsafe = info ? key_policy_violation(*info, ref->params, opts.keys) : std::nullopt)
      throw InputError(c.source + ": " + ref->name() + ": " + *unsafe + "; nothing was sent or written");
    if (auto missing = info ? missing_api_key(*info, ref->params) : std::nullopt)
      throw InputError(c.source + ": environment variable " + *missing + " is not set (needed for " + ref->name() +
                       "); nothing was sent or written");
  }
  // A scorer that cannot work here (code without its sandbox) refuses before anything is paid for.
  for (const auto& t : c.tasks) {
    const ScorerInfo* s = find_scorer(t.scorer);
    std::string why;
    if (s && s->ready && !s->ready(&why))
      throw InputError(c.source + ": task '" + t.name + "' is scored by " + t.scorer + ", which cannot run here: " + why +
                       "; nothing was sent or written");
  }
}

std::vector<Message> variant_messages(const Item& item, const PromptVariant& v, const std::string& where) {
  std::map<std::string, std::string> fields = item.fields;
  for (const auto& [k, x] : item.extra.items())
    if (x.is_string()) fields.emplace(k, x.get<std::string>());
  fields["prompt"] = item.messages.back().content;
  std::vector<Message> out;
  if (v.system) out.push_back({"system", render_template(*v.system, fields, where + " (system)")});
  for (size_t i = 0; i + 1 < item.messages.size(); ++i)
    if (item.messages[i].role != "system" || !v.system) out.push_back(item.messages[i]);
  out.push_back({item.messages.back().role, render_template(v.user, fields, where + " (user)")});
  return out;
}

std::vector<size_t> select_items(size_t n, const Selection& s) {
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  size_t want = n;
  if (s.limit) want = std::min(n, *s.limit);
  if (s.fraction) want = std::min(want, static_cast<size_t>(std::ceil(*s.fraction * static_cast<double>(n))));
  if (want == n) return idx;
  if (!s.first) {
    std::mt19937_64 rng(s.seed);
    std::shuffle(idx.begin(), idx.end(), rng);
    idx.resize(want);
    std::sort(idx.begin(), idx.end());
  } else {
    idx.resize(want);
  }
  return idx;
}

double estimate_cost(const ChatRequest& r, const PriceEntry* e, double expected_output) {
  if (!e) return 0;
  double chars = 0;
  for (const auto& m : r.messages) chars += static_cast<double>(m.content.size());
  Usage u;
  u.input_tokens = static_cast<int64_t>(chars / 4.0) + 8;  // ~4 characters per token
  u.output_tokens = static_cast<int64_t>(expected_output);
  u.service_tier = r.model.params.service_tier;
  try {
    return cost(u, *e).total_usd.value_or(0);
  } catch (const InputError&) {
    return paper_cost(u, *e);
  }
}

CampaignPlan::CampaignPlan(const Campaign& c, const RunOptions& opts, std::string run_id, const std::string& db_path,
                           const ItemsPerModel* only)
    : c_(c), opts_(opts), run_id_(std::move(run_id)), only_(only), price_sources_{db_path, c.price_files} {
  choose_items(db_path);
  price_sources_.files.insert(price_sources_.files.end(), opts.catalogs.begin(), opts.catalogs.end());
  catalog_ = load_prices(price_sources_);
  resolve_models(db_path);
  judge_price_ = c.judge ? price_of(*c.judge, "judge") : nullptr;
}

// Which items run, per task (a stored selection, then the campaign's sample), from one streamed
// pass that also checks every row before anything is sent. The items themselves are read again
// as the run reaches them: a campaign holds the items in flight, not its tasks.
void CampaignPlan::choose_items(const std::string& db_path) {
  std::map<std::string, std::set<std::string>> stored;  // a stored selection (e.g. a selector's): items per task
  if (!c_.selection.stored.empty()) {
    if (!std::ifstream(db_path).good()) throw InputError(db_path + ": no database holding selection '" + c_.selection.stored + "'");
    Store s(db_path, Store::Mode::kReadOnly);
    auto q = s.db().prepare("SELECT sel.task, si.item_id FROM selections sel JOIN selection_items si ON si.selection_id = sel.id WHERE sel.id = ?");
    q.bind(1, c_.selection.stored);
    while (q.step()) stored[q.text(0)].insert(q.text(1));
    if (stored.empty()) throw InputError(db_path + ": no stored selection '" + c_.selection.stored + "' (field 'selection.stored')");
  }
  chosen_.resize(c_.tasks.size());
  for (size_t t = 0; t < c_.tasks.size(); ++t) {
    ItemStream& stream = *streams_.emplace_back(std::make_unique<ItemStream>(c_.tasks[t], opts_.data));
    std::vector<size_t> eligible;  // row numbers the stored selection (or a model's round) keeps
    std::vector<size_t> asking(c_.models.size(), 0);  // with `only`: how many of the task's items each model is asked
    for (size_t row = 0; auto it = stream.next(); ++row) {
      bool wanted = stored.empty() || stored[c_.tasks[t].name].count(it->id);
      if (only_) {
        wanted = false;
        for (size_t m = 0; m < c_.models.size(); ++m)
          if ((*only_)[t][m].count(it->id)) wanted = true, ++asking[m];
      }
      if (wanted) eligible.push_back(row);
    }
    chosen_[t].assign(eligible.empty() ? 0 : eligible.back() + 1, false);
    const auto picked = only_ ? select_items(eligible.size(), Selection{}) : select_items(eligible.size(), c_.selection);
    for (size_t i : picked) chosen_[t][eligible[i]] = true;
    for (size_t m = 0; m < c_.models.size(); ++m)
      expected_cells_ += (only_ ? asking[m] : picked.size()) * static_cast<size_t>(std::max(0, c_.models[m].repeats));
    stream.rewind();
    // Every prompt variant must fit every item it will ask, before anything is sent.
    if (c_.prompts.empty()) continue;
    for (size_t row = 0; auto it = stream.next(); ++row)
      if (row < chosen_[t].size() && chosen_[t][row])
        for (const auto& v : c_.prompts)
          variant_messages(*it, v, c_.source + ": prompts." + v.name + " (task '" + c_.tasks[t].name + "', item " + it->id + ")");
    stream.rewind();
  }
}

const PriceEntry* CampaignPlan::price_of(const ModelRef& ref, const std::string& at, bool batch) const {
  const auto found = catalog_.lookup(ref.name(), today_utc());
  if (!found.entry && !c_.allow_unpriced)
    throw InputError(c_.source + ": " + at + ": " + unpriced_advice(ref.name(), today_utc(), found, price_sources_, true));
  // A batch answer is priced at the batch rates: a model without them is refused before anything is sent.
  if (batch && found.entry && !found.entry->service.count(ServiceTier::kBatch))
    throw InputError(c_.source + ": " + at + ": " + ref.name() + " is sent in batches, but its price entry " + found.entry->id() +
                     " has no batch rates (import them with `reckon price import`, e.g. LiteLLM's *_batches keys, or run it live); "
                     "nothing was sent or written");
  return found.entry;
}

// Each model's price; a routed model's router, and the model, pipeline and price behind each candidate.
void CampaignPlan::resolve_models(const std::string& db_path) {
  routing_.resize(c_.models.size());
  for (size_t m = 0; m < c_.models.size(); ++m) {
    const CampaignModel& model = c_.models[m];
    const std::string at = "models[" + std::to_string(m) + "]";
    auto& [router, targets, target_pipelines, target_prices] = routing_[m];
    if (model.router.empty()) {
      prices_.push_back(price_of(model.ref, at, sends_in_batches(c_, opts_, m)));
      used_prices_.insert(prices_[m]);
      continue;
    }
    if (!std::ifstream(db_path).good()) throw InputError(db_path + ": no database holding router '" + model.router + "'");
    Store s(db_path, Store::Mode::kReadOnly);
    router = load_saved_router(s, model.router);
    for (const auto& name : router->candidates()) {
      auto mapped = model.candidates.find(name);
      ModelRef ref;
      std::string pipeline;
      // A candidate may be a pipeline as campaigns store it: pipeline:NAME@provider:model.
      if (starts_with(name, "pipeline:") && name.find('@') != std::string::npos && mapped == model.candidates.end()) {
        pipeline = name.substr(9, name.find('@') - 9);
        if (!c_.pipeline(pipeline))
          throw InputError(c_.source + ": " + at + ": router '" + model.router + "' chooses unknown pipeline '" + pipeline + "'");
        ref = parse_model_ref(name.substr(name.find('@') + 1));
        ref.params = model.ref.params;
      } else if (mapped != model.candidates.end()) {
        ref = mapped->second;
      } else {
        try {
          ref = parse_model_ref(name);
        } catch (const InputError&) {
          throw InputError(c_.source + ": " + at + ": router '" + model.router + "' chooses among '" + name +
                           "', which is not provider:model: map it with \"candidates\": {\"" + name + "\": \"provider:model\"}");
        }
        ref.params = model.ref.params;
      }
      target_prices.push_back(price_of(ref, at + " (candidate " + name + ")", sends_in_batches(c_, opts_, m)));
      used_prices_.insert(target_prices.back());
      routed_refs_.push_back(ref);
      targets.push_back(&routed_refs_.back());
      target_pipelines.push_back(pipeline);
    }
    prices_.push_back(nullptr);
  }
  used_prices_.erase(nullptr);
}

// One cell: its request key, routing decision and fingerprint; nullptr when another shard's.
std::unique_ptr<Cell> CampaignPlan::plan_cell(size_t m, size_t t, const std::shared_ptr<const Item>& item, int r) const {
  auto cell = std::make_unique<Cell>(Cell{m, t, item, r, &c_.models[m].ref, "", "", prices_[m], std::nullopt, c_.models[m].pipeline});
  std::string routed;
  if (const auto& rt = routing_[m]; rt.router) {
    const std::string& text = item->messages.back().content;
    const auto k = static_cast<size_t>(rt.router->router->choose(text));
    cell->model_ref = rt.targets[k];
    cell->price = rt.target_prices[k];
    cell->pipeline = rt.target_pipelines[k];
    nlohmann::json decision = {{"router", c_.models[m].router}, {"candidate", rt.router->candidates()[k]}};
    if (rt.targets.size() == 2) decision["escalation"] = rt.router->router->escalation(text);
    cell->route = decision.dump();
    routed = c_.models[m].name() + "\n";  // the same request asked directly is another cell
  }
  if (!cell->pipeline.empty()) routed = c_.models[m].name() + "\n";  // its calls are cached one by one
  if (const auto& v = c_.models[m].prompt) {
    cell->variant = variant_messages(*item, *v, c_.source + ": prompts." + v->name);
    routed = c_.models[m].name() + "\n";  // two variants may render alike: each is its own cell
  }
  cell->request_key = sha256_hex(canonical_request_text(*cell->model_ref, cell->messages()) + "\n" + std::to_string(r) +
                                 (cell->pipeline.empty() ? "" : "\n" + cell->pipeline));
  // The shard is decided by the request alone, so every shard agrees without talking.
  if (opts_.shard_count > 1 &&
      std::stoull(cell->request_key.substr(0, 12), nullptr, 16) % static_cast<uint64_t>(opts_.shard_count) !=
          static_cast<uint64_t>(opts_.shard_index))
    return nullptr;
  cell->fingerprint = sha256_hex(run_id_ + "\n" + routed + cell->request_key);
  return cell;
}

std::unique_ptr<Cell> CampaignPlan::next() {
  for (;;) {
    if (!cur_.item) {
      if (cur_.task == c_.tasks.size()) return nullptr;
      auto it = streams_[cur_.task]->next();
      if (!it) {
        streams_[cur_.task].reset();  // a built-in task's items are let go
        ++cur_.task, cur_.row = 0;
        continue;
      }
      const size_t row = cur_.row++;
      if (row >= chosen_[cur_.task].size() || !chosen_[cur_.task][row]) continue;
      cur_.item = std::make_shared<const Item>(std::move(*it));
      if (on_item) on_item(cur_.task, *cur_.item);
      cur_.model = 0, cur_.repeat = 0;
    }
    if (cur_.model == c_.models.size()) {
      cur_.item.reset();
      continue;
    }
    const size_t m = cur_.model;
    const int r = cur_.repeat;
    if (++cur_.repeat >= c_.models[m].repeats) cur_.repeat = 0, ++cur_.model;
    if (r >= c_.models[m].repeats) continue;  // a model asked for no repeats
    if (only_ && !(*only_)[cur_.task][m].count(cur_.item->id)) continue;  // not in this model's round
    if (auto cell = plan_cell(m, cur_.task, cur_.item, r)) return cell;
  }
}

void CampaignPlan::rewind() {
  for (size_t t = 0; t < c_.tasks.size(); ++t) streams_[t] = std::make_unique<ItemStream>(c_.tasks[t], opts_.data);
  cur_ = Cursor{};
}

}  // namespace reckon
