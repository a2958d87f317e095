#include "quant/selection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace ptqat::quant {
namespace {

/// Rows in forward order, 10 parameters each unless given.
DiscrepancyTable table_of(const std::vector<double>& discrepancies,
                          const std::vector<int64_t>& parameters = {}) {
  DiscrepancyTable table;
  for (size_t i = 0; i < discrepancies.size(); ++i) {
    LayerDiscrepancy row;
    row.name = "layer" + std::to_string(i);
    row.forward_index = static_cast<int64_t>(i);
    row.parameters = parameters.empty() ? 10 : parameters[i];
    row.discrepancy = discrepancies[i];
    table.push_back(row);
  }
  return table;
}

SelectionOptions ptqat(double ratio, SelectionRule rule, FreezeBy by = FreezeBy::kLayers,
                       uint64_t seed = 0) {
  SelectionOptions options;
  options.method = QuantMethod::kPtqat;
  options.freeze_ratio = ratio;
  options.rule = rule;
  options.freeze_by = by;
  options.seed = seed;
  return options;
}

/// Forward indices of the frozen rows, ascending.
std::vector<int64_t> frozen_forward_indices(const DiscrepancyTable& table,
                                            const LayerSelection& selection) {
  std::vector<int64_t> indices;
  for (size_t row = 0; row < table.size(); ++row) {
    if (selection.frozen[row]) indices.push_back(table[row].forward_index);
  }
  std::sort(indices.begin(), indices.end());
  return indices;
}

TEST(Selection, SmallestRuleFreezesTheLargestDiscrepanciesRoundingHalfUp) {
  const DiscrepancyTable table = table_of({0.3, 0.1, 0.5, 0.2, 0.4});
  // floor(0.5 * 5 + 0.5) = 3 frozen: the three largest, 0.5, 0.4 and 0.3.
  const LayerSelection selection = select_layers(table, ptqat(0.5, SelectionRule::kSmallest));
  EXPECT_EQ(selection.frozen, (std::vector<bool>{true, false, true, false, true}));
  EXPECT_EQ(selection.frozen_layers, 3);
  EXPECT_EQ(selection.frozen_parameters, 30);
  EXPECT_EQ(selection.total_parameters, 50);
}

TEST(Selection, LargestRuleFreezesTheSmallestDiscrepancies) {
  const DiscrepancyTable table = table_of({0.3, 0.1, 0.5, 0.2, 0.4});
  const LayerSelection selection = select_layers(table, ptqat(0.5, SelectionRule::kLargest));
  EXPECT_EQ(selection.frozen, (std::vector<bool>{true, true, false, true, false}));
  EXPECT_EQ(selection.frozen_layers, 3);
}

TEST(Selection, LayerCountRoundsHalfUp) {
  const DiscrepancyTable four = table_of({4, 3, 2, 1});
  // 0.375 * 4 = 1.5 -> 2; 0.3 * 4 = 1.2 -> 1; 0.9 * 4 = 3.6 -> 4.
  EXPECT_EQ(select_layers(four, ptqat(0.375, SelectionRule::kSmallest)).frozen_layers, 2);
  EXPECT_EQ(select_layers(four, ptqat(0.3, SelectionRule::kSmallest)).frozen_layers, 1);
  EXPECT_EQ(select_layers(four, ptqat(0.9, SelectionRule::kSmallest)).frozen_layers, 4);
}

TEST(Selection, TiesAreBrokenByForwardIndexWhateverTheRowOrder) {
  DiscrepancyTable table = table_of({1, 1, 1, 1});
  const std::vector<int64_t> forward_indices = {3, 0, 2, 1};
  for (size_t row = 0; row < table.size(); ++row) table[row].forward_index = forward_indices[row];
  for (SelectionRule rule : {SelectionRule::kSmallest, SelectionRule::kLargest}) {
    const LayerSelection selection = select_layers(table, ptqat(0.5, rule));
    EXPECT_EQ(frozen_forward_indices(table, selection), (std::vector<int64_t>{0, 1}));
  }
}

TEST(Selection, RatioZeroFreezesNothingAndOneFreezesEverything) {
  const DiscrepancyTable table = table_of({0.3, 0.1, 0.5}, {5, 6, 7});
  for (SelectionRule rule :
       {SelectionRule::kSmallest, SelectionRule::kLargest, SelectionRule::kRandom}) {
    for (FreezeBy by : {FreezeBy::kLayers, FreezeBy::kParams}) {
      const LayerSelection none = select_layers(table, ptqat(0.0, rule, by, 3));
      EXPECT_EQ(none.frozen, (std::vector<bool>{false, false, false}));
      EXPECT_EQ(none.frozen_layers, 0);
      EXPECT_EQ(none.frozen_parameters, 0);
      const LayerSelection all = select_layers(table, ptqat(1.0, rule, by, 3));
      EXPECT_EQ(all.frozen, (std::vector<bool>{true, true, true}));
      EXPECT_EQ(all.frozen_layers, 3);
      EXPECT_EQ(all.frozen_parameters, 18);
      EXPECT_EQ(all.total_parameters, 18);
    }
  }
}

TEST(Selection, PtqFreezesAllAndQatNoneWhateverTheRatio) {
  const DiscrepancyTable table = table_of({0.3, 0.1, 0.5}, {5, 6, 7});
  SelectionOptions options = ptqat(0.2, SelectionRule::kSmallest);
  options.method = QuantMethod::kPtq;
  const LayerSelection ptq = select_layers(table, options);
  EXPECT_EQ(ptq.frozen, (std::vector<bool>{true, true, true}));
  EXPECT_EQ(ptq.frozen_layers, 3);
  EXPECT_EQ(ptq.frozen_parameters, 18);
  EXPECT_EQ(ptq.total_parameters, 18);
  options.method = QuantMethod::kQat;
  options.freeze_ratio = 0.8;
  const LayerSelection qat = select_layers(table, options);
  EXPECT_EQ(qat.frozen, (std::vector<bool>{false, false, false}));
  EXPECT_EQ(qat.frozen_layers, 0);
  EXPECT_EQ(qat.frozen_parameters, 0);
  EXPECT_EQ(qat.total_parameters, 18);
}

TEST(Selection, ParamsFreezesInRuleOrderUntilTheRatioIsReached) {
  // Smallest-rule order (descending discrepancy): rows 0, 1, 2, 3; total 200 parameters.
  const DiscrepancyTable table = table_of({0.4, 0.3, 0.2, 0.1}, {100, 10, 50, 40});
  auto frozen = [&](double ratio) {
    return select_layers(table, ptqat(ratio, SelectionRule::kSmallest, FreezeBy::kParams));
  };
  // Target 100: row 0 alone reaches it exactly.
  EXPECT_EQ(frozen(0.5).frozen, (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(frozen(0.5).frozen_parameters, 100);
  // Target 120: 100, 110 are below; row 2 crosses it (160) and is included; row 3 is not.
  EXPECT_EQ(frozen(0.6).frozen, (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(frozen(0.6).frozen_parameters, 160);
  EXPECT_EQ(frozen(0.6).frozen_layers, 3);
  EXPECT_EQ(frozen(0.6).total_parameters, 200);
  // Target 10: the first layer in rule order is frozen even though it is the largest.
  EXPECT_EQ(frozen(0.05).frozen, (std::vector<bool>{true, false, false, false}));
  // Largest rule: order 3, 2, 1, 0; target 100: 40, 90 below, row 1 crosses (100).
  const LayerSelection largest =
      select_layers(table, ptqat(0.5, SelectionRule::kLargest, FreezeBy::kParams));
  EXPECT_EQ(largest.frozen, (std::vector<bool>{false, true, true, true}));
  EXPECT_EQ(largest.frozen_parameters, 100);
}

TEST(Selection, Mt19937_64GivesThePublishedFirstOutput) {
  // The C++ standard fixes mt19937_64's sequence: default seed 5489, first output
  // 14514284786278117030 ([rand.predef] gives the 10000th, 9981545732273789042).
  std::mt19937_64 engine(5489);
  EXPECT_EQ(engine(), 14514284786278117030ULL);
  std::mt19937_64 tenth_thousand;
  tenth_thousand.discard(9999);
  EXPECT_EQ(tenth_thousand(), 9981545732273789042ULL);
}

TEST(Selection, RandomRuleIsTheHandComputedFisherYatesPermutation) {
  // mt19937_64(5489) draws 14514284786278117030, 4620546740167642908, 13109570281517897720,
  // 17462938647148434322 (first output published; the rest from the reference mt19937-64.c).
  // Fisher-Yates on [0, 1, 2, 3, 4], swapping position i with r % (i + 1) for i = 4..1:
  //   i=4: r % 5 = 0 -> [4, 1, 2, 3, 0]
  //   i=3: r % 4 = 0 -> [3, 1, 2, 4, 0]
  //   i=2: r % 3 = 2 -> [3, 1, 2, 4, 0]
  //   i=1: r % 2 = 0 -> [1, 3, 2, 4, 0]
  // floor(0.6 * 5 + 0.5) = 3 frozen: forward indices 1, 3, 2.
  const DiscrepancyTable table = table_of({0.5, 0.4, 0.3, 0.2, 0.1});
  const LayerSelection selection =
      select_layers(table, ptqat(0.6, SelectionRule::kRandom, FreezeBy::kLayers, 5489));
  EXPECT_EQ(selection.frozen, (std::vector<bool>{false, true, true, true, false}));
  // One more: forward index 4 is next in the permutation.
  EXPECT_EQ(
      select_layers(table, ptqat(0.8, SelectionRule::kRandom, FreezeBy::kLayers, 5489)).frozen,
      (std::vector<bool>{false, true, true, true, true}));
  // The permutation runs over forward indices: shuffling the rows does not change the layers.
  DiscrepancyTable shuffled = {table[3], table[0], table[4], table[2], table[1]};
  EXPECT_EQ(
      frozen_forward_indices(shuffled, select_layers(shuffled, ptqat(0.6, SelectionRule::kRandom,
                                                                     FreezeBy::kLayers, 5489))),
      (std::vector<int64_t>{1, 2, 3}));
}

TEST(Selection, RandomRuleIsDeterministicPerSeedAndDiffersAcrossSeeds) {
  std::vector<double> discrepancies(20);
  for (size_t i = 0; i < discrepancies.size(); ++i) discrepancies[i] = static_cast<double>(i);
  const DiscrepancyTable table = table_of(discrepancies);
  auto pick = [&](uint64_t seed) {
    return select_layers(table, ptqat(0.5, SelectionRule::kRandom, FreezeBy::kLayers, seed)).frozen;
  };
  EXPECT_EQ(pick(1), pick(1));
  EXPECT_EQ(pick(2), pick(2));
  EXPECT_NE(pick(1), pick(2));
  EXPECT_NE(pick(1), pick(3));
  // Neither the smallest nor the largest rule's choice.
  EXPECT_NE(pick(1), select_layers(table, ptqat(0.5, SelectionRule::kSmallest)).frozen);
  EXPECT_NE(pick(1), select_layers(table, ptqat(0.5, SelectionRule::kLargest)).frozen);
}

TEST(Selection, OptionsTakeTheFineTuneSeedWhenSelectSeedIsMinusOne) {
  QuantConfig config;
  config.method = QuantMethod::kQat;
  config.freeze_ratio = 0.25;
  config.rule = SelectionRule::kRandom;
  config.freeze_by = FreezeBy::kParams;
  config.seed = 42;
  const SelectionOptions from_seed = selection_options(config);
  EXPECT_EQ(from_seed.method, QuantMethod::kQat);
  EXPECT_DOUBLE_EQ(from_seed.freeze_ratio, 0.25);
  EXPECT_EQ(from_seed.rule, SelectionRule::kRandom);
  EXPECT_EQ(from_seed.freeze_by, FreezeBy::kParams);
  EXPECT_EQ(from_seed.seed, 42u);
  config.select_seed = 7;
  EXPECT_EQ(selection_options(config).seed, 7u);
  config.select_seed = 0;
  EXPECT_EQ(selection_options(config).seed, 0u);
}

TEST(Selection, RejectsRatioOutsideZeroOneAndEmptyPtqatTable) {
  const DiscrepancyTable table = table_of({1, 2});
  EXPECT_THROW(select_layers(table, ptqat(1.5, SelectionRule::kSmallest)), ConfigError);
  EXPECT_THROW(select_layers(table, ptqat(-0.1, SelectionRule::kSmallest)), ConfigError);
  EXPECT_THROW(select_layers({}, ptqat(0.5, SelectionRule::kSmallest)), Error);
  SelectionOptions qat = ptqat(0.5, SelectionRule::kSmallest);
  qat.method = QuantMethod::kQat;
  EXPECT_EQ(select_layers({}, qat).frozen_layers, 0);
}

TEST(Selection, NanDiscrepancyIsAnError) {
  const DiscrepancyTable table = table_of({1, std::numeric_limits<double>::quiet_NaN()});
  EXPECT_THROW(select_layers(table, ptqat(0.5, SelectionRule::kSmallest)), Error);
}

TEST(FrozenSetOverlaps, JaccardOfTheFrozenSetsUnderEachMeasure) {
  // Four layers; isolated_nmse ranks them 0 < 1 < 2 < 3, cumulative_mse in reverse, every other
  // measure as isolated_nmse except isolated_cosine, which swaps layers 1 and 2.
  DiscrepancyTable table = table_of({1, 2, 3, 4});
  for (size_t i = 0; i < table.size(); ++i) {
    const auto rank = static_cast<double>(i + 1);
    for (const auto& [mode, metric] : all_measures()) {
      table[i].measures[measure_name(mode, metric)] = rank;
    }
    table[i].measures["cumulative_mse"] = 5 - rank;
  }
  table[1].measures["isolated_cosine"] = 3;
  table[2].measures["isolated_cosine"] = 2;
  const SelectionOptions options = ptqat(0.5, SelectionRule::kSmallest);
  const LayerSelection selection = select_layers(table, options);  // freezes 2 and 3
  const std::map<std::string, double> overlaps = frozen_set_overlaps(table, options, selection);
  ASSERT_EQ(overlaps.size(), 6u);
  EXPECT_EQ(overlaps.at("isolated_nmse"), 1.0);
  EXPECT_EQ(overlaps.at("cumulative_mse"), 0.0);              // {0, 1} against {2, 3}
  EXPECT_DOUBLE_EQ(overlaps.at("isolated_cosine"), 1.0 / 3);  // {1, 3} against {2, 3}
  table[0].measures.erase("cumulative_nmse");
  EXPECT_THROW(frozen_set_overlaps(table, options, selection), DataError);
}

}  // namespace
}  // namespace ptqat::quant
