#include "datasets/synth/synth_dataset.h"

#include <png.h>

#include <atomic>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/error.h"
#include "core/resources.h"
#include "datasets/geometry.h"
#include "datasets/nuscenes/binary_file.h"
#include "datasets/nuscenes/categories.h"
#include "datasets/nuscenes/lidarseg_file.h"
#include "datasets/nuscenes/nuscenes_tables.h"
#include "datasets/nuscenes/occ3d.h"
#include "datasets/nuscenes/point_cloud_file.h"
#include "datasets/synth/synth_lidar.h"
#include "datasets/synth/synth_occupancy.h"
#include "datasets/synth/synth_world.h"

namespace ptqat::datasets {

namespace {

// LIDAR_TOP mounting of a nuScenes car (calibrated_sensor of the real dataset, rounded).
constexpr Vec3 kLidarTranslation = {0.943713, 0.0, 1.84023};
constexpr Quat kLidarRotation = {0.7077955119163518, -0.006492242056004365, 0.010646214713995808,
                                 -0.7063073142877817};
constexpr int64_t kSweepsPerKeyframe = 10;  // LiDAR at 20 Hz, keyframes at 2 Hz
constexpr int64_t kSweepIntervalUs = 50'000;
constexpr int64_t kFirstTimestampUs = 1'533'151'603'547'590;
constexpr double kAnnotationRange = 70.0;  // metres from the ego; nuScenes annotates ~this far
// Sweeps whose rays are traversed for Occ3D's mask_lidar: the keyframe and the ones before it.
constexpr int64_t kOccupancySweeps = 5;
const char* const kLocations[] = {"boston-seaport", "singapore-onenorth", "singapore-queenstown",
                                  "singapore-hollandvillage"};

uint64_t split_mix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Random-looking, reproducible 128-bit tokens: one stream per (seed, scene).
class TokenSource {
 public:
  TokenSource(uint64_t seed, uint64_t stream) : state_(seed * 0x2545F4914F6CDD1DULL ^ stream) {}
  Token next() {
    Token token{split_mix(state_), split_mix(state_)};
    return token.is_null() ? next() : token;
  }

 private:
  uint64_t state_;
};

Quat yaw_quat(double yaw) { return {std::cos(yaw / 2), 0.0, 0.0, std::sin(yaw / 2)}; }
Vec3 vec(const Eigen::Vector3d& v) { return {v.x(), v.y(), v.z()}; }

/// nuScenes visibility levels from how much of the object the LiDAR saw (a stand-in for the
/// camera-based annotation: 1 = 0-40 % ... 4 = 80-100 %).
std::string visibility_of(int64_t points) {
  if (points == 0) return "1";
  if (points < 10) return "2";
  if (points < 50) return "3";
  return "4";
}

/// Without simulated LiDAR (--tables-only): points a box of this size would get at this range,
/// a density fitted to what the ray caster gives (an estimate, never used with sensor files).
int64_t estimated_points(const Eigen::Vector3d& wlh, double distance) {
  if (distance > kAnnotationRange) return 0;
  const double area = 0.5 * (wlh.x() + wlh.y()) * wlh.z();
  return static_cast<int64_t>(
      std::lround(std::min(4000.0, 1500.0 * area / std::max(1.0, distance * distance))));
}

/// Writes a small semantic-prior mask: the devkit requires every map.json file to exist.
/// libpng's simplified API writes no timestamp, so the file is reproducible.
void write_map_png(const std::string& path) {
  constexpr int kSize = 64;
  std::vector<uint8_t> pixels(kSize * kSize, 0);
  for (int y = 24; y < 40; ++y) std::fill_n(pixels.begin() + y * kSize, kSize, 255);  // a road
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = kSize;
  image.height = kSize;
  image.format = PNG_FORMAT_GRAY;
  create_parent_folders(path);
  PTQAT_CHECK(png_image_write_to_file(&image, path.c_str(), 0, pixels.data(), 0, nullptr) != 0,
              IoError, "{}: cannot write map PNG: {}", path, image.message);
}

template <class Record>
void append(std::vector<Record>& into, std::vector<Record>& from) {
  into.insert(into.end(), std::make_move_iterator(from.begin()),
              std::make_move_iterator(from.end()));
}

/// What every scene shares: options and the records of the common tables.
struct SceneSpec {
  uint64_t seed = 0;
  int64_t samples_per_scene = 0;
  bool sensors = true;
  std::string version, out;
  Token sensor_token;
  std::map<std::string, Token> category_token, attribute_token;

