#include "results/report.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <tuple>

#include "core/error.h"
#include "results/report_plots.h"
#include "tests/support/temp_dir.h"

namespace ptqat::results {
namespace {

/// What sets a run apart in these tests.
struct Setting {
  int64_t seed = 0;            ///< the float model's; every run here has fine-tune seed 0
  std::string method = "ptq";  ///< of the fine-tune: "qat" or "ptqat"
  double ratio = 0.5;
  std::string rule = "smallest";
  std::string task = "detection";
  int64_t quant_seed = 0;  ///< the fine-tune's
};

/// A record of `stage` for `setting` with NDS = nds, mAP = nds / 2, labelled as the runner labels
/// it: the group keys are what runs differing only in their seed share.
RunRecord record(const Setting& setting, const std::string& stage, double nds,
                 int64_t trainable = 0) {
  RunRecord run;
  run.stage = stage;
  run.task = setting.task;
  run.method = stage == "float_train" ? "float" : stage == "calibrate" ? "ptq" : setting.method;
  const std::string selection =
      run.method == "ptqat" ? fmt::format("-{}-{}", setting.ratio, setting.rule) : "";
  run.labels.model = setting.task;
  run.labels.bits = "W8A8";
  run.labels.rule = setting.rule;
  run.labels.freeze_ratio = setting.ratio;
  run.labels.epochs = 2;
  run.labels.primary_metric = setting.task == "detection" ? "NDS" : "mIoU";
  run.labels.float_group = setting.task + "-float";
  run.labels.calibrate_group = setting.task + "-calibrate";
  run.labels.fine_tune_group = setting.task + "-" + run.method + selection;
  // Keys as the runner chains them: fine-tune -> calibration -> float model of the same seed.
  const auto key_of = [&](const std::string& of_stage, const std::string& group) {
    const int64_t quant_seed = of_stage == "fine_tune" ? setting.quant_seed : 0;
    return fmt::format(
        "{:016x}", std::hash<std::string>{}(fmt::format("{}-{}-{}-{}-{}", of_stage, group,
                                                        setting.seed, setting.task, quant_seed)));
  };
  run.labels.float_seed = setting.seed;
  run.labels.quant_seed = stage == "fine_tune" ? setting.quant_seed : 0;
  run.key = key_of(stage, run.labels.fine_tune_group);
  if (stage == "calibrate") run.parent_key = key_of("float_train", setting.task + "-float");
  if (stage == "fine_tune") run.parent_key = key_of("calibrate", setting.task + "-ptq");
  run.metrics = {{"NDS", nds}, {"mAP", nds / 2}};
  run.trainable_parameters = trainable;
  run.wall_time_s = 10;
  run.train_time_s = 8;
  run.peak_host_memory_bytes = 512 << 20;
  for (int64_t i = 0; i < 4; ++i) {
    LayerRow layer;
    layer.name = "layer" + std::to_string(i);
    layer.kind = "conv2d";
    layer.forward_index = i;
    layer.discrepancy = 0.1 * static_cast<double>(i + 1);
    layer.frozen = i >= 2;
    run.layers.push_back(layer);
  }
  return run;
}

Setting with(int64_t seed, const std::string& method, double ratio = 0.5,
             const std::string& rule = "smallest") {
  return {seed, method, ratio, rule, "detection"};
}

/// Two seeds of float, PTQ, QAT, PTQAT 0.5 smallest; one seed of PTQAT 0.5 largest.
std::vector<RunRecord> sweep_runs() {
  std::vector<RunRecord> runs;
  for (const int64_t seed : {0, 1}) {
    const double shift = seed == 0 ? 0.0 : 0.02;
    runs.push_back(record(with(seed, "ptq"), "float_train", 0.40 + shift, 1000));
    runs.push_back(record(with(seed, "ptq"), "calibrate", 0.30 + shift));
    runs.push_back(record(with(seed, "qat"), "fine_tune", 0.38 + shift, 1000));
    runs.push_back(record(with(seed, "ptqat"), "fine_tune", 0.36 + shift, 500));
  }
  runs.push_back(record(with(0, "ptqat", 0.5, "largest"), "fine_tune", 0.33, 500));
  return runs;
}

TEST(Report, RecordsMadeFromAnEarlierVersionOfTheirParentAreLeftOutAndListed) {
  std::vector<RunRecord> runs = sweep_runs();
  for (RunRecord& run : runs) {
    run.content_hash = "made-" + run.key;
    const auto parent = std::find_if(runs.begin(), runs.end(),
                                     [&](const RunRecord& p) { return p.key == run.parent_key; });
    if (parent != runs.end()) run.parent_content_hash = "made-" + parent->key;
  }
  const size_t tables = report_tables(runs).size();
  // Seed 1's float model recorded again (its checkpoint was lost): its calibration and
  // fine-tunes were made from the earlier version.
  for (RunRecord& run : runs) {
    if (run.stage == "float_train" && run.labels.float_seed == 1) run.content_hash = "remade";
  }
  const std::vector<ReportTable> report = report_tables(runs);
  ASSERT_EQ(report.size(), tables + 1);
  const ReportTable& left_out = report.back();
  EXPECT_EQ(left_out.kind, ReportTable::Kind::kLeftOut);
  ASSERT_EQ(left_out.rows.size(), 3u);  // seed 1's calibration, QAT and PTQAT
  EXPECT_NE(left_out.title.find("3 record(s) made from an earlier version"), std::string::npos);
  // The QAT row now holds seed 0 alone.
  const ReportTable& comparison = report.front();
  EXPECT_EQ(comparison.rows[2][0].text, "full QAT");
  EXPECT_EQ(comparison.rows[2][4].stat.count, 1u);
  EXPECT_NE(render_report(report, ReportFormat::kMarkdown).find("### Left out"), std::string::npos);
}

TEST(Report, ARandomRuleSeededByTheFineTuneSeedIsOneRuleOverTheSeeds) {
  std::vector<RunRecord> runs = sweep_runs();
  for (const int64_t quant_seed : {0, 1, 2}) {
    Setting setting = with(0, "ptqat", 0.5, "random");
    setting.quant_seed = quant_seed;
    RunRecord run = record(setting, "fine_tune", 0.35 + 0.01 * static_cast<double>(quant_seed));
    // As the runner labels it: the selection seed is the fine-tune seed.
    run.labels.rule = fmt::format("random({})", quant_seed);
    run.labels.label = fmt::format("PTQAT 0.5 random({})", quant_seed);
    runs.push_back(run);
  }
  const std::vector<ReportTable> tables = report_tables(runs);
  const auto ablation = std::find_if(tables.begin(), tables.end(), [](const ReportTable& t) {
    return t.kind == ReportTable::Kind::kAblation;
  });
  ASSERT_NE(ablation, tables.end());
  EXPECT_EQ(std::count(ablation->header.begin(), ablation->header.end(), "random"), 1);
  for (const auto& row : ablation->rows) {
    if (row[0].text != "0.5") continue;
    const size_t column =
        static_cast<size_t>(std::find(ablation->header.begin(), ablation->header.end(), "random") -
                            ablation->header.begin());
    EXPECT_EQ(row[column].stat.count, 3u);
    EXPECT_NEAR(row[column].stat.mean, 0.36, 1e-12);
  }
}

TEST(Report, SeedsBecomeMeanAndSpreadAndPtqatIsComparedWithFullQat) {
  const std::vector<RunRecord> runs = sweep_runs();
  const std::vector<ReportTable> tables = report_tables(runs);
  ASSERT_EQ(tables.size(), 3u);  // one comparison, the claims, one ablation
  const ReportTable& comparison = tables[0];
  EXPECT_EQ(comparison.title,
            "detection: 2 float models (seeds 0, 1; 2 epochs) and their quantizations");
  EXPECT_EQ(comparison.header[4], "NDS");
  EXPECT_EQ(comparison.header[6], "Δ NDS vs QAT");
  ASSERT_EQ(comparison.rows.size(), 5u);  // float, PTQ, QAT, PTQAT largest, PTQAT smallest
  const auto& float_row = comparison.rows[0];
  EXPECT_EQ(float_row[0].text, "float");
  EXPECT_NEAR(float_row[4].stat.mean, 0.41, 1e-12);
  EXPECT_NEAR(float_row[4].stat.stddev, 0.0141421356, 1e-9);  // sample std of 0.40, 0.42
  EXPECT_EQ(float_row[4].stat.count, 2u);
  EXPECT_EQ(comparison.rows[1][0].text, "PTQ");
  EXPECT_EQ(comparison.rows[1][1].text, "W8A8");
  // Paired by float model: 0.30 - 0.38 and 0.32 - 0.40.
  EXPECT_NEAR(comparison.rows[1][6].paired.differences.mean, -0.08, 1e-12);
  EXPECT_EQ(comparison.rows[1][6].paired.differences.count, 2u);
  EXPECT_EQ(comparison.rows[2][0].text, "full QAT");
  EXPECT_EQ(comparison.rows[4][3].text, "smallest");
  EXPECT_NEAR(comparison.rows[4][6].paired.differences.mean, -0.02, 1e-12);
  EXPECT_EQ(comparison.rows[3][6].paired.differences.count, 1u);  // largest: one seed
  EXPECT_EQ(comparison.rows[4][7].stat.mean, 500);
  EXPECT_EQ(comparison.header[8], "train s");  // fine-tune time without evaluation
  EXPECT_EQ(comparison.rows[4][8].stat.mean, 8);
  EXPECT_EQ(comparison.rows[4].back().text, "2");
  EXPECT_EQ(comparison.rows[3][3].text, "largest");
  EXPECT_EQ(comparison.rows[3].back().text, "1");

  const ReportTable& ablation = tables[2];
  EXPECT_EQ(ablation.header, (std::vector<std::string>{"freeze ratio", "largest", "smallest"}));
  ASSERT_EQ(ablation.rows.size(), 3u);  // 0 (QAT), 0.5, 1 (PTQ)
  EXPECT_NEAR(ablation.rows[0][2].stat.mean, 0.39, 1e-12);
  EXPECT_NEAR(ablation.rows[1][1].stat.mean, 0.33, 1e-12);
  EXPECT_NEAR(ablation.rows[1][2].stat.mean, 0.37, 1e-12);
  EXPECT_NEAR(ablation.rows[2][1].stat.mean, 0.31, 1e-12);
}

TEST(Report, ClaimsGiveThePairedEffectItsIntervalAndAVerdict) {
  // One float model, three fine-tune seeds of QAT and PTQAT 0.5 (smallest, largest).
  std::vector<RunRecord> runs = {record(with(0, "ptq"), "float_train", 0.40, 1000),
                                 record(with(0, "ptq"), "calibrate", 0.30)};
  const std::vector<double> qat = {0.380, 0.384, 0.382};
  const std::vector<double> smallest = {0.385, 0.389, 0.386};
  const std::vector<double> largest = {0.370, 0.390, 0.375};
  for (int64_t seed = 0; seed < 3; ++seed) {
    const auto fine_tune = [&](const std::string& method, const std::string& rule, double nds,
                               int64_t trainable) {
      Setting setting = with(0, method, 0.5, rule);
      setting.quant_seed = seed;
      runs.push_back(record(setting, "fine_tune", nds, trainable));
    };
    fine_tune("qat", "smallest", qat[seed], 1000);
    fine_tune("ptqat", "smallest", smallest[seed], 500);
    fine_tune("ptqat", "largest", largest[seed], 500);
  }
  const std::vector<ReportTable> tables = report_tables(runs);
  ASSERT_GE(tables.size(), 2u);
  const ReportTable& claims = tables[1];
  ASSERT_EQ(claims.kind, ReportTable::Kind::kClaims);
  ASSERT_EQ(claims.rows.size(), 5u);  // >= QAT, > largest, weights, time, memory
  const auto row = [&](size_t i) { return claims.rows[i]; };
  EXPECT_EQ(row(0)[0].text, "PTQAT(0.5, smallest) >= full QAT on NDS");
  // d = 0.005, 0.005, 0.004: mean 0.004667, sd 0.000577, t(0.975, 2) = 4.3027.
  const PairedStats versus_qat = row(0)[3].paired;
  EXPECT_NEAR(versus_qat.differences.mean, 0.0046667, 1e-6);
  EXPECT_NEAR(versus_qat.high - versus_qat.differences.mean, 4.3027 * 0.00057735 / std::sqrt(3.0),
              1e-6);
  EXPECT_EQ(row(0)[4].text, "3");
  EXPECT_EQ(row(0)[5].text, "supported");
  // d = 0.015, -0.001, 0.011: the interval spans 0.
  EXPECT_EQ(row(1)[0].text, "PTQAT(0.5, smallest) > PTQAT(0.5, largest) on NDS");
  EXPECT_EQ(row(1)[5].text, "inconclusive (the interval spans 0)");
  EXPECT_EQ(row(2)[0].text, "PTQAT(0.5, smallest) trains fewer weights than full QAT");
  EXPECT_EQ(row(2)[3].paired.differences.mean, -500);
  EXPECT_EQ(row(2)[5].text, "supported");
  // One float seed: whether PTQ loses more than the float seed spread is unknown.
  EXPECT_NE(row(0)[6].text.find("flagged: one float seed"), std::string::npos) << row(0)[6].text;
  const std::string markdown = render_report(tables, ReportFormat::kMarkdown);
  EXPECT_NE(markdown.find("| PTQAT(0.5, smallest) >= full QAT on NDS | detection | W8A8 | "
                          "+0.0047 [+0.0032, +0.0061] (3) | 3 | supported |"),
            std::string::npos)
      << markdown;

  // A worse PTQAT is contradicted, not tuned away.
  for (RunRecord& run : runs) {
    if (run.method == "ptqat" && run.labels.rule == "smallest") run.metrics["NDS"] -= 0.01;
  }
  EXPECT_EQ(report_tables(runs)[1].rows[0][5].text, "contradicted");
}

TEST(Report, ClaimsSayWhetherPtqLosesMoreThanTheFloatModelsSeedSpread) {
  // Two float seeds (0.40, 0.42: sample std 0.0141); PTQ of each 0.10 below its float model.
  std::vector<RunRecord> runs = sweep_runs();
  const auto gap_text = [](const std::vector<RunRecord>& of) {
    return report_tables(of)[1].rows.at(0).at(6).text;
  };
  EXPECT_EQ(gap_text(runs), "float - PTQ +0.1000 > float seed spread 0.0141: meaningful");
  // PTQ within the float models' spread: the gap is flagged, not hidden.
  for (RunRecord& run : runs) {
    if (run.stage == "calibrate") run.metrics["NDS"] = run.labels.float_seed == 0 ? 0.398 : 0.418;
  }
  EXPECT_EQ(gap_text(runs), "float - PTQ +0.0020, not above the float seed spread 0.0141: flagged");
}

TEST(Report, PtqatFineTunesShowTheOverlapOfTheirFrozenSetUnderEachMeasure) {
  std::vector<RunRecord> runs = sweep_runs();
  for (RunRecord& run : runs) {
    if (run.method != "ptqat") continue;
    const bool second_seed = run.metrics.at("NDS") > 0.37;
    run.frozen_overlap = {{"isolated_nmse", 1.0}, {"isolated_mse", second_seed ? 0.5 : 0.25}};
  }
  // A random rule ignores the discrepancy: every measure selects its frozen set, so it has no row.
  RunRecord random = record(with(0, "ptqat", 0.5, "random"), "fine_tune", 0.35, 500);
  random.frozen_overlap = {{"isolated_nmse", 1.0}, {"isolated_mse", 1.0}};
  runs.push_back(random);
  const std::vector<ReportTable> tables = report_tables(runs);
  ASSERT_EQ(tables.size(), 4u);  // comparison, claims, ablation, overlap
  const ReportTable& overlap = tables[3];
  EXPECT_EQ(overlap.kind, ReportTable::Kind::kOverlap);
  EXPECT_EQ(overlap.header,
            (std::vector<std::string>{"freeze ratio", "rule", "isolated_mse", "isolated_nmse"}));
  ASSERT_EQ(overlap.rows.size(), 2u);  // largest (1 seed), smallest (2 seeds)
  EXPECT_EQ(overlap.rows[1][1].text, "smallest");
  EXPECT_NEAR(overlap.rows[1][2].stat.mean, 0.375, 1e-12);
  EXPECT_EQ(overlap.rows[1][2].stat.count, 2u);
  EXPECT_EQ(overlap.rows[0][3].stat.mean, 1.0);
  const std::string markdown = render_report(tables, ReportFormat::kMarkdown);
  EXPECT_NE(markdown.find("| 0.5 | smallest | 0.38 ± 0.18 (2) | 1.00 ± 0.00 (2) |"),
            std::string::npos)
      << markdown;
}

TEST(Report, EachTaskIsComparedOnItsOwnPrimaryMetric) {
  // One results file of a paper sweep: a detection model and a segmentation model. The
  // segmentation records carry mIoU only, and are labelled with mIoU as their task's primary
  // metric.
  std::vector<RunRecord> runs = sweep_runs();
  for (const auto& [method, stage, miou] :
       {std::tuple{"ptq", "float_train", 0.50}, std::tuple{"ptq", "calibrate", 0.40},
        std::tuple{"qat", "fine_tune", 0.45}, std::tuple{"ptqat", "fine_tune", 0.47}}) {
    Setting segmentation = with(0, method);
    segmentation.task = "segmentation";
    RunRecord run = record(segmentation, stage, 0);
    run.metrics = {{"mIoU", miou}};
    runs.push_back(run);
  }
  const std::vector<ReportTable> tables = report_tables(runs);
  ASSERT_EQ(tables.size(), 5u);  // per task one comparison and one ablation; the claims
  const auto table_of = [&](const std::string& task) {
    for (const ReportTable& table : tables) {
      if (table.kind == ReportTable::Kind::kComparison && table.title.rfind(task, 0) == 0) {
        return table;
      }
    }
    ADD_FAILURE() << "no table for " << task;
    return ReportTable{};
  };
  const ReportTable seg = table_of("segmentation");
  EXPECT_EQ(seg.header[4], "mIoU");
  EXPECT_EQ(seg.header[5], "Δ mIoU vs QAT");
  ASSERT_EQ(seg.rows.size(), 4u);
  EXPECT_NEAR(seg.rows[3][5].paired.differences.mean, 0.02, 1e-12);
  const ReportTable det = table_of("detection");
  EXPECT_EQ(det.header[4], "NDS");
  EXPECT_EQ(det.header[5], "mAP");
  EXPECT_EQ(det.header[6], "Δ NDS vs QAT");
}

TEST(Report, ModelsComeInNameOrderAndBitsFromTheWidestToTheNarrowest) {
  // Stage keys are hashes: here the segmentation model's and the W4A8 calibration's sort first.
  std::vector<RunRecord> runs;
  for (const auto& [bits, weight_bits, calibrate_group] :
       {std::tuple{"W4A8", 4, "a-calibrate"}, std::tuple{"W8A8", 8, "b-calibrate"}}) {
    RunRecord calibration = record(with(0, "ptq"), "calibrate", weight_bits / 20.0);
    calibration.labels.bits = bits;
    calibration.labels.weight_bits = weight_bits;
    calibration.labels.activation_bits = 8;
    calibration.labels.calibrate_group = calibrate_group;
    calibration.labels.float_group = "z-float";
    calibration.key += bits;
    runs.push_back(calibration);
  }
  RunRecord detection = record(with(0, "ptq"), "float_train", 0.5);
  detection.labels.float_group = "z-float";
  runs.push_back(detection);
  Setting segmentation = with(0, "ptq");
  segmentation.task = "segmentation";
  runs.push_back(record(segmentation, "float_train", 0.5));
  runs.back().labels.float_group = "a-float";

  const std::vector<ReportTable> tables = report_tables(runs);
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables[0].title.rfind("detection:", 0), 0u) << tables[0].title;
  EXPECT_EQ(tables[1].title.rfind("segmentation:", 0), 0u) << tables[1].title;
  ASSERT_EQ(tables[0].rows.size(), 3u);  // float, PTQ W8A8, PTQ W4A8
  EXPECT_EQ(tables[0].rows[1][1].text, "W8A8");
  EXPECT_EQ(tables[0].rows[2][1].text, "W4A8");
}

TEST(Report, RunsOnAGpuShowTheirPeakGpuMemory) {
  std::vector<RunRecord> runs = sweep_runs();
  const ReportTable on_cpu = report_tables(runs)[0];
  EXPECT_EQ(std::count(on_cpu.header.begin(), on_cpu.header.end(), "GPU peak MiB"), 0);
  for (RunRecord& run : runs)
    run.peak_device_memory_bytes = (run.method == "ptqat" ? 300 : 400) << 20;
  const ReportTable table = report_tables(runs)[0];
  const auto column =
      std::find(table.header.begin(), table.header.end(), "GPU peak MiB") - table.header.begin();
  ASSERT_LT(static_cast<size_t>(column), table.header.size());
  EXPECT_EQ(table.header.back(), "seeds");
  EXPECT_NEAR(table.rows[2][static_cast<size_t>(column)].stat.mean, 400, 1e-9);  // full QAT
  EXPECT_NEAR(table.rows[4][static_cast<size_t>(column)].stat.mean, 300, 1e-9);  // PTQAT smallest
}

TEST(Report, RendersMarkdownLatexAndCsv) {
  const std::vector<ReportTable> tables = report_tables(sweep_runs());
  const std::string md = render_report(tables, ReportFormat::kMarkdown);
  EXPECT_NE(md.find("| float | - | - | - | 0.4100 ± 0.0141 (2) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| PTQAT | W8A8 | 0.5 | smallest | 0.3700 ± 0.0141 (2) | 0.1850 ± 0.0071 (2) | "
                    "-0.0200 [-0.0200, -0.0200] (2) | 500 ± 0 (2) | 8.0 ± 0.0 (2) | "
                    "10.0 ± 0.0 (2) | 512 ± 0 (2) | 2 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| PTQAT | W8A8 | 0.5 | largest | 0.3300 (1) |"), std::string::npos) << md;
  const std::string latex = render_report(tables, ReportFormat::kLatex);
  EXPECT_NE(latex.find("$\\Delta$ NDS vs QAT"), std::string::npos) << latex;
  EXPECT_NE(latex.find("0.4100 $\\pm$ 0.0141"), std::string::npos) << latex;
  EXPECT_NE(latex.find("\\bottomrule"), std::string::npos);
  const std::string csv = render_report(tables, ReportFormat::kCsv);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "table,method,bits,freeze,rule,NDS,NDS std,NDS n,mAP,mAP std,mAP n,Δ NDS vs QAT,"
            "Δ NDS vs QAT low,Δ NDS vs QAT high,Δ NDS vs QAT n,trainable params,"
            "trainable params std,trainable params n,train s,train s std,train s n,wall s,"
            "wall s std,wall s n,peak MiB,peak MiB std,peak MiB n,seeds");
  EXPECT_NE(csv.find(",float,-,-,-,0.41,0.0141421,2,0.205,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",PTQAT,W8A8,0.5,smallest,0.37,0.0141421,2,0.185,0.00707107,2,-0.02,-0.02,"
                     "-0.02,2,"),
            std::string::npos)
      << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6);  // header + 5 rows, no ablation
  EXPECT_THROW(parse_report_format("html"), ConfigError);
}

