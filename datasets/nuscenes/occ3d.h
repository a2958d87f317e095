#pragma once
// Occ3D-nuScenes occupancy labels (`gts/<scene_name>/<sample_token>/labels.npz`, CVPR 2023
// occupancy challenge; docs/nuscenes.md section 8): a 200 x 200 x 16 grid of 0.4 m voxels over
// [-40, -40, -1, 40, 40, 5.4] m in the keyframe's ego frame, indexed [ix, iy, iz].

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace ptqat::datasets {

constexpr int64_t kOccGridX = 200;
constexpr int64_t kOccGridY = 200;
constexpr int64_t kOccGridZ = 16;
/// Class id of empty space; 0..16 are the occupied classes (0 = others).
constexpr int kOccFreeClass = 17;

/// The three arrays of one Occ3D labels.npz.
struct Occ3dLabels {
  torch::Tensor semantics;    ///< [200, 200, 16] uint8, class ids 0..17 (17 = free)
  torch::Tensor mask_lidar;   ///< [200, 200, 16] bool; false = unobserved by the accumulated LiDAR
  torch::Tensor mask_camera;  ///< [200, 200, 16] bool; false = not visible from the cameras
};

/// Reads a labels.npz (keys semantics, mask_lidar, mask_camera). Semantics must be uint8
/// ('|u1'); the masks may be uint8 or bool and come back as bool, nonzero meaning true, as the
/// challenge code's `.astype(bool)` does. Throws IoError when the file cannot be opened,
/// DataError naming the file and key for a missing key, a wrong dtype or shape, or a class id
/// above 17.
Occ3dLabels read_occ3d_labels(const std::string& path);

/// Writes a labels.npz as real Occ3D files are: all three arrays uint8, deflated when
/// `compress`, byte-identical for the same input. Masks may be bool or uint8 (any device).
/// Throws IoError when the file cannot be written; tensors of another shape or dtype are a bug
/// in the caller (InternalError).
void write_occ3d_labels(const std::string& path, const Occ3dLabels& labels, bool compress);

}  // namespace ptqat::datasets
