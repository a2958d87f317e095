#include "quant/quantized_export.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "core/durable_file.h"
#include "core/error.h"
#include "core/hdf5.h"

namespace ptqat::quant {

namespace {

namespace h5 = core::h5;

constexpr const char* kFormat = "ptqat quantized model v1";

std::vector<hsize_t> dims_of(const torch::Tensor& t) {
  return {t.sizes().begin(), t.sizes().end()};
}

std::vector<double> doubles_of(const torch::Tensor& t) {
  const torch::Tensor d = t.detach().to(torch::kCPU, torch::kDouble).contiguous();
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

std::vector<int64_t> int64s_of(const torch::Tensor& t) {
  const torch::Tensor d = t.detach().to(torch::kCPU, torch::kLong).contiguous();
  return {d.data_ptr<int64_t>(), d.data_ptr<int64_t>() + d.numel()};
}

/// The smallest standard integer type holding the spec's grid: 4-bit codes still take a byte,
/// as in every deployment format (packing is the runtime's business).
hid_t code_type(const QuantSpec& spec) {
  if (spec.bits <= 8) return spec.is_signed ? H5T_STD_I8LE : H5T_STD_U8LE;
  return spec.is_signed ? H5T_STD_I16LE : H5T_STD_U16LE;
}

std::vector<int64_t> spec_fields(const QuantSpec& spec) {
  return {spec.bits,        spec.symmetric, spec.is_signed,       spec.narrow_range,
          spec.per_channel, spec.axis,      spec.learnable_scale, spec.lsq_grad_scaling};
}

QuantSpec spec_from_fields(const std::vector<int64_t>& f, const std::string& where) {
  PTQAT_CHECK(f.size() == 8, DataError, "{}: expected 8 spec fields, got {}", where, f.size());
  QuantSpec spec;
  spec.bits = f[0];
  spec.symmetric = f[1] != 0;
  spec.is_signed = f[2] != 0;
  spec.narrow_range = f[3] != 0;
  spec.per_channel = f[4] != 0;
  spec.axis = f[5];
  spec.learnable_scale = f[6] != 0;
  spec.lsq_grad_scaling = f[7] != 0;
  return spec;
}

void write_quantizer(const h5::Group& group, const std::string& prefix, Quantizer& quantizer) {
  const torch::Tensor& scale = quantizer->scale();
  group.write(prefix + "_spec", spec_fields(quantizer->spec()), {8});
  group.write(prefix + "_scale", doubles_of(scale), {static_cast<hsize_t>(scale.numel())});
  group.write(prefix + "_zero_point", int64s_of(quantizer->zero_point()),
              {static_cast<hsize_t>(scale.numel())});
}

void read_quantizer(const h5::Group& group, const std::string& prefix, Quantizer& quantizer,
                    int64_t channels, const std::string& where) {
  const QuantSpec spec = spec_from_fields(group.read_int64s(prefix + "_spec"), where);
  const std::vector<double> scale = group.read_doubles(prefix + "_scale");
  const std::vector<int64_t> zero_point = group.read_int64s(prefix + "_zero_point");
  const auto expected = static_cast<size_t>(spec.per_channel ? channels : 1);
  PTQAT_CHECK(scale.size() == expected && zero_point.size() == expected, DataError,
              "{}: {} quantizer has {} scales, expected {}", where, prefix, scale.size(), expected);
  quantizer->configure(spec, ObserverKind::kMinMax, {}, static_cast<int64_t>(expected));
  quantizer->set_params(torch::tensor(scale, torch::kDouble).to(torch::kFloat),
                        torch::tensor(zero_point, torch::kLong).to(torch::kInt));
}

/// (codes - zero_point) * scale in float, broadcast along the spec's axis: the fake-quant
/// kernel's dequantization, so the result equals the fake-quantized weight bit for bit.
torch::Tensor dequantize(const torch::Tensor& codes, Quantizer& quantizer) {
  const QuantSpec& spec = quantizer->spec();
  std::vector<int64_t> shape(static_cast<size_t>(codes.dim()), 1);
  torch::Tensor scale = quantizer->scale().detach().to(torch::kFloat);
  torch::Tensor zero_point = quantizer->zero_point().to(torch::kFloat);
  if (spec.per_channel) {
    shape[static_cast<size_t>(spec.axis)] = scale.numel();
    scale = scale.reshape(shape);
    zero_point = zero_point.reshape(shape);
  }
  return (codes.to(torch::kFloat) - zero_point) * scale;
}

void export_layer(const h5::Group& group, QuantizableLayer& layer) {
  group.set_attribute("kind", layer_kind_name(layer.kind()));
  group.set_attribute("keep_float", layer.keeps_float() ? "true" : "false");
  torch::NoGradGuard no_grad;
  const torch::Tensor weight = layer.folded_weight().detach();
  if (layer.keeps_float()) {
    group.write("weight", doubles_of(weight), dims_of(weight));
  } else {
    PTQAT_CHECK(layer.weight_quantizer()->calibrated() && layer.input_quantizer()->calibrated(),
                Error, "export: layer is not calibrated");
    const torch::Tensor codes = layer.weight_quantizer()->quantize_to_integers(weight);
    group.write("weight_codes", int64s_of(codes), dims_of(codes),
                code_type(layer.weight_quantizer()->spec()));
    write_quantizer(group, "weight", layer.weight_quantizer());
    write_quantizer(group, "input", layer.input_quantizer());
    for (size_t i = 0; i < layer.attached_names().size(); ++i) {
      write_quantizer(group, layer.attached_names()[i], layer.attached_quantizer(i));
    }
  }
  const torch::Tensor bias = layer.folded_bias();
  if (bias.defined()) group.write("bias", doubles_of(bias), dims_of(bias));
}

torch::Tensor read_float(const h5::Group& group, const std::string& name, const torch::Tensor& like,
                         const std::string& where) {
  const std::vector<hsize_t> shape = group.shape(name);
  PTQAT_CHECK(std::vector<int64_t>(shape.begin(), shape.end()) == like.sizes().vec(), DataError,
              "{}: {} has shape {}, the model expects {}", where, name, fmt::join(shape, "x"),
              fmt::join(like.sizes(), "x"));
  return torch::tensor(group.read_doubles(name), torch::kDouble)
      .to(torch::kFloat)
      .reshape(like.sizes());
}

void import_layer(const h5::Group& group, QuantizableLayer& layer, const std::string& where) {
  const std::string kind = group.attribute("kind");
  PTQAT_CHECK(kind == layer_kind_name(layer.kind()), DataError,
              "{}: layer kind is {}, the model has {}", where, kind, layer_kind_name(layer.kind()));
  torch::NoGradGuard no_grad;
  const torch::Tensor model_weight = layer.folded_weight();
  const bool keep_float = group.attribute("keep_float") == "true";
  torch::Tensor weight;
  if (keep_float) {
    weight = read_float(group, "weight", model_weight, where);
  } else {
    const std::vector<hsize_t> shape = group.shape("weight_codes");
    PTQAT_CHECK(std::vector<int64_t>(shape.begin(), shape.end()) == model_weight.sizes().vec(),
                DataError, "{}: weight_codes have shape {}, the model expects {}", where,
                fmt::join(shape, "x"), fmt::join(model_weight.sizes(), "x"));
    read_quantizer(group, "weight", layer.weight_quantizer(),
                   model_weight.size(layer.weight_axis()), where);
    read_quantizer(group, "input", layer.input_quantizer(), 1, where);
    for (size_t i = 0; i < layer.attached_names().size(); ++i) {
      read_quantizer(group, layer.attached_names()[i], layer.attached_quantizer(i), 1, where);
    }
    const torch::Tensor codes = torch::tensor(group.read_int64s("weight_codes"), torch::kLong)
                                    .reshape(model_weight.sizes());
    weight = dequantize(codes, layer.weight_quantizer());
  }
  torch::Tensor bias;
  if (group.exists("bias")) {
    const torch::Tensor model_bias = layer.folded_bias();
    PTQAT_CHECK(model_bias.defined(), DataError, "{}: has a bias, the model's layer has none",
                where);
    bias = read_float(group, "bias", model_bias, where);
  }
  layer.set_keep_float(keep_float);
  const torch::Device device = model_weight.device();
  layer.freeze_with(weight.to(device), bias.defined() ? bias.to(device) : bias);
}

}  // namespace

void export_quantized(const std::vector<NamedLayer>& layers, const std::string& path) {
  std::string image;
  {
    // In memory, then written by ptqat (Note [h5 in memory] in core/hdf5.h).
    const h5::File file = h5::File::create_in_memory(path);
    file.set_attribute("format", kFormat);
    const h5::Group group = file.create_group("layers");
    for (const NamedLayer& entry : layers) {
      try {
        export_layer(group.create_group(entry.name), *entry.layer);
      } catch (const Error& error) {
        throw Error(fmt::format("{}: layer '{}': {}", path, entry.name, error.what()));
      }
    }
    image = file.image();
  }
  core::write_file_durably(path, image);
}

void import_quantized(const std::vector<NamedLayer>& layers, const std::string& path) {
  const h5::File file = h5::File::open_read_only(path);
  PTQAT_CHECK(file.attribute("format") == kFormat, DataError,
              "{}: not a ptqat quantized model (format '{}', expected '{}')", path,
              file.attribute("format"), kFormat);
  const h5::Group group = file.open_group("layers");
  for (const NamedLayer& entry : layers) {
    const std::string where = fmt::format("{}: layer '{}'", path, entry.name);
    PTQAT_CHECK(group.exists(entry.name), DataError, "{}: missing from the file", where);
    import_layer(group.open_group(entry.name), *entry.layer, where);
  }
}

}  // namespace ptqat::quant