  double duration() const { return 0.5 * static_cast<double>(samples_per_scene - 1); }
};

/// Where each object's annotations stand while a scene is generated.
struct ObjectTracks {
  std::map<size_t, size_t> last_annotation;  // object -> row of its latest annotation
  std::map<size_t, size_t> instance_row;     // object -> instance row
};

/// A LiDAR sweep kept for Occ3D's mask_lidar.
struct Sweep {
  torch::Tensor points_sensor;
  RigidTransform sensor_to_global;
};

/// Annotates the objects of `scene` in annotation range at keyframe `time` (sample
/// `sample_token`, LiDAR `points` in the sensor frame), chaining each object's annotations and
/// its instance.
void annotate_objects(const SynthScene& scene, const SceneSpec& spec, double time,
                      const torch::Tensor& points, const RigidTransform& sensor_to_global,
                      const Token& sample_token, TokenSource& tokens, ObjectTracks& tracks,
                      Tables& t) {
  const RigidTransform global_to_sensor = sensor_to_global.inverse();
  for (size_t o = 0; o < scene.objects.size(); ++o) {
    const SynthObject& object = scene.objects[o];
    if (!object.alive_at(time)) continue;
    const SynthBox box = object.box_at(time);
    const double distance = (box.center - scene.ego_translation(time)).head<2>().norm();
    if (distance > kAnnotationRange) continue;
    SampleAnnotationRecord ann;
    ann.token = tokens.next();
    ann.sample_token = sample_token;
    ann.translation = vec(box.center);
    ann.size = vec(box.wlh);
    ann.rotation = yaw_quat(box.yaw);
    if (!object.attribute.empty())
      ann.attribute_tokens = {spec.attribute_token.at(object.attribute)};
    if (spec.sensors) {
      // num_lidar_pts as nuScenes defines it: the keyframe's final points inside the box
      // (devkit points_in_box), with the box moved into the sensor frame as the reader does.
      const Eigen::Vector3d centre = global_to_sensor.apply(
          Eigen::Vector3d(ann.translation[0], ann.translation[1], ann.translation[2]));
      const Eigen::Quaterniond rotation = global_to_sensor.rotation * to_eigen(ann.rotation);
      ann.num_lidar_pts = points_in_box(points, centre, box.wlh, rotation).sum().item<int64_t>();
    } else {
      ann.num_lidar_pts = estimated_points(box.wlh, distance);
    }
    ann.visibility_token = visibility_of(ann.num_lidar_pts);

    const auto previous = tracks.last_annotation.find(o);
    if (previous == tracks.last_annotation.end()) {
      InstanceRecord instance;
      instance.token = tokens.next();
      instance.category_token = spec.category_token.at(object.category);
      instance.first_annotation_token = ann.token;
      tracks.instance_row[o] = t.instance.size();
      t.instance.push_back(instance);
    } else {
      t.sample_annotation[previous->second].next_token = ann.token;
      ann.prev_token = t.sample_annotation[previous->second].token;
    }
    InstanceRecord& instance = t.instance[tracks.instance_row[o]];
    ann.instance_token = instance.token;
    instance.last_annotation_token = ann.token;
    ++instance.nbr_annotations;
    tracks.last_annotation[o] = t.sample_annotation.size();
    t.sample_annotation.push_back(ann);
  }
}

/// Writes keyframe `time`'s lidarseg labels (of sample_data `data_token`) and its Occ3D grid in
/// the keyframe's ego frame, where the rays of the `recent` sweeps mark mask_lidar.
void write_keyframe_labels(const SynthScene& scene, const SceneSpec& spec, double time,
                           const Token& data_token, const Token& sample_token,
                           const torch::Tensor& labels, const RigidTransform& ego_to_global,
                           const std::vector<Sweep>& recent, Tables& t) {
  const std::string seg_file =
      "lidarseg/" + spec.version + "/" + data_token.hex() + "_lidarseg.bin";
  write_lidarseg_labels(spec.out + "/" + seg_file, labels);
  t.lidarseg.push_back({data_token, data_token, seg_file});

  // Occ3D lives in the keyframe's ego frame; rays of the latest sweeps mark mask_lidar.
  const RigidTransform global_to_ego = ego_to_global.inverse();
  std::vector<torch::Tensor> endpoints;
  std::vector<Eigen::Vector3d> origins;
  for (const Sweep& sweep : recent) {
    const RigidTransform to_ego = global_to_ego * sweep.sensor_to_global;
    endpoints.push_back(transform_points(sweep.points_sensor, to_ego));
    origins.push_back(to_ego.translation);
  }
  const Occ3dLabels occupancy = make_occupancy(scene, time, endpoints, origins);
  write_occ3d_labels(spec.out + "/gts/" + scene.name + "/" + sample_token.hex() + "/labels.npz",
                     occupancy,
                     /*compress=*/true);
}

/// Writes scene `s`'s sensor files and returns its records (log, calibrated_sensor, scene,
/// samples, sample_data, ego poses, instances, annotations, lidarseg). Depends only on (spec, s),
/// so scenes can be generated in any order and on any thread.
Tables generate_scene(int64_t s, const SceneSpec& spec) {
  Tables t;
  TokenSource tokens(spec.seed, static_cast<uint64_t>(s) + 1);
  const SynthScene scene = make_synth_scene(s, spec.seed, spec.duration());
  const int64_t scene_start = kFirstTimestampUs + s * 3'600'000'000LL;  // an hour apart

  LogRecord log{tokens.next(), fmt::format("n{:03d}-synth-{:04d}", s % 1000, s), "n015-synth",
                "2018-08-01", scene.location};
  t.log.push_back(log);
  CalibratedSensorRecord calibration{
      tokens.next(), spec.sensor_token, kLidarTranslation, kLidarRotation, {}};
  t.calibrated_sensor.push_back(calibration);
  const RigidTransform sensor_to_ego = RigidTransform::from(kLidarRotation, kLidarTranslation);

  SceneRecord scene_record;
  scene_record.token = tokens.next();
  scene_record.name = scene.name;
  scene_record.description = "synthetic " + scene.location + " road scene";
  scene_record.log_token = log.token;
  scene_record.nbr_samples = spec.samples_per_scene;

  std::vector<Token> sample_tokens(spec.samples_per_scene);
  for (auto& token : sample_tokens) token = tokens.next();
  scene_record.first_sample_token = sample_tokens.front();
  scene_record.last_sample_token = sample_tokens.back();
  t.scene.push_back(scene_record);

  ObjectTracks tracks;
  std::vector<Sweep> recent;  // the latest sweeps, for Occ3D's mask_lidar
  Token previous_data;
  for (int64_t k = 0; k < spec.samples_per_scene; ++k) {
    const int64_t sweeps = k + 1 < spec.samples_per_scene ? kSweepsPerKeyframe : 1;
    for (int64_t w = 0; w < sweeps; ++w) {
      const int64_t timestamp = scene_start + k * 500'000 + w * kSweepIntervalUs;
      const double time = 1e-6 * static_cast<double>(timestamp - scene_start);
      const bool keyframe = w == 0;
      EgoPoseRecord pose{tokens.next(), vec(scene.ego_translation(time)),
                         yaw_quat(scene.ego_yaw(time)), timestamp};
      t.ego_pose.push_back(pose);
      // The same doubles the reader will use: built from the record values.
      const RigidTransform ego_to_global = RigidTransform::from(pose.rotation, pose.translation);
      const RigidTransform sensor_to_global = ego_to_global * sensor_to_ego;

      SampleDataRecord data;
      data.token = tokens.next();
      data.sample_token =
          sample_tokens[keyframe ? k : k + 1];  // sweeps belong to the next keyframe
      data.ego_pose_token = pose.token;
      data.calibrated_sensor_token = calibration.token;
      data.timestamp = timestamp;
      data.is_key_frame = keyframe;
      data.fileformat = "pcd";
      data.filename = fmt::format("{}/LIDAR_TOP/{}__LIDAR_TOP__{}.pcd.bin",
                                  keyframe ? "samples" : "sweeps", log.logfile, timestamp);
      data.prev_token = previous_data;
      if (!t.sample_data.empty() && !previous_data.is_null()) {
        t.sample_data.back().next_token = data.token;
      }
      previous_data = data.token;

      torch::Tensor points;
      torch::Tensor labels;
      if (spec.sensors) {
        uint64_t noise_state = spec.seed ^ (static_cast<uint64_t>(s) << 32) ^
                               static_cast<uint64_t>(t.sample_data.size());
        std::mt19937_64 rng(split_mix(noise_state));
        LidarScan scan = cast_lidar(scene, time, sensor_to_global, LidarModel{}, rng);
        points = scan.points;
        labels = scan.labels;
        write_lidar_points(spec.out + "/" + data.filename, points);
        recent.push_back({points, sensor_to_global});
        if (static_cast<int64_t>(recent.size()) > kOccupancySweeps) recent.erase(recent.begin());
      }
      t.sample_data.push_back(data);
      if (!keyframe) continue;

      SampleRecord sample;
      sample.token = sample_tokens[k];
      sample.timestamp = timestamp;
      sample.scene_token = scene_record.token;
      sample.prev_token = k > 0 ? sample_tokens[k - 1] : Token{};
      sample.next_token = k + 1 < spec.samples_per_scene ? sample_tokens[k + 1] : Token{};
      t.sample.push_back(sample);

      annotate_objects(scene, spec, time, points, sensor_to_global, sample.token, tokens, tracks,
                       t);
      if (spec.sensors) {
        write_keyframe_labels(scene, spec, time, data.token, sample.token, labels, ego_to_global,
                              recent, t);
      }
    }
  }
  return t;
}

}  // namespace

SynthOptions resolve_synth_options(SynthOptions options) {
  struct Preset {
    int64_t scenes, samples, val, select;
  };
  Preset preset{};
  if (options.preset == "tiny") {
    preset = {3, 8, 1, 0};  // no selection split: the tests keep two training scenes
  } else if (options.preset == "demo") {
    // 8 training scenes, and 6 reported ones (240 keyframes) so that seeds resolve the effects
    // of the paper's tables (docs/results-demo.md gives the measured spread).
    preset = {16, 40, 6, 2};
  } else if (options.preset == "trainval") {
    preset = {850, 40, 150, 35};  // v1.0-trainval's 700 / 150, the selection scenes from train
  } else {
    PTQAT_FAIL(ConfigError, "--preset: expected one of tiny, demo, trainval, got \"{}\"",
               options.preset);
  }
  // -1, the default, is the preset's count; any other value is checked below (-5 was taken as
  // "the preset's").
  const bool preset_scenes = options.scenes == -1;
  if (preset_scenes) options.scenes = preset.scenes;
  if (options.samples_per_scene == -1) options.samples_per_scene = preset.samples;
  PTQAT_CHECK(options.scenes >= 1 && options.scenes <= 9999, ConfigError,
              "--scenes: expected a number of scenes in [1, 9999], got {}", options.scenes);
  PTQAT_CHECK(options.samples_per_scene >= 2 && options.samples_per_scene <= 1000, ConfigError,
              "--samples: expected keyframes per scene in [2, 1000], got {}",
              options.samples_per_scene);
  const auto share = [&](double fraction, int64_t minimum_scenes) -> int64_t {
    if (options.scenes < minimum_scenes) return 0;
    return std::max<int64_t>(1, std::lround(fraction * static_cast<double>(options.scenes)));
  };
  if (options.val_scenes == -1) options.val_scenes = preset_scenes ? preset.val : share(0.15, 2);
  if (options.select_scenes == -1) {
    options.select_scenes = preset_scenes ? preset.select : share(0.05, 4);
  }
  // One scene is both the training and the reported split (a smoke test's dataset).
  const int64_t held_out = options.scenes == 1 ? 0 : options.val_scenes + options.select_scenes;
  PTQAT_CHECK(options.val_scenes >= 0 && options.select_scenes >= 0 && held_out < options.scenes,
              ConfigError,
              "--val-scenes {} and --select-scenes {}: expected counts >= 0 that leave at least "
              "one of the {} scenes for synth_train",
              options.val_scenes, options.select_scenes, options.scenes);
  PTQAT_CHECK(options.scenes == 1 || options.val_scenes >= 1, ConfigError,
              "--val-scenes: expected at least 1 scene for synth_val, got 0");
  return options;
}

SynthSummary write_synth_dataset(const SynthOptions& requested, const std::string& out) {
  const SynthOptions options = resolve_synth_options(requested);
  const core::Stopwatch stopwatch;
  std::error_code error;
  std::filesystem::create_directories(out, error);
  PTQAT_CHECK(!error, IoError, "{}: cannot create the output folder: {}", out, error.message());

  const bool sensors = !options.tables_only;
  Tables t;
  t.has_lidarseg = sensors;
  TokenSource global_tokens(options.seed, 0);
  for (size_t i = 0; i < kStandardCategoryNames.size(); ++i) {
    const std::string name(kStandardCategoryNames[i]);
    t.category.push_back({global_tokens.next(), name, "synthetic " + name, static_cast<int>(i)});
  }
  std::map<std::string, Token> category_token, attribute_token;
  for (const auto& c : t.category) category_token[c.name] = c.token;
  for (const auto name : kAttributeNames) {
    t.attribute.push_back(
        {global_tokens.next(), std::string(name), "synthetic " + std::string(name)});
    attribute_token[std::string(name)] = t.attribute.back().token;
  }
  const char* levels[] = {"v0-40", "v40-60", "v60-80", "v80-100"};
  for (int v = 0; v < 4; ++v) {
    t.visibility.push_back(
        {std::to_string(v + 1), levels[v], std::string("visibility ") + levels[v]});
  }
  t.sensor.push_back({global_tokens.next(), "LIDAR_TOP", "lidar"});
  std::map<std::string, MapRecord> maps;
  for (const char* location : kLocations) {
    MapRecord map{global_tokens.next(), "semantic_prior", "", {}};
    map.filename = "maps/" + map.token.hex() + ".png";
    maps[location] = map;
  }

  SceneSpec spec;
  spec.seed = options.seed;
  spec.samples_per_scene = options.samples_per_scene;
  spec.sensors = sensors;
  spec.version = options.version;
  spec.out = out;
  spec.sensor_token = t.sensor[0].token;
  spec.category_token = category_token;
  spec.attribute_token = attribute_token;

  // Scenes are independent: generate them on every core, then merge in scene order, so the
  // output does not depend on the number of threads.
  std::vector<Tables> parts(static_cast<size_t>(options.scenes));
  std::vector<std::exception_ptr> errors(parts.size());
  std::atomic<int64_t> next_scene{0};
  auto work = [&] {
    for (int64_t s; (s = next_scene++) < options.scenes;) {
      try {
        parts[s] = generate_scene(s, spec);
      } catch (...) {
        errors[s] = std::current_exception();
      }
    }
  };
  const unsigned threads = std::max(1u, std::min<unsigned>(std::thread::hardware_concurrency(),
                                                           static_cast<unsigned>(options.scenes)));
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < threads; ++i) pool.emplace_back(work);
  for (auto& thread : pool) thread.join();
  for (const auto& thrown : errors) {
    if (thrown) std::rethrow_exception(thrown);
  }

