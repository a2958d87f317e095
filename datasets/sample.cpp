#include "datasets/sample.h"

namespace ptqat::datasets {

SampleBoxes SampleBoxes::empty() {
  SampleBoxes boxes;
  boxes.boxes = torch::zeros({0, 9}, torch::kFloat32);
  boxes.labels = torch::zeros({0}, torch::kInt64);
  boxes.attributes = torch::zeros({0}, torch::kInt64);
  boxes.num_lidar_pts = torch::zeros({0}, torch::kInt64);
  return boxes;
}

}  // namespace ptqat::datasets
