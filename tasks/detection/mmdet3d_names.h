#pragma once
// mmdetection3d's names for CenterPoint-PointPillars, so its published nuScenes checkpoints
// (centerpoint_pillar02_second_secfpn_*_nus) load into ptqat's model and fine-tuned weights go
// back: PillarFeatureNet `pts_voxel_encoder.pfn_layers.{i}.{linear,norm}`, SECOND
// `pts_backbone.blocks.{s}.{3j,3j+1}` (conv, BN), SECONDFPN `pts_neck.deblocks.{s}.{0,1}`,
// CenterHead `pts_bbox_head.shared_conv.{conv,bn}` and
// `pts_bbox_head.task_heads.{g}.{reg,height,dim,rot,vel,heatmap}.{0.conv,0.bn,1}`.

#include "quant/state_dict_mapping.h"
#include "tasks/detection/detection_model_config.h"

namespace ptqat::tasks::detection {

/// The mapping from ptqat's names to mmdetection3d's for a CenterPoint model of `config`.
/// ConfigError for a model mmdetection3d's CenterPoint does not have (the Transformer encoder).
/// Shapes follow from the config: the full preset (configs/detection/full.toml) is
/// centerpoint_pillar02_second_secfpn's layout.
quant::NameMapping mmdet3d_centerpoint_names(const DetectionModelConfig& config);

}  // namespace ptqat::tasks::detection
