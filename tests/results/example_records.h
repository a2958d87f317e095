#pragma once
// Records with every field set, shared by the results tests.

#include <gtest/gtest.h>

#include <string>

#include "results/results_store.h"

namespace ptqat::results::examples {

inline const std::string kFloatKey = "0123456789abcdef0123456789abcdef";
inline const std::string kCalibrateKey = "11111111111111111111111111111111";
inline const std::string kEvaluateKey = "fedcba9876543210fedcba9876543210";

inline LayerRow layer(std::string name, std::string kind, int64_t index, int64_t parameters,
                      bool keep_float, double discrepancy, bool frozen) {
  LayerRow row;
  row.name = std::move(name);
  row.kind = std::move(kind);
  row.forward_index = index;
  row.parameters = parameters;
  row.weight_bits = keep_float ? 32 : 4;
  row.input_bits = keep_float ? 32 : 8;
  row.keep_float = keep_float;
  row.ranked = !keep_float && index > 0;
  row.discrepancy = discrepancy;
  row.measures = {{"isolated_nmse", discrepancy}, {"cumulative_cosine", discrepancy / 4}};
  row.frozen = frozen;
  return row;
}

/// A record with every field set to a value that differs from its default.
inline RunRecord evaluate_record() {
  RunRecord record;
  record.key = kEvaluateKey;
  record.parent_key = kCalibrateKey;
  record.content_hash = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
  record.parent_content_hash = "00112233445566778899aabbccddeeff";
  record.stage = "evaluate";
  record.task = "detection";
  record.method = "ptqat";
  record.config = "[quant]\nfreeze_ratio = 0.5\nweight_bits = 4\n[model]\nname = \"pillar–net\"\n";
  record.ptqat_version = "9.8.7";
  record.git_revision = "abc1234-dirty";
  record.started_at = "2025-03-01T12:00:00Z";
  record.finished_at = "2025-03-01T12:34:56Z";
  record.wall_time_s = 2096.5;
  record.train_time_s = 1500.25;
  record.attempts = 3;
  record.peak_host_memory_bytes = 12884901888;  // 12 GiB: beyond 32 bits
  record.peak_device_memory_bytes = 7;
  record.trainable_parameters = 1234567;
  record.metrics = {{"nds", 0.5125}, {"map", 0.375}, {"loss", -1.5}};
  record.class_names = {"car", "pedestrian"};
  record.per_class = {{"ap", {0.5, 0.25}}, {"ate", {0.125, 1.0}}};
  record.layers = {
      layer("backbone.conv1", "conv_bn2d", 0, 1728, false, 0.0125, true),
      layer("head.cls", "linear", 1, 650, true, 2.5e-05, false),
      layer("neck.up", "conv_transpose2d", 2, 4096, false, 0, false),
  };
  record.frozen_overlap = {{"isolated_nmse", 1.0}, {"cumulative_cosine", 0.5}};
  record.provenance = {{"source", "/models/centerpoint.pth"}, {"mapping", "mmdet3d"}};
  record.history = {{"loss", {{100, 200, 300}, {2.0, 1.0, 0.5}}},
                    {"val_nds", {{1, 2}, {0.25, 0.5}}}};
  record.labels.label = "PTQAT 0.375 random(3)";
  record.labels.model = "detection, transformer encoder";
  record.labels.bits = "W4A8";
  record.labels.weight_bits = 4;
  record.labels.activation_bits = 8;
  record.labels.rule = "random(3)";
  record.labels.freeze_ratio = 0.375;
  record.labels.discrepancy_metric = "cosine";
  record.labels.discrepancy_mode = "cumulative";
  record.labels.float_seed = 11;
  record.labels.quant_seed = 3;
  record.labels.epochs = 20;
  record.labels.primary_metric = "NDS";
  record.labels.float_group = "float-group";
  record.labels.calibrate_group = "calibrate-group";
  record.labels.fine_tune_group = "fine-tune-group";
  return record;
}

/// A float-training record with empty tables, classes and histories.
inline RunRecord float_record() {
  RunRecord record;
  record.key = kFloatKey;
  record.content_hash = "ffeeddccbbaa99887766554433221100";
  record.stage = "float_train";
  record.task = "detection";
  record.method = "float";
  record.config = "[train]\nepochs = 2\n";
  record.metrics = {{"loss", 0.75}};
  return record;
}

inline void expect_same(const RunRecord& actual, const RunRecord& expected) {
  EXPECT_EQ(actual.key, expected.key);
  EXPECT_EQ(actual.parent_key, expected.parent_key);
  EXPECT_EQ(actual.content_hash, expected.content_hash);
  EXPECT_EQ(actual.parent_content_hash, expected.parent_content_hash);
  EXPECT_EQ(actual.stage, expected.stage);
  EXPECT_EQ(actual.task, expected.task);
  EXPECT_EQ(actual.method, expected.method);
  EXPECT_EQ(actual.config, expected.config);
  EXPECT_EQ(actual.ptqat_version, expected.ptqat_version);
  EXPECT_EQ(actual.git_revision, expected.git_revision);
  EXPECT_EQ(actual.started_at, expected.started_at);
  EXPECT_EQ(actual.finished_at, expected.finished_at);
  EXPECT_EQ(actual.wall_time_s, expected.wall_time_s);
  EXPECT_EQ(actual.train_time_s, expected.train_time_s);
  EXPECT_EQ(actual.attempts, expected.attempts);
  EXPECT_EQ(actual.peak_host_memory_bytes, expected.peak_host_memory_bytes);
  EXPECT_EQ(actual.peak_device_memory_bytes, expected.peak_device_memory_bytes);
  EXPECT_EQ(actual.trainable_parameters, expected.trainable_parameters);
  EXPECT_EQ(actual.metrics, expected.metrics);
  EXPECT_EQ(actual.class_names, expected.class_names);
  EXPECT_EQ(actual.per_class, expected.per_class);
  EXPECT_EQ(actual.labels.model, expected.labels.model);
  EXPECT_EQ(actual.labels.bits, expected.labels.bits);
  EXPECT_EQ(actual.labels.rule, expected.labels.rule);
  EXPECT_EQ(actual.labels.freeze_ratio, expected.labels.freeze_ratio);
  EXPECT_EQ(actual.labels.label, expected.labels.label);
  EXPECT_EQ(actual.labels.weight_bits, expected.labels.weight_bits);
  EXPECT_EQ(actual.labels.activation_bits, expected.labels.activation_bits);
  EXPECT_EQ(actual.labels.discrepancy_metric, expected.labels.discrepancy_metric);
  EXPECT_EQ(actual.labels.discrepancy_mode, expected.labels.discrepancy_mode);
  EXPECT_EQ(actual.labels.float_seed, expected.labels.float_seed);
  EXPECT_EQ(actual.labels.quant_seed, expected.labels.quant_seed);
  EXPECT_EQ(actual.labels.epochs, expected.labels.epochs);
  EXPECT_EQ(actual.labels.primary_metric, expected.labels.primary_metric);
  EXPECT_EQ(actual.labels.float_group, expected.labels.float_group);
  EXPECT_EQ(actual.labels.calibrate_group, expected.labels.calibrate_group);
  EXPECT_EQ(actual.labels.fine_tune_group, expected.labels.fine_tune_group);
  ASSERT_EQ(actual.layers.size(), expected.layers.size());
  for (size_t i = 0; i < actual.layers.size(); ++i) {
    const LayerRow& a = actual.layers[i];
    const LayerRow& e = expected.layers[i];
    EXPECT_EQ(a.name, e.name) << i;
    EXPECT_EQ(a.kind, e.kind) << i;
    EXPECT_EQ(a.forward_index, e.forward_index) << i;
    EXPECT_EQ(a.parameters, e.parameters) << i;
    EXPECT_EQ(a.weight_bits, e.weight_bits) << i;
    EXPECT_EQ(a.input_bits, e.input_bits) << i;
    EXPECT_EQ(a.keep_float, e.keep_float) << i;
    EXPECT_EQ(a.ranked, e.ranked) << i;
    EXPECT_EQ(a.discrepancy, e.discrepancy) << i;
    EXPECT_EQ(a.measures, e.measures) << i;
    EXPECT_EQ(a.frozen, e.frozen) << i;
  }
  EXPECT_EQ(actual.frozen_overlap, expected.frozen_overlap);
  EXPECT_EQ(actual.provenance, expected.provenance);
  ASSERT_EQ(actual.history.size(), expected.history.size());
  for (const auto& [name, series] : expected.history) {
    ASSERT_EQ(actual.history.count(name), 1u) << name;
    EXPECT_EQ(actual.history.at(name).steps, series.steps) << name;
    EXPECT_EQ(actual.history.at(name).values, series.values) << name;
  }
}

}  // namespace ptqat::results::examples
