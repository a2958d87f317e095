#include "runner/stage_record.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "runner/stage_keys.h"

namespace ptqat::runner {
namespace {

results::RunLabels labels_of(const std::vector<std::string>& overrides) {
  return record_labels(load_run_config("", overrides), "ptqat", "NDS");
}

TEST(StageRecord, RunsThatDifferOnlyInTheirSeedsShareTheirReportGroups) {
  const std::vector<std::string> ptqat = {"quant.method=ptqat", "quant.freeze_ratio=0.25"};
  std::vector<std::string> seeded = ptqat;
  seeded.push_back("seed=7");
  seeded.push_back("quant.seed=5");
  const results::RunLabels first = labels_of(ptqat);
  const results::RunLabels second = labels_of(seeded);
  EXPECT_EQ(first.float_group, second.float_group);
  EXPECT_EQ(first.calibrate_group, second.calibrate_group);
  EXPECT_EQ(first.fine_tune_group, second.fine_tune_group);
  EXPECT_EQ(second.float_seed, 7);
  EXPECT_EQ(second.quant_seed, 5);
  // The fine-tune seed enters the fine-tune's key only: seeds share one float model and one
  // calibration.
  const StageKeys zero = stage_keys(load_run_config("", ptqat));
  std::vector<std::string> fine_tune_seeded = ptqat;
  fine_tune_seeded.push_back("quant.seed=5");
  const StageKeys five = stage_keys(load_run_config("", fine_tune_seeded));
  EXPECT_EQ(five.float_train, zero.float_train);
  EXPECT_EQ(five.calibrate, zero.calibrate);
  EXPECT_NE(five.fine_tune, zero.fine_tune);
  // The groups are the stage keys of the config with seed 0.
  const StageKeys seed_zero = stage_keys(load_run_config("", ptqat));
  EXPECT_EQ(first.fine_tune_group, seed_zero.fine_tune);
  EXPECT_NE(first.fine_tune_group, labels_of({"quant.method=ptqat"}).fine_tune_group);
}

TEST(StageRecord, LabelsNameTheSettingAReportShows) {
  RunConfig config =
      load_run_config("", {"quant.method=ptqat", "quant.weight.bits=4", "quant.freeze_ratio=0.5",
                           "quant.rule=random", "quant.select_seed=3", "train.epochs=5"});
  config.model.encoder = "transformer";
  const results::RunLabels labels = record_labels(config, "ptqat", "NDS");
  EXPECT_EQ(labels.label, "PTQAT 0.5 random(3)");
  EXPECT_EQ(labels.model, "detection, transformer encoder");
  EXPECT_EQ(labels.bits, "W4A8");
  EXPECT_EQ(labels.weight_bits, 4);
  EXPECT_EQ(labels.activation_bits, 8);
  EXPECT_EQ(labels.rule, "random(3)");
  EXPECT_EQ(labels.discrepancy_metric, "nmse");
  EXPECT_EQ(labels.discrepancy_mode, "isolated");
  EXPECT_EQ(record_labels(config, "qat", "NDS").label, "QAT");
  EXPECT_EQ(record_labels(config, "float", "NDS").label, "float");
  EXPECT_EQ(record_labels(config, "float", "NDS").weight_bits, 32);
  config.quant.select_seed = -1;  // the random rule then follows the fine-tune seed
  config.quant.seed = 9;
  EXPECT_EQ(record_labels(config, "ptqat", "NDS").rule, "random(9)");
  EXPECT_EQ(labels.freeze_ratio, 0.5);
  EXPECT_EQ(labels.epochs, 5);
  EXPECT_EQ(labels.primary_metric, "NDS");
  EXPECT_EQ(labels_of({}).model, "detection");
}

TEST(StageRecord, LayerTablesSurviveTheRecordedFormAndUnknownKindsAreNamed) {
  quant::DiscrepancyTable table(2);
  table[0].name = "backbone.0";
  table[0].kind = quant::LayerKind::kConvBn2d;
  table[0].discrepancy = 0.25;
  table[0].measures = {{"isolated_nmse", 0.25}, {"cumulative_mse", 3.5}};
  table[1].name = "head.cls";
  table[1].kind = quant::LayerKind::kLinear;
  table[1].frozen = true;
  table[1].ranked = false;
  std::vector<results::LayerRow> rows = layer_rows(table);
  EXPECT_EQ(rows[0].kind, "conv_bn2d");
  const quant::DiscrepancyTable back = discrepancy_table(rows);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].kind, quant::LayerKind::kConvBn2d);
  EXPECT_EQ(back[0].discrepancy, 0.25);
  EXPECT_EQ(back[0].measures, table[0].measures);
  EXPECT_TRUE(back[0].ranked);
  EXPECT_TRUE(back[1].frozen);
  EXPECT_FALSE(back[1].ranked);
  rows[1].kind = "conv3d";
  EXPECT_THROW(discrepancy_table(rows), DataError);
}

}  // namespace
}  // namespace ptqat::runner