  std::vector<std::string> scene_names;
  for (Tables& part : parts) {
    scene_names.push_back(part.scene[0].name);
    maps[part.log[0].location].log_tokens.push_back(part.log[0].token);
    append(t.log, part.log);
    append(t.calibrated_sensor, part.calibrated_sensor);
    append(t.scene, part.scene);
    append(t.sample, part.sample);
    append(t.sample_data, part.sample_data);
    append(t.ego_pose, part.ego_pose);
    append(t.instance, part.instance);
    append(t.sample_annotation, part.sample_annotation);
    append(t.lidarseg, part.lidarseg);
    part = Tables{};
  }

  for (const char* location : kLocations) {
    MapRecord& map = maps[location];
    if (map.log_tokens.empty()) continue;
    write_map_png(out + "/" + map.filename);
    t.map.push_back(map);
  }
  const std::string version_dir = out + "/" + options.version;
  write_tables(t, version_dir);

  // Custom splits, read by the devkit's rule for names that are not official splits: training
  // scenes first, then the held-out selection scenes, then the reported ones.
  nlohmann::ordered_json splits;
  const auto val_begin = scene_names.end() - (options.scenes == 1 ? 0 : options.val_scenes);
  const auto select_begin = val_begin - (options.scenes == 1 ? 0 : options.select_scenes);
  splits["synth_train"] = std::vector<std::string>(scene_names.begin(), select_begin);
  if (select_begin != val_begin) {
    splits["synth_select"] = std::vector<std::string>(select_begin, val_begin);
  }
  splits["synth_val"] = options.scenes == 1
                            ? scene_names  // one scene: it is both splits
                            : std::vector<std::string>(val_begin, scene_names.end());
  std::ofstream(version_dir + "/splits.json") << splits.dump(1) << "\n";

  SynthSummary summary;
  summary.scenes = options.scenes;
  summary.samples = static_cast<int64_t>(t.sample.size());
  summary.sample_data = static_cast<int64_t>(t.sample_data.size());
  summary.annotations = static_cast<int64_t>(t.sample_annotation.size());
  summary.seconds = stopwatch.seconds();
  return summary;
}

}  // namespace ptqat::datasets
