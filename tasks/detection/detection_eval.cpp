#include "tasks/detection/detection_eval.h"

#include "core/error.h"
#include "core/resources.h"
#include "tasks/detection/detection_accumulate.h"
#include "tasks/detection/submission_json.h"

namespace ptqat::tasks::detection {

DetectionMetrics evaluate_detection(const datasets::NuScenes& index, const EvalSampleSet& samples,
                                    DetectionResults predictions, const DetectionEvalConfig& config,
                                    const std::string& source) {
  config.validate();
  DetectionMetrics metrics;
  metrics.config = config;
  metrics.split = samples.split;
  metrics.num_samples = samples.samples.size();

  DetectionResults selected = select_predictions(index, samples, std::move(predictions),
                                                 config.max_boxes_per_sample, source);
  DetectionResults gt = load_gt(index, samples);
  PTQAT_CHECK(gt.num_boxes() > 0, DataError,
              "{}/{}: split '{}': its {} samples hold no annotation of the 10 detection classes, "
              "so the detection metric is undefined (check has_detection_ground_truth() first)",
              index.dataroot(), index.version(), samples.split, samples.samples.size());

  add_center_dist(index, selected);
  add_center_dist(index, gt);
  metrics.pred_counts = filter_eval_boxes(index, selected, config);
  metrics.gt_counts = filter_eval_boxes(index, gt, config);

  // evaluate.py DetectionEval.evaluate: AP at every threshold, TP errors at dist_th_tp.
  const core::Stopwatch stopwatch;
  const size_t tp_threshold = config.tp_threshold_index();
  for (int c = 0; c < kNumClasses; ++c) {
    const auto cls = static_cast<size_t>(c);
    metrics.label_aps[cls].assign(config.dist_ths.size(), 0.0);
    for (size_t k = 0; k < config.dist_ths.size(); ++k) {
      const DetectionMetricData data = accumulate(gt, selected, c, config.dist_ths[k]);
      metrics.label_aps[cls][k] = calc_ap(data, config.min_recall, config.min_precision);
      if (k == tp_threshold) {
        for (int m = 0; m < kNumTpMetrics; ++m) {
          metrics.label_tp_errors[cls][static_cast<size_t>(m)] =
              class_tp_error(c, static_cast<TpMetric>(m), data, config.min_recall);
        }
      }
    }
  }
  metrics.aggregate();
  metrics.eval_seconds = stopwatch.seconds();
  return metrics;
}

DetectionMetrics evaluate_detection(const datasets::NuScenes& index, const std::string& split,
                                    DetectionResults predictions,
                                    const DetectionEvalConfig& config) {
  return evaluate_detection(index, eval_sample_set(index, split), std::move(predictions), config);
}

DetectionMetrics evaluate_submission(const datasets::NuScenes& index, const std::string& split,
                                     const std::string& path, const DetectionEvalConfig& config) {
  config.validate();
  const EvalSampleSet samples = eval_sample_set(index, split);
  Submission submission = read_submission(path, config.max_boxes_per_sample);
  DetectionMetrics metrics =
      evaluate_detection(index, samples, std::move(submission.results), config, path);
  metrics.meta = submission.meta;
  return metrics;
}

}  // namespace ptqat::tasks::detection
