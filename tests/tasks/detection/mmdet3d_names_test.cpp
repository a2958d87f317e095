// mmdetection3d's CenterPoint-PointPillars checkpoint layout, declared here from its config
// (centerpoint_pillar02_second_secfpn_nus: PillarFeatureNet 10 -> 64; SECOND [3, 5, 5] layers of
// [64, 128, 256] channels; SECONDFPN [0.5, 1, 2] -> 3 x 128 with use_conv_for_no_stride; CenterHead
// share_conv 64, head_conv 64, final_kernel 3, six task groups), loads into the full preset
// with no unmatched key, each tensor where it belongs; and ptqat -> PyTorch file -> ptqat gives
// identical outputs.

#include "tasks/detection/mmdet3d_names.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/torch_pickle.h"
#include "tasks/detection/centerpoint_model.h"
#include "tests/support/expect_error.h"
#include "tests/support/temp_dir.h"
#include "tests/support/torch_checkpoint.h"
#include "tests/tasks/detection/tiny_centerpoint.h"

namespace ptqat::tasks::detection {
namespace {

/// The state dict of mmdetection3d's model: name -> shape, int64 for num_batches_tracked.
nlohmann::json mmdet3d_centerpoint_pillar02_tensors() {
  nlohmann::json tensors = nlohmann::json::object();
  int seed = 0;
  const auto add = [&](const std::string& name, std::vector<int64_t> shape) {
    tensors[name] = {{"shape", shape}, {"seed", ++seed}};
  };
  const auto norm = [&](const std::string& prefix, int64_t channels) {
    for (const char* tensor : {"weight", "bias", "running_mean", "running_var"}) {
      add(prefix + "." + tensor, {channels});
    }
    tensors[prefix + ".num_batches_tracked"] = {{"shape", nlohmann::json::array()},
                                                {"dtype", "int64"}};
  };
  add("pts_voxel_encoder.pfn_layers.0.linear.weight", {64, 10});
  norm("pts_voxel_encoder.pfn_layers.0.norm", 64);
  const std::vector<int64_t> channels = {64, 128, 256}, layers = {3, 5, 5};
  int64_t in = 64;
  for (size_t s = 0; s < 3; ++s) {
    for (int64_t j = 0; j <= layers[s]; ++j) {
      add(fmt::format("pts_backbone.blocks.{}.{}.weight", s, 3 * j),
          {channels[s], j == 0 ? in : channels[s], 3, 3});
      norm(fmt::format("pts_backbone.blocks.{}.{}", s, 3 * j + 1), channels[s]);
    }
    in = channels[s];
  }
  add("pts_neck.deblocks.0.0.weight", {128, 64, 2, 2});   // Conv2d, stride 2
  add("pts_neck.deblocks.1.0.weight", {128, 128, 1, 1});  // Conv2d, use_conv_for_no_stride
  add("pts_neck.deblocks.2.0.weight", {256, 128, 2, 2});  // ConvTranspose2d: [in, out, k, k]
  for (int s = 0; s < 3; ++s) norm(fmt::format("pts_neck.deblocks.{}.1", s), 128);
  add("pts_bbox_head.shared_conv.conv.weight", {64, 384, 3, 3});
  norm("pts_bbox_head.shared_conv.bn", 64);
  const std::vector<int64_t> classes = {1, 2, 2, 1, 2, 2};
  for (size_t g = 0; g < classes.size(); ++g) {
    for (const auto& [head, out] :
         std::vector<std::pair<std::string, int64_t>>{{"reg", 2},
                                                      {"height", 1},
                                                      {"dim", 3},
                                                      {"rot", 2},
                                                      {"vel", 2},
                                                      {"heatmap", classes[g]}}) {
      const std::string prefix = fmt::format("pts_bbox_head.task_heads.{}.{}", g, head);
      add(prefix + ".0.conv.weight", {64, 64, 3, 3});
      norm(prefix + ".0.bn", 64);
      add(prefix + ".1.weight", {out, 64, 3, 3});
      add(prefix + ".1.bias", {out});
    }
  }
  return tensors;
}

DetectionModelConfig full_preset() {
  DetectionModelConfig config;  // the defaults are the full preset's sizes
  config.bev.neck_conv_for_no_stride = true;
  return config;
}

TEST(Mmdet3dNames, ThePublishedCheckpointLayoutLoadsIntoTheFullPreset) {
  if (ptqat::testing::python_with_numpy().empty())
    GTEST_SKIP() << "python3 with numpy is not installed";
  ptqat::testing::TempDir dir;
  const nlohmann::json tensors = mmdet3d_centerpoint_pillar02_tensors();
  ptqat::testing::write_torch_checkpoint({{"nest", "state_dict"}, {"tensors", tensors}},
                                         dir.file("centerpoint_pillar02.pth"));
  const core::StateDict state = core::read_torch_state_dict(dir.file("centerpoint_pillar02.pth"));
  EXPECT_EQ(state.size(), tensors.size());

  const DetectionModelConfig config = full_preset();
  CenterPointModel model(config, datasets::PillarConfig{});
  const quant::NameMapping mapping = mmdet3d_centerpoint_names(config);
  EXPECT_EQ(mapping.names.size(), tensors.size());
  quant::load_float_state(*model, state, mapping,
                          "centerpoint_pillar02.pth");  // throws on any mismatch

  const auto source = [&](const std::string& name) {
    for (const auto& [key, tensor] : state) {
      if (key == name) return tensor;
    }
    ADD_FAILURE() << "no " << name;
    return torch::Tensor();
  };
  const auto params = model->named_parameters();
  const auto buffers = model->named_buffers();
  EXPECT_TRUE(
      torch::equal(params["backbone.1.3.conv.weight"], source("pts_backbone.blocks.1.9.weight")));
  EXPECT_TRUE(
      torch::equal(params["neck.1.down.conv.weight"], source("pts_neck.deblocks.1.0.weight")));
  EXPECT_TRUE(
      torch::equal(params["neck.2.up.conv.weight"], source("pts_neck.deblocks.2.0.weight")));
  EXPECT_TRUE(torch::equal(buffers["neck.2.up.bn.running_var"],
                           source("pts_neck.deblocks.2.1.running_var")));
  EXPECT_TRUE(torch::equal(params["heads.4.size.out.conv.bias"],
                           source("pts_bbox_head.task_heads.4.dim.1.bias")));
  EXPECT_TRUE(torch::equal(params["heads.5.heatmap.hidden.bn.weight"],
                           source("pts_bbox_head.task_heads.5.heatmap.0.bn.weight")));

  // The Transformer encoder has no mmdetection3d counterpart.
  DetectionModelConfig transformer = config;
  transformer.bev.encoder = "transformer";
  ptqat::testing::expect_error<ConfigError>([&] { mmdet3d_centerpoint_names(transformer); },
                                            {"model.encoder", "\"second\" encoder only"});
}

TEST(Mmdet3dNames, PtqatToPyTorchFileToPtqatGivesIdenticalOutputs) {
  ptqat::testing::TempDir dir;
  torch::manual_seed(3);
  DetectionModelConfig config = testing::tiny_config();
  const datasets::PillarConfig pillars = testing::tiny_pillars();
  CenterPointModel trained(config, pillars), fresh(config, pillars);
  // Running statistics away from their initial values, so they must travel too.
  trained->train();
  const torch::Tensor bev = torch::randn({2, 16, 64, 64});
  trained->forward_bev(bev);
  trained->eval();
  fresh->eval();

  const quant::NameMapping mapping = mmdet3d_centerpoint_names(config);
  core::write_torch_state_dict(dir.file("export.pth"),
                               quant::mapped_float_state(*trained, mapping));
  quant::load_float_state(*fresh, core::read_torch_state_dict(dir.file("export.pth")), mapping,
                          "export.pth");
  torch::NoGradGuard no_grad;
  const CenterPointOutput a = trained->forward_bev(bev), b = fresh->forward_bev(bev);
  for (size_t g = 0; g < a.size(); ++g) {
    EXPECT_TRUE(torch::equal(a[g].heatmap, b[g].heatmap)) << g;
    EXPECT_TRUE(torch::equal(a[g].regression(), b[g].regression())) << g;
  }
}

}  // namespace
}  // namespace ptqat::tasks::detection
