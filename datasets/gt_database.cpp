#include "datasets/gt_database.h"

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/hdf5.h"

namespace ptqat::datasets {

torch::Tensor points_in_box(const torch::Tensor& points, const std::array<double, 9>& box) {
  const torch::Tensor x = points.select(1, 0) - box[0];
  const torch::Tensor y = points.select(1, 1) - box[1];
  const torch::Tensor z = points.select(1, 2) - box[2];
  // Into the box frame: rotate by -yaw; x' runs along the heading (length), y' across (width).
  const double c = std::cos(box[6]), s = std::sin(box[6]);
  const torch::Tensor along = x * c + y * s;
  const torch::Tensor across = -x * s + y * c;
  return (along.abs() <= box[4] / 2) & (across.abs() <= box[3] / 2) & (z.abs() <= box[5] / 2);
}

GroundTruthDatabase build_gt_database(const NuScenesDataset& dataset, int64_t min_points) {
  GroundTruthDatabase database;
  database.frame = dataset.config().frame;
  database.nsweeps = dataset.config().nsweeps;
  std::vector<torch::Tensor> points, labels;
  int64_t total = 0;
  for (int64_t i = 0; i < dataset.size(); ++i) {
    const Sample sample = dataset.get(i);
    torch::Tensor sample_labels = torch::full({sample.points.size(0)}, -1, torch::kInt64);
    if (sample.point_labels.defined()) sample_labels.slice(0, 0, sample.keyframe_points).copy_(sample.point_labels);
    const auto boxes = sample.boxes.boxes.accessor<float, 2>();
    for (int64_t b = 0; b < sample.boxes.size(); ++b) {
      GtObject object;
      for (int k = 0; k < 9; ++k) object.box[static_cast<size_t>(k)] = boxes[b][k];
      const torch::Tensor inside = points_in_box(sample.points, object.box);
      const int64_t count = inside.sum().item<int64_t>();
      if (count < min_points) continue;
      torch::Tensor own = sample.points.index({inside}).clone();
      own.select(1, 0) -= static_cast<float>(object.box[0]);
      own.select(1, 1) -= static_cast<float>(object.box[1]);
      own.select(1, 2) -= static_cast<float>(object.box[2]);
      object.label = sample.boxes.labels[b].item<int64_t>();
      object.attribute = sample.boxes.attributes[b].item<int64_t>();
      object.first_point = total;
      object.num_points = count;
      object.sample_token = sample.token;
      total += count;
      points.push_back(own);
      labels.push_back(sample_labels.index({inside}));
      database.by_class[static_cast<size_t>(object.label)].push_back(
          static_cast<int64_t>(database.objects.size()));
      database.objects.push_back(std::move(object));
    }
  }
  database.points = points.empty() ? torch::zeros({0, 5}) : torch::cat(points);
  database.point_labels = labels.empty() ? torch::zeros({0}, torch::kInt64) : torch::cat(labels);
  return database;
}

void write_gt_database(const GroundTruthDatabase& database, const std::string& path) {
  const std::string temporary = path + ".tmp";
  {
    const core::h5::File file = core::h5::File::create(temporary);
    file.set_attribute("frame", database.frame);
    file.write_scalar("nsweeps", database.nsweeps);
    const torch::Tensor points = database.points.contiguous();
    file.write("points", std::vector<float>(points.data_ptr<float>(), points.data_ptr<float>() + points.numel()),
               {static_cast<hsize_t>(points.size(0)), 5});
    const torch::Tensor labels = database.point_labels.contiguous();
    file.write("point_labels",
               std::vector<int64_t>(labels.data_ptr<int64_t>(), labels.data_ptr<int64_t>() + labels.numel()),
               {static_cast<hsize_t>(labels.numel())}, H5T_STD_I8LE);
    const core::h5::Group objects = file.create_group("objects");
    std::vector<int64_t> label, attribute, first, count;
    std::vector<double> boxes;
    std::vector<std::string> tokens;
    for (const GtObject& object : database.objects) {
      label.push_back(object.label);
      attribute.push_back(object.attribute);
      first.push_back(object.first_point);
      count.push_back(object.num_points);
      boxes.insert(boxes.end(), object.box.begin(), object.box.end());
      tokens.push_back(object.sample_token);
    }
    const auto n = static_cast<hsize_t>(database.objects.size());
    objects.write("label", label, {n});
    objects.write("attribute", attribute, {n});
    objects.write("first_point", first, {n});
    objects.write("num_points", count, {n});
    objects.write("box", boxes, {n, 9});
    objects.write_strings("sample_token", tokens);
    file.flush();
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  PTQAT_CHECK(!error, IoError, "{}: cannot move the written database into place: {}", path, error.message());
}

GroundTruthDatabase read_gt_database(const std::string& path) {
  PTQAT_CHECK(std::filesystem::is_regular_file(path), IoError,
              "{}: no ground-truth database (build it with `ptqat data gtdb`)", path);
  const core::h5::File file = core::h5::File::open_read_only(path);
  GroundTruthDatabase database;
  database.frame = file.attribute("frame");
  database.nsweeps = file.read_int64("nsweeps");
  const std::vector<float> points = file.read_floats("points");
  PTQAT_CHECK(points.size() % 5 == 0, DataError, "{}: points: expected 5 columns", path);
  database.points = torch::from_blob(const_cast<float*>(points.data()),
                                     {static_cast<int64_t>(points.size() / 5), 5}, torch::kFloat32)
                        .clone();
  const std::vector<int64_t> labels = file.read_int64s("point_labels");
  database.point_labels = torch::tensor(labels, torch::kInt64);
  PTQAT_CHECK(database.point_labels.numel() == database.points.size(0), DataError,
              "{}: expected one point label per point, got {} labels for {} points", path,
              database.point_labels.numel(), database.points.size(0));
  const core::h5::Group objects = file.open_group("objects");
  const std::vector<int64_t> label = objects.read_int64s("label"), attribute = objects.read_int64s("attribute"),
                             first = objects.read_int64s("first_point"), count = objects.read_int64s("num_points");
  const std::vector<double> boxes = objects.read_doubles("box");
  const std::vector<std::string> tokens = objects.read_strings("sample_token");
  const size_t n = label.size();
  PTQAT_CHECK(attribute.size() == n && first.size() == n && count.size() == n && boxes.size() == 9 * n &&
                  tokens.size() == n,
              DataError, "{}: objects: expected {} rows in every column", path, n);
  for (size_t i = 0; i < n; ++i) {
    GtObject object;
    object.label = label[i];
    object.attribute = attribute[i];
    object.first_point = first[i];
    object.num_points = count[i];
    object.sample_token = tokens[i];
    std::copy(boxes.begin() + static_cast<std::ptrdiff_t>(9 * i), boxes.begin() + static_cast<std::ptrdiff_t>(9 * i + 9),
              object.box.begin());
    PTQAT_CHECK(object.label >= 0 && object.label < kNumDetectionClasses && object.first_point >= 0 &&
                    object.num_points > 0 && object.first_point + object.num_points <= database.points.size(0),
                DataError, "{}: object {} (sample {}): expected a class in 0..9 and points inside the table",
                path, i, object.sample_token);
    database.by_class[static_cast<size_t>(object.label)].push_back(static_cast<int64_t>(i));
    database.objects.push_back(std::move(object));
  }
  return database;
}

}  // namespace ptqat::datasets
