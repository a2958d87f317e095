// ptqat import --config F --torch CKPT.pth [--mapping none|mmdet3d|FILE.json]
// ptqat export --checkpoint CKPT [--torch OUT.pth [--mapping M]] [--quantized OUT.h5]

#include <memory>

#include "runner/commands/command.h"
#include "runner/torch_interop.h"

namespace ptqat::runner {

void add_import_command(CLI::App& app, CommandTable& table) {
  auto options = std::make_shared<TorchImportOptions>();
  CLI::App* import = app.add_subcommand(
      "import", "a PyTorch checkpoint's weights as the config's float model (then quantize it)");
  import->add_option("config,--config", options->config_file, "TOML run config")->required();
  import->add_option("--set", options->overrides, "override a key (repeatable)");
  auto force = std::make_shared<bool>(false);
  add_force_flag(*import, *force);
  import->add_option("--torch", options->torch_file, "the torch.save'd checkpoint")->required();
  import
      ->add_option("--mapping", options->mapping,
                   "names: none (ptqat's), mmdet3d (CenterPoint), or a JSON {ptqat: theirs}")
      ->capture_default_str();
  table.push_back({import, [options, force](std::ostream& out) {
                     auto forced = *options;
                     forced.overrides = with_force(options->overrides, *force);
                     run_torch_import(forced, out);
                   }});
}

void add_export_command(CLI::App& app, CommandTable& table) {
  auto options = std::make_shared<TorchExportOptions>();
  CLI::App* export_command = app.add_subcommand(
      "export", "a stage's float weights as a PyTorch file, its quantized layers as HDF5");
  export_command->add_option("--checkpoint", options->checkpoint, "a stage's .pt")->required();
  export_command->add_option("--set", options->overrides, "override a key (repeatable)");
  export_command->add_option("--torch", options->torch_file, "write the float weights here");
  export_command
      ->add_option("--mapping", options->mapping,
                   "names: none (ptqat's), mmdet3d (CenterPoint), or a JSON {ptqat: theirs}")
      ->capture_default_str();
  export_command->add_option("--quantized", options->quantized_file,
                             "write integer weights, scales and zero points here (HDF5)");
  table.push_back(
      {export_command, [options](std::ostream& out) { run_torch_export(*options, out); }});
}

}  // namespace ptqat::runner