TEST(Report, PlotsArePngPdfAndSvgNamedForWhatTheyShowAndScriptsReRenderFromAnywhere) {
  ptqat::testing::TempDir dir;
  std::vector<RunRecord> runs = sweep_runs();
  for (RunRecord& run : runs) {
    run.labels.name = run.stage == "float_train"
                          ? "detection-cnn/float"
                          : fmt::format("detection-cnn/{}/{}/seed{}", "w8a8",
                                        run.method == "ptqat"
                                            ? fmt::format("ptqat-{:.2f}-{}",
                                                          run.labels.freeze_ratio, run.labels.rule)
                                            : run.method,
                                        run.labels.quant_seed);
  }
  const std::vector<std::string> pngs =
      write_report_plots(runs, report_tables(runs), dir.file("plots"));
  ASSERT_EQ(pngs.size(), 4u);  // one ablation, three PTQAT fine-tunes
  EXPECT_EQ(pngs[0], dir.file("plots/ablation_detection-cnn_w8a8.png"));
  EXPECT_NE(pngs[1].find("/layers_detection-cnn_w8a8_ptqat-0.50-"), std::string::npos) << pngs[1];
  const auto magic_of = [](const std::string& path, size_t size) {
    std::ifstream file(path, std::ios::binary);
    std::string magic(size, '\0');
    file.read(magic.data(), static_cast<std::streamsize>(size));
    return magic;
  };
  for (const std::string& png : pngs) {
    const std::string stem = png.substr(0, png.size() - 4);
    EXPECT_EQ(magic_of(png, 4), "\x89PNG") << png;
    EXPECT_EQ(magic_of(stem + ".pdf", 5), "%PDF-") << stem;
    EXPECT_NE(ptqat::testing::read_bytes(stem + ".svg").find("<svg"), std::string::npos) << stem;
    EXPECT_GT(std::filesystem::file_size(png), 2000u) << png;
  }
  // The per-layer figure names its stage and its layers; no hash in a title.
  const std::string layers = pngs[1].substr(0, pngs[1].size() - 4);
  const std::string script = ptqat::testing::read_bytes(layers + ".gp");
  EXPECT_NE(script.find("detection-cnn/w8a8/ptqat-0.50-"), std::string::npos) << script;
  EXPECT_NE(script.find("xtic(4)"), std::string::npos) << script;
  EXPECT_EQ(script.find(runs.back().key.substr(0, 12)), std::string::npos) << script;
  // Moved elsewhere and run from yet another folder, the script draws beside itself.
  std::filesystem::create_directories(dir.path() / "moved");
  std::filesystem::copy_file(layers + ".gp", dir.path() / "moved" / "figure.gp");
  ASSERT_EQ(std::system(("cd / && gnuplot " + dir.file("moved/figure.gp")).c_str()), 0);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "moved" /
                                      std::filesystem::path(layers).filename().concat(".pdf")));
}

}  // namespace
}  // namespace ptqat::results
